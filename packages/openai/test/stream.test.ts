import type { ModelDelta } from '@airlock/core'
import { describe, expect, it } from 'vitest'
import {
  ContextOverflowError,
  ModelCallError,
  ModelConnectionError,
  ModelResponseError,
} from '../src/index.js'
import { chunk, replyChunks, sse, useOpenAIServer, usageChunk } from './openai-server.js'

const server = useOpenAIServer()
const { model } = server

const messages = [{ role: 'user', content: 'Count to three.' }] as const

async function collect(deltas: AsyncIterable<ModelDelta>): Promise<ModelDelta[]> {
  const seen: ModelDelta[] = []
  for await (const delta of deltas) seen.push(delta)
  return seen
}

async function failure(deltas: AsyncIterable<ModelDelta>): Promise<{ seen: ModelDelta[]; error: unknown }> {
  const seen: ModelDelta[] = []
  try {
    for await (const delta of deltas) seen.push(delta)
  } catch (error) {
    return { seen, error }
  }
  throw new Error(`the stream did not fail; it yielded ${JSON.stringify(seen)}`)
}

describe('stream', () => {
  it('asks for a stream with usage, and sends the same fields as generate', async () => {
    server.script(sse(replyChunks(['ok'])))
    await collect(
      model({ temperature: 0, maxOutputTokens: 64 }).stream(messages, { stop: ['\nObservation:'] }),
    )

    const request = server.requests[0]!
    expect(request.headers['authorization']).toBe('Bearer sk-test')
    expect(request.body).toEqual({
      model: 'test-model',
      messages: [{ role: 'user', content: 'Count to three.' }],
      temperature: 0,
      max_completion_tokens: 64,
      stop: ['\nObservation:'],
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('yields text deltas in order, then exactly one finish with the usage', async () => {
    server.script(sse(replyChunks(['One', ', two', ', three.'], [9, 4])))
    const deltas = await collect(model().stream(messages))

    expect(deltas).toEqual([
      { type: 'text', text: 'One' },
      { type: 'text', text: ', two' },
      { type: 'text', text: ', three.' },
      {
        type: 'finish',
        usage: { inputTokens: 9, outputTokens: 4 },
        raw: {
          id: 'chatcmpl-test',
          model: 'test-model',
          finishReason: 'stop',
          usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
        },
      },
    ])
  })

  it('reports zero usage when the server sends no usage chunk', async () => {
    server.script(sse([chunk('Hi'), chunk(null, 'stop')]))
    const deltas = await collect(model().stream(messages))

    expect(deltas.at(-1)).toMatchObject({ type: 'finish', usage: { inputTokens: 0, outputTokens: 0 } })
  })

  it('takes the last usage when a server sends it on every chunk', async () => {
    server.script(
      sse([
        { ...chunk('a'), usage: { prompt_tokens: 5, completion_tokens: 1 } },
        { ...chunk('b', 'stop'), usage: { prompt_tokens: 5, completion_tokens: 2 } },
      ]),
    )
    const deltas = await collect(model().stream(messages))

    expect(deltas.at(-1)).toMatchObject({ type: 'finish', usage: { inputTokens: 5, outputTokens: 2 } })
  })

  it('accepts a stream that ends after the finish reason without [DONE]', async () => {
    server.script(sse(replyChunks(['done'], [3, 1]), { done: false }))
    const deltas = await collect(model().stream(messages))

    expect(deltas.map((delta) => delta.type)).toEqual(['text', 'finish'])
  })

  it('cuts at a stop sequence split across chunks, and keeps text that only looked like one', async () => {
    server.script(
      sse(replyChunks(['```ts\nfinalAnswer(3)\n```\n<end', '_co', 'de>\nObservation: made up'])),
      sse(replyChunks(['a <en', 'd of story'])),
    )
    const stop = ['<end_code>', '\nObservation:']
    const cut = await collect(model().stream(messages, { stop }))
    const kept = await collect(model().stream(messages, { stop }))

    expect(cut).toEqual([
      { type: 'text', text: '```ts\nfinalAnswer(3)\n```\n' },
      expect.objectContaining({ type: 'finish', usage: { inputTokens: 5, outputTokens: 3 } }),
    ])
    expect(
      kept
        .filter((delta) => delta.type === 'text')
        .map((delta) => delta.text)
        .join(''),
    ).toBe('a <end of story')
  })

  it('ignores keep-alive comments, empty deltas and other choices', async () => {
    server.script(
      sse([
        ': keep-alive\n\n',
        chunk(''),
        { ...chunk('x'), choices: [{ index: 1, delta: { content: 'other' }, finish_reason: null }] },
        chunk('real'),
        chunk(null, 'length'),
      ]),
    )
    const deltas = await collect(model().stream(messages))

    expect(deltas).toEqual([
      { type: 'text', text: 'real' },
      expect.objectContaining({ type: 'finish', raw: expect.objectContaining({ finishReason: 'length' }) }),
    ])
  })

  it('rejects a malformed JSON chunk with ModelResponseError after the text before it', async () => {
    server.script(sse([chunk('Hel'), chunk('lo'), 'data: {"choices": [{"delta": \n\n', chunk(null, 'stop')]))
    const { seen, error } = await failure(model().stream(messages))

    expect(seen).toEqual([
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
    ])
    expect(ModelResponseError.isInstance(error)).toBe(true)
    expect((error as Error).message).toMatch(/sent a chunk that is not valid JSON, after 2 good chunks/)
  })

  it('rejects a chunk that is JSON but not a chunk', async () => {
    server.script(sse([chunk('a'), 'data: 42\n\n', chunk(null, 'stop')]), sse([{ choices: 'nope' }]))

    const first = await failure(model().stream(messages))
    const second = await failure(model().stream(messages))
    expect((first.error as Error).message).toMatch(/sent chunk 2 that is not a chat completion chunk \(42\)/)
    expect(ModelResponseError.isInstance(second.error)).toBe(true)
  })

  it('rejects a stream that ends before the model finished', async () => {
    server.script(sse([chunk('Once upon'), chunk(' a time')], { done: false }))
    const { seen, error } = await failure(model().stream(messages))

    expect(seen).toHaveLength(2)
    expect(ModelResponseError.isInstance(error)).toBe(true)
    expect((error as Error).message).toBe(
      `The stream from ${server.baseURL} ended before the model finished: no finish_reason after 2 chunks. The reply is incomplete; retry the call.`,
    )
  })

  it('rejects a stream whose connection is destroyed mid-way, and says so', async () => {
    server.script(sse([chunk('Once upon'), chunk(' a time')], { destroy: true }))
    const { seen, error } = await failure(model().stream(messages))

    expect(seen.map((delta) => delta.type)).toEqual(['text', 'text'])
    expect(error).toMatchObject({ name: 'ModelResponseError', isRetryable: true })
    expect((error as Error).message).toMatch(
      /^The stream from http:\/\/127\.0\.0\.1:\d+\/v1 was cut off before the model finished, after 2 chunks \(.+\)\. The reply is incomplete; retry the call\.$/,
    )
  })

  it('finishes with the text it has when the connection drops after the finish reason', async () => {
    server.script(sse([chunk('All'), chunk(' said', 'stop')], { destroy: true }))
    const deltas = await collect(model().stream(messages))

    expect(deltas).toEqual([
      { type: 'text', text: 'All' },
      { type: 'text', text: ' said' },
      expect.objectContaining({ type: 'finish', usage: { inputTokens: 0, outputTokens: 0 } }),
    ])
  })

  it('maps an error the server reports mid-stream', async () => {
    server.script(
      sse([
        chunk('partial'),
        { error: { message: 'The server had an error while processing', type: 'server_error' } },
      ]),
      sse([
        {
          error: {
            message: "This model's maximum context length is 4096 tokens.",
            code: 'context_length_exceeded',
          },
        },
      ]),
    )
    const first = await failure(model().stream(messages))
    const second = await failure(model().stream(messages))

    expect(first.seen).toEqual([{ type: 'text', text: 'partial' }])
    expect(first.error).toMatchObject({ name: 'ModelCallError', status: undefined, isRetryable: true })
    expect((first.error as Error).message).toBe(
      `${server.baseURL} reported an error mid-stream: The server had an error while processing. The reply is incomplete; retry the call.`,
    )
    expect(ContextOverflowError.isInstance(second.error)).toBe(true)
    expect(ModelCallError.isInstance(second.error)).toBe(true)
  })

  it('times out a stream that stalls between chunks, and closes the connection', async () => {
    server.script(sse([chunk('thinking')], { hang: true }))
    const startedAt = performance.now()
    const { seen, error } = await failure(model({ timeoutMs: 150, maxRetries: 0 }).stream(messages))

    expect(seen).toEqual([{ type: 'text', text: 'thinking' }])
    expect(ModelConnectionError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ timedOut: true })
    expect((error as Error).message).toMatch(/sent nothing for 150 ms after 1 chunk; the reply is incomplete/)
    expect(performance.now() - startedAt).toBeLessThan(2000)
    await server.requests[0]!.closedEarly
  })

  it('cancels the request when the consumer stops early', async () => {
    server.script(
      sse([chunk('a'), chunk('b'), chunk('c'), chunk(null, 'stop'), usageChunk(1, 1)], { delayMs: 30 }),
    )
    for await (const delta of model().stream(messages)) {
      expect(delta).toEqual({ type: 'text', text: 'a' })
      break
    }

    await server.requests[0]!.closedEarly
  })

  it('sends nothing until iteration starts', async () => {
    model().stream(messages)
    await new Promise((resolve) => setTimeout(resolve, 20))

    expect(server.requests).toHaveLength(0)
  })
})
