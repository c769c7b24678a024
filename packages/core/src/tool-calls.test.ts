import vm from 'node:vm'
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { jsonSchema } from './schema.js'
import { defineTool, type Tool, type ToolContext } from './tool.js'
import { copyToolArguments, createToolCaller, type ToolCallerOptions } from './tool-calls.js'

const weather = defineTool({
  name: 'get_weather',
  description: 'Current weather for a city.',
  parameters: z.object({ city: z.string(), days: z.number().int().default(1) }),
  returns: z.object({ tempC: z.number() }),
  execute: async ({ city, days }) => ({ tempC: city.length + days }),
})

const echo = defineTool({
  name: 'echo',
  description: 'Returns its input.',
  parameters: jsonSchema<{ value: unknown }>({
    type: 'object',
    properties: { value: {} },
    required: ['value'],
  }),
  execute: ({ value }) => value,
})

function caller(tools: readonly Tool[], overrides: Partial<ToolCallerOptions> = {}) {
  return createToolCaller({
    tools,
    sessionId: 'session-1',
    limits: { maxToolCalls: 10, maxValueBytes: 1024 },
    signal: new AbortController().signal,
    ...overrides,
  })
}

describe('createToolCaller', () => {
  test('runs a tool with validated arguments and returns its result as data', async () => {
    const tools = caller([weather, echo])
    expect(await tools.call('get_weather', { city: 'Oslo' })).toEqual({ ok: true, value: { tempC: 5 } })
    const date = new Date(0)
    const result = await tools.call('echo', { value: { when: date, items: new Map([[1, 'a']]) } })
    expect(result).toEqual({ ok: true, value: { when: date, items: new Map([[1, 'a']]) } })
    // A copy, not the object the tool returned.
    expect(result.ok && (result.value as { when: Date }).when).not.toBe(date)
  })

  test('a call without arguments passes an empty object, so tools with nothing required work', async () => {
    const now = defineTool({
      name: 'now',
      description: 'The time.',
      parameters: z.object({ zone: z.string().optional() }),
      execute: (args) => ({ args }),
    })
    expect(await caller([now]).call('now', undefined)).toEqual({ ok: true, value: { args: {} } })
    const outcome = await caller([weather]).call('get_weather', undefined)
    expect(outcome.ok).toBe(false)
    expect(!outcome.ok && outcome.error.message).toContain('args.city')
  })

  test('passes the signal, the session id and a unique call id', async () => {
    const contexts: ToolContext[] = []
    const spy = defineTool({
      name: 'spy',
      description: 'Records its context.',
      parameters: z.object({}),
      execute: (_args, context) => {
        contexts.push(context)
        return null
      },
    })
    const controller = new AbortController()
    const tools = caller([spy], { signal: controller.signal })
    await Promise.all([tools.call('spy', {}), tools.call('spy', {})])
    expect(contexts.map((context) => [context.signal, context.sessionId])).toEqual([
      [controller.signal, 'session-1'],
      [controller.signal, 'session-1'],
    ])
    expect(contexts[0]!.toolCallId).toMatch(/^call_[0-9a-f-]{36}$/)
    expect(contexts[0]!.toolCallId).not.toBe(contexts[1]!.toolCallId)
  })

  test('invalid arguments fail with a ToolInputError naming tool, path and expected type', async () => {
    let ran = false
    const strict = defineTool({
      name: 'strict',
      description: 'Needs a string.',
      parameters: jsonSchema<{ city: string }>({
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
      }),
      execute: () => {
        ran = true
        return null
      },
    })
    const tools = caller([weather, strict])
    expect(await tools.call('get_weather', { city: 42 })).toEqual({
      ok: false,
      error: {
        kind: 'tool',
        name: 'ToolInputError',
        tool: 'get_weather',
        message:
          'Invalid arguments for tool get_weather:\n  - args.city: Invalid input: expected string, received number',
      },
    })
    expect(await tools.call('strict', { city: ['x'] })).toEqual({
      ok: false,
      error: {
        kind: 'tool',
        name: 'ToolInputError',
        tool: 'strict',
        message: 'Invalid arguments for tool strict:\n  - args.city: expected string, received array',
      },
    })
    expect(ran).toBe(false)
  })

  test('an unknown tool fails with the list of available tools', async () => {
    expect(await caller([weather, echo]).call('get_wether', {})).toEqual({
      ok: false,
      error: {
        kind: 'tool',
        name: 'ToolError',
        tool: 'get_wether',
        message: 'There is no tool named get_wether. Available tools: get_weather, echo.',
      },
    })
    const none = await caller([]).call('constructor', {})
    expect(none.ok === false && none.error.message).toBe(
      'There is no tool named constructor: no tools are available in this session.',
    )
  })

  test('arguments that are not data are refused before the tool runs', async () => {
    const tools = caller([echo])
    const withGetter = {
      get value() {
        throw new Error('getter ran')
      },
    }
    expect(await tools.call('echo', withGetter)).toEqual({
      ok: false,
      error: {
        kind: 'tool',
        name: 'DataBoundaryError',
        tool: 'echo',
        message:
          'Tool echo was called with arguments that cannot be passed to it: args.value: getters and setters cannot cross the boundary; pass the value itself.',
      },
    })
    const withFunction = await tools.call('echo', { value: () => 1 })
    expect(withFunction.ok === false && withFunction.error.message).toBe(
      'Tool echo was called with arguments that cannot be passed to it: args.value: functions cannot cross the boundary; pass data instead.',
    )
    const withProxy = await tools.call('echo', new Proxy({ value: 1 }, {}))
    expect(withProxy.ok === false && withProxy.error.message).toBe(
      'Tool echo was called with arguments that cannot be passed to it: args: proxies cannot cross the boundary; pass a plain copy.',
    )
    const tooBig = await tools.call('echo', { value: 'x'.repeat(2000) })
    expect(tooBig.ok === false && tooBig.error.message).toBe(
      'Tool echo was called with arguments that cannot be passed to it: args.value: the value is larger than the limit of 1024 bytes; pass less data.',
    )
  })

  test('plain objects of another realm are accepted when their prototype is given', async () => {
    const context = vm.createContext({})
    const sandboxArgs: unknown = vm.runInContext('({ value: { nested: [1, 2] } })', context)
    const sandboxObjectPrototype = vm.runInContext('Object.prototype', context) as object
    const refusing = await caller([echo]).call('echo', sandboxArgs)
    expect(refusing.ok).toBe(false)
    const accepting = caller([echo], { plainObjectPrototypes: [sandboxObjectPrototype] })
    expect(await accepting.call('echo', sandboxArgs)).toEqual({ ok: true, value: { nested: [1, 2] } })
  })

  test('a tool that throws fails with its error name and message, without a stack', async () => {
    class NotFoundError extends Error {
      override name = 'NotFoundError'
    }
    const failing = (name: string, thrown: () => unknown) =>
      defineTool({
        name,
        description: 'Fails.',
        parameters: z.object({}),
        execute: async () => {
          throw thrown()
        },
      })
    const tools = caller([
      failing('not_found', () => new NotFoundError('No city named Atlantis')),
      failing('sync_throw', () => new TypeError('bad')),
      failing('throws_string', () => 'just a string'),
      failing('empty_message', () => new Error('')),
    ])
    expect(await tools.call('not_found', {})).toEqual({
      ok: false,
      error: { kind: 'tool', name: 'NotFoundError', tool: 'not_found', message: 'No city named Atlantis' },
    })
    expect(await tools.call('sync_throw', {})).toEqual({
      ok: false,
      error: { kind: 'tool', name: 'TypeError', tool: 'sync_throw', message: 'bad' },
    })
    expect(await tools.call('throws_string', {})).toEqual({
      ok: false,
      error: {
        kind: 'tool',
        name: 'ToolError',
        tool: 'throws_string',
        message: 'Tool throws_string failed: just a string',
      },
    })
    expect(await tools.call('empty_message', {})).toEqual({
      ok: false,
      error: {
        kind: 'tool',
        name: 'Error',
        tool: 'empty_message',
        message: 'Tool empty_message failed without a message.',
      },
    })
  })

  test('a tool that throws synchronously still yields an outcome', async () => {
    const sync = defineTool({
      name: 'sync',
      description: 'Throws synchronously.',
      parameters: z.object({}),
      execute: () => {
        throw new RangeError('out of range')
      },
    })
    expect(await caller([sync]).call('sync', {})).toEqual({
      ok: false,
      error: { kind: 'tool', name: 'RangeError', tool: 'sync', message: 'out of range' },
    })
  })

  test('a result that is not data fails, saying the tool returned it', async () => {
    const leaky = defineTool({
      name: 'leaky',
      description: 'Returns a function.',
      parameters: z.object({}),
      execute: () => ({ handle: () => 'secret' }),
    })
    const big = defineTool({
      name: 'big',
      description: 'Returns too much.',
      parameters: z.object({}),
      execute: () => 'y'.repeat(5000),
    })
    const tools = caller([leaky, big])
    expect(await tools.call('leaky', {})).toEqual({
      ok: false,
      error: {
        kind: 'tool',
        name: 'DataBoundaryError',
        tool: 'leaky',
        message:
          'Tool leaky returned a non-data value (a bug in the tool, not in your code): result.handle: functions cannot cross the boundary; pass data instead.',
      },
    })
    const tooBig = await tools.call('big', {})
    expect(tooBig.ok === false && tooBig.error.message).toBe(
      'Tool big returned a non-data value (a bug in the tool, not in your code): result: the value is larger than the limit of 1024 bytes; pass less data.',
    )
  })

  test('the result is not validated against returns', async () => {
    const liar = defineTool({
      name: 'liar',
      description: 'Returns something else than declared.',
      parameters: z.object({}),
      returns: z.object({ n: z.number() }),
      execute: () => ({ n: 'not a number' }) as unknown as { n: number },
    })
    expect(await caller([liar]).call('liar', {})).toEqual({ ok: true, value: { n: 'not a number' } })
  })

  test('the call past maxToolCalls fails with a limit error that stays set', async () => {
    const tools = caller([weather], { limits: { maxToolCalls: 2, maxValueBytes: 1024 } })
    expect((await tools.call('get_weather', { city: 'a' })).ok).toBe(true)
    expect((await tools.call('nope', {})).ok).toBe(false)
    expect(tools.limitError).toBeUndefined()
    const limitError = {
      kind: 'limit',
      name: 'LimitError',
      limit: 'maxToolCalls',
      message:
        'The run made more than 2 tool calls (limit maxToolCalls). Make fewer calls per step: batch work into fewer calls, or continue in the next step.',
    }
    expect(await tools.call('get_weather', { city: 'b' })).toEqual({ ok: false, error: limitError })
    expect(tools.limitError).toEqual(limitError)
    expect(await tools.call('get_weather', { city: 'c' })).toEqual({ ok: false, error: limitError })
    // Refused calls are not records: they never ran.
    expect(tools.records.map(({ tool, ok }) => ({ tool, ok }))).toEqual([
      { tool: 'get_weather', ok: true },
      { tool: 'nope', ok: false },
    ])
  })

  test('records finished calls in completion order with their duration', async () => {
    const wait = defineTool({
      name: 'wait',
      description: 'Waits.',
      parameters: z.object({ ms: z.number() }),
      execute: async ({ ms }) => {
        await new Promise((resolve) => setTimeout(resolve, ms))
        return ms
      },
    })
    const tools = caller([wait, weather])
    await Promise.all([
      tools.call('wait', { ms: 40 }),
      tools.call('wait', { ms: 1 }),
      tools.call('get_weather', { city: 3 }),
    ])
    expect(tools.records.map(({ tool, ok }) => ({ tool, ok }))).toEqual([
      { tool: 'get_weather', ok: false },
      { tool: 'wait', ok: true },
      { tool: 'wait', ok: true },
    ])
    expect(tools.records[2]!.durationMs).toBeGreaterThanOrEqual(35)
    expect(tools.records[0]!.durationMs).toBeGreaterThanOrEqual(0)
  })

  test('after the run is aborted, calls do not run and pending calls see the aborted signal', async () => {
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    const slow = defineTool({
      name: 'slow',
      description: 'Waits for the abort.',
      parameters: z.object({}),
      execute: (_args, { signal }) => {
        seen = signal
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        )
      },
    })
    const tools = caller([slow], { signal: controller.signal })
    const pending = tools.call('slow', {})
    await Promise.resolve()
    await Promise.resolve()
    controller.abort(new DOMException('The run was aborted.', 'AbortError'))
    expect(seen?.aborted).toBe(true)
    expect(await pending).toEqual({
      ok: false,
      error: { kind: 'tool', name: 'AbortError', tool: 'slow', message: 'The run was aborted.' },
    })
    expect(await tools.call('slow', {})).toEqual({
      ok: false,
      error: {
        kind: 'aborted',
        name: 'AbortError',
        tool: 'slow',
        message: 'Tool slow was not called: the run was already aborted.',
      },
    })
    expect(tools.records.length).toBe(1)
  })

  test('arguments copied elsewhere with copyToolArguments: a failed copy counts and is recorded', async () => {
    const tools = caller([echo], { limits: { maxToolCalls: 2, maxValueBytes: 1024 } })
    const good = copyToolArguments('echo', { value: [1] }, { maxValueBytes: 1024 })
    expect(good).toEqual({ ok: true, value: { value: [1] } })
    expect(await tools.callCopied('echo', good)).toEqual({ ok: true, value: [1] })
    const bad = copyToolArguments('echo', { value: () => 1 }, { maxValueBytes: 1024 })
    expect(bad).toMatchObject({ ok: false, error: { kind: 'tool', name: 'DataBoundaryError', tool: 'echo' } })
    expect(await tools.callCopied('echo', bad)).toEqual(bad)
    expect(tools.records.map((record) => record.ok)).toEqual([true, false])
    expect(await tools.callCopied('echo', good)).toMatchObject({
      ok: false,
      error: { limit: 'maxToolCalls' },
    })
  })
})
