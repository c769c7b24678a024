import { describe, expect, test } from 'vitest'
import { copyToolArguments, type ToolCallOutcome } from './tool-calls.js'
import { resolveLimits } from './limits.js'
import { RunRecorder } from './run-support.js'
import { defineTool, type ToolContext } from './tool.js'

/** A tool that records each call's context and answers when `release` is called. */
function gatedTool() {
  const contexts: ToolContext[] = []
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => (release = resolve))
  const tool = defineTool({
    name: 'slow',
    description: 'Answers once released.',
    parameters: { type: 'object' },
    execute: async (_args, context) => {
      contexts.push(context)
      await gate
      return { done: true }
    },
  })
  return { tool, contexts, release: () => release() }
}

function recorder(tools: ConstructorParameters<typeof RunRecorder>[0]['tools'], maxToolCalls = 10) {
  return new RunRecorder({ tools, sessionId: 'session-1', limits: resolveLimits({ maxToolCalls }) })
}

/** Lets pending promise jobs and I/O callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

/** Resolves with the reply of a tool call the sandbox asked for. */
function call(run: RunRecorder, name: string): Promise<ToolCallOutcome> {
  return new Promise((resolve) => run.callTool(name, {}, resolve))
}

describe('RunRecorder tool calls', () => {
  test('a run without tool calls records none', async () => {
    const run = recorder([gatedTool().tool])
    const outcome = await run.finish({ type: 'value', value: 1 })
    expect(outcome).toMatchObject({ type: 'value', value: 1, logs: '', stats: { toolCalls: [] } })
  })

  test('calls are answered and recorded, each with its own call id and the session id', async () => {
    const { tool, contexts, release } = gatedTool()
    const run = recorder([tool])
    release()
    expect(await call(run, 'slow')).toEqual({ ok: true, value: { done: true } })
    expect(await call(run, 'slow')).toEqual({ ok: true, value: { done: true } })
    const outcome = await run.finish({ type: 'value', value: null })
    expect(outcome.stats.toolCalls.map(({ tool, ok }) => ({ tool, ok }))).toEqual([
      { tool: 'slow', ok: true },
      { tool: 'slow', ok: true },
    ])
    expect(contexts.map((context) => context.sessionId)).toEqual(['session-1', 'session-1'])
    expect(contexts[0]!.toolCallId).not.toBe(contexts[1]!.toolCallId)
  })

  test('a tool still running when the run finishes sees its signal abort, and its reply is dropped', async () => {
    const { tool, contexts, release } = gatedTool()
    const run = recorder([tool])
    const replies: ToolCallOutcome[] = []
    run.callTool('slow', {}, (outcome) => replies.push(outcome))
    await settle()
    expect(contexts).toHaveLength(1)
    expect(contexts[0]!.signal.aborted).toBe(false)
    await run.finish({ type: 'value', value: 1 })
    expect(contexts[0]!.signal.aborted).toBe(true)
    release()
    await settle()
    expect(replies).toEqual([])
  })

  test('a call asked for after the run finished does not run the tool', async () => {
    const { tool, contexts, release } = gatedTool()
    release()
    const run = recorder([tool])
    const outcome = await run.finish({ type: 'value', value: 1 })
    const replies: ToolCallOutcome[] = []
    run.callTool('slow', {}, (reply) => replies.push(reply))
    await settle()
    expect(contexts).toEqual([])
    expect(replies).toEqual([])
    expect(outcome.stats.toolCalls).toEqual([])
  })

  test('a call past maxToolCalls ends the run with the limit error even when the code went on', async () => {
    const { tool, release } = gatedTool()
    release()
    const run = recorder([tool], 1)
    expect((await call(run, 'slow')).ok).toBe(true)
    const refused = await call(run, 'slow')
    expect(refused).toMatchObject({ ok: false, error: { kind: 'limit', limit: 'maxToolCalls' } })
    const outcome = await run.finish({ type: 'value', value: 'caught it' })
    expect(outcome).toMatchObject({ type: 'error', error: { kind: 'limit', limit: 'maxToolCalls' } })
    expect(outcome.stats.toolCalls).toHaveLength(1)
  })

  test('calls with arguments copied on the sandbox side: answered, recorded, a failed copy counted', async () => {
    const { tool, release } = gatedTool()
    release()
    const run = recorder([tool], 2)
    const ask = (args: unknown) =>
      new Promise<ToolCallOutcome>((resolve) =>
        run.callCopiedTool('slow', copyToolArguments('slow', args, { maxValueBytes: 1024 }), resolve),
      )
    expect(await ask({})).toEqual({ ok: true, value: { done: true } })
    expect(await ask({ f: () => 1 })).toMatchObject({ ok: false, error: { name: 'DataBoundaryError' } })
    expect(await ask({})).toMatchObject({ ok: false, error: { limit: 'maxToolCalls' } })
    const outcome = await run.finish({ type: 'value', value: 1 }, { operations: 42 })
    expect(outcome).toMatchObject({
      type: 'error',
      error: { limit: 'maxToolCalls' },
      stats: { operations: 42 },
    })
    expect(outcome.stats.toolCalls.map((record) => record.ok)).toEqual([true, false])
  })

  test('stats carry operations only when the sandbox counted them', async () => {
    const outcome = await recorder([]).finish({ type: 'value', value: 1 })
    expect('operations' in outcome.stats).toBe(false)
  })
})
