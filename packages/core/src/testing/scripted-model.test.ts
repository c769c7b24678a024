import { describe, expect, it } from 'vitest'
import type { ChatMessage, ModelDelta } from '../model.js'
import { InvalidDefinitionError, UnscriptedCallError } from '../errors.js'
import { ScriptedModel } from './scripted-model.js'

const messages: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi' },
]

async function collect(stream: AsyncIterable<ModelDelta>): Promise<ModelDelta[]> {
  const deltas: ModelDelta[] = []
  for await (const delta of stream) deltas.push(delta)
  return deltas
}

describe('ScriptedModel', () => {
  it('replays scripted outputs in order and records the calls', async () => {
    const model = new ScriptedModel([
      'one',
      { text: 'two', usage: { inputTokens: 5, outputTokens: 1 }, raw: { id: 2 } },
    ])
    expect(model.id).toBe('scripted')
    expect(model.stream).toBeUndefined()
    expect(await model.generate(messages)).toEqual({
      text: 'one',
      usage: { inputTokens: 0, outputTokens: 0 },
    })
    expect(await model.generate(messages, { stop: ['x'] })).toEqual({
      text: 'two',
      usage: { inputTokens: 5, outputTokens: 1 },
      raw: { id: 2 },
    })
    expect(model.calls).toEqual([
      { method: 'generate', messages, options: {} },
      { method: 'generate', messages, options: { stop: ['x'] } },
    ])
  })

  it('keeps a copy of the messages, not the caller array', async () => {
    const model = new ScriptedModel(['ok'])
    const conversation = [...messages]
    await model.generate(conversation)
    conversation.push({ role: 'assistant', content: 'later' })
    expect(model.calls[0]!.messages).toHaveLength(2)
  })

  it('throws UnscriptedCallError past the script, saying how many outputs there were', async () => {
    const model = new ScriptedModel(['only'])
    await model.generate(messages)
    const error = await model.generate(messages).catch((caught: unknown) => caught)
    expect(UnscriptedCallError.isInstance(error)).toBe(true)
    expect((error as UnscriptedCallError).message).toBe(
      'ScriptedModel got call #2, but only 1 output was scripted. Script more outputs, or pass a function to answer any call.',
    )
    expect((error as UnscriptedCallError).callIndex).toBe(1)
  })

  it('answers from a function given the messages and the call index', async () => {
    const model = new ScriptedModel((received, callIndex) => `${callIndex}:${received.at(-1)!.content}`)
    expect((await model.generate(messages)).text).toBe('0:Hi')
    expect((await model.generate(messages)).text).toBe('1:Hi')
  })

  it('cuts replies before the first stop sequence, as providers do', async () => {
    const model = new ScriptedModel(['code\n<end_code>\nObservation: invented'])
    const output = await model.generate(messages, { stop: ['\nObservation:', '<end_code>'] })
    expect(output.text).toBe('code\n')
  })

  it('estimates usage at 4 characters per token when asked', async () => {
    const model = new ScriptedModel(['12345678'], { estimateUsage: true })
    // 'You are terse.' + 'Hi' = 16 characters.
    expect((await model.generate(messages)).usage).toEqual({ inputTokens: 4, outputTokens: 2 })
  })

  it('streams word-sized pieces, then finish, when streaming', async () => {
    const model = new ScriptedModel(['Thought: go.\n```ts\nx()\n```'], {
      streaming: true,
      estimateUsage: true,
    })
    const deltas = await collect(model.stream!(messages))
    const pieces = deltas.flatMap((delta) => (delta.type === 'text' ? [delta.text] : []))
    expect(pieces.length).toBeGreaterThan(2)
    expect(pieces.join('')).toBe('Thought: go.\n```ts\nx()\n```')
    expect(deltas.at(-1)).toEqual({ type: 'finish', usage: { inputTokens: 4, outputTokens: 7 } })
    expect(model.calls[0]!.method).toBe('stream')
  })

  it('honours an aborted signal', async () => {
    const model = new ScriptedModel(['never'], { streaming: true })
    const controller = new AbortController()
    controller.abort(new Error('stop now'))
    await expect(model.generate(messages, { signal: controller.signal })).rejects.toThrow('stop now')
    await expect(collect(model.stream!(messages, { signal: controller.signal }))).rejects.toThrow('stop now')
    expect(model.calls).toHaveLength(0)
  })

  it('refuses a script that is neither an array nor a function', () => {
    expect(() => new ScriptedModel('text' as never)).toThrow(InvalidDefinitionError)
  })
})
