import { describe, expect, it, onTestFinished } from 'vitest'
import type { Data } from '../data.js'
import type { Executor, ExecutorSession, RunError, RunOutcome, SessionOptions } from '../executor.js'
import type { JSONSchema } from '../schema.js'
import { type Tool, type ToolContext, defineTool } from '../tool.js'

// The ids double as the test titles' prefix, so a failure report names the case to skip or fix.
const contractCases = [
  'executor-shape',
  'state-persists',
  'state-redeclare',
  'state-destructuring',
  'state-functions',
  'sessions-isolated',
  'value-last-expression',
  'value-undefined-after-declaration',
  'value-promise',
  'value-async-iife',
  'variables',
  'top-level-await',
  'tool-call',
  'tool-schema-error',
  'tool-schema-error-caught',
  'tool-throws',
  'tool-unknown-function',
  'tool-concurrency',
  'tool-result-copied',
  'tool-context',
  'tool-max-calls',
  'tool-records',
  'final-answer',
  'final-answer-ends-run',
  'final-answer-caught',
  'console-capture',
  'console-format',
  'console-truncation',
  'data-round-trip',
  'data-errors',
  'data-refuse-function',
  'data-refuse-getter',
  'data-refuse-proxy',
  'data-refuse-thenable',
  'data-refuse-cycle',
  'data-refuse-oversized',
  'error-syntax',
  'error-runtime-position',
  'error-async',
  'error-non-error-thrown',
  'limit-timeout',
  'limit-timeout-async',
  'limit-session-after',
  'abort',
  'abort-before-start',
  'abort-tool',
  'limit-memory',
  'limit-operations',
  'import-refused',
  'import-allowed',
  'typescript',
  'typescript-positions',
  'dispose',
  'await-using',
] as const

/** The id of one case of the executor contract suite, as shown at the start of its test title. */
export type ContractCase = (typeof contractCases)[number]

/** A module the executor can load when it is allowlisted, for the `import-allowed` case. */
export interface ImportFixture {
  /** The specifier the code imports, e.g. `'just-clamp'` or `'lodash-es'`. */
  readonly module: string
  /** A named export of the module (an identifier, or `'default'`). */
  readonly exportName: string
  /** When given, the export is a function and is called with these arguments (JSON values). */
  readonly args?: readonly Data[]
  /** The export's value, or what the call returns. */
  readonly expected: Data
}

export interface ExecutorContractOptions {
  /**
   * Cases the executor documents as unsupported. They are reported as skipped, so the gap stays
   * visible in every test run instead of disappearing.
   */
  readonly skip?: readonly ContractCase[]
  /** Enables the `import-allowed` case, which is skipped without it. */
  readonly importFixture?: ImportFixture
  /**
   * Multiplies every time allowance and test timeout, for executors with a network round trip
   * per run. Default 1.
   */
  readonly timeScale?: number
}

/**
 * Registers the executor contract suite: one vitest `describe` block whose cases pin the semantics
 * every airlock executor shares (state, values, tools, `finalAnswer`, console, the data boundary,
 * errors, limits, imports, TypeScript, dispose). Cases that need a capability the executor does not
 * claim (`memoryLimit`, `operationLimit`, `stateful`) skip themselves.
 *
 * Console output format, which every executor produces exactly:
 * - One console call (`log`, `info`, `warn`, `error`) is one entry: its arguments formatted and
 *   joined by one space. `logs` is each entry followed by `\n`; `onLog` receives each entry without
 *   the `\n`. No level prefix; format specifiers such as `%s` are not interpreted.
 * - A top-level string argument prints as is; nested strings print as `JSON.stringify` would.
 * - Numbers print as `String(n)` except `-0`, bigints as `12n`, symbols as `Symbol(description)`, and
 *   `undefined`, `null`, booleans as their names.
 * - Arrays: `[1, "a", [2]]`, empty `[]`. Objects: `{ a: 1, "b-c": 2 }`, empty `{}`; own enumerable
 *   string keys in order, keys that are not identifiers quoted as JSON; accessor properties print
 *   as `[Getter]`, `[Setter]` or `[Getter/Setter]` without running them. An object whose prototype
 *   is neither `Object.prototype` nor `null` and has a named constructor is prefixed with its name:
 *   `Point { x: 1 }`.
 * - `Map(1) { "k" => 1 }`, `Set(2) { 1, 2 }`, `Map(0) {}`; `Uint8Array(2) [1, 2]` (any typed array
 *   by its name); dates as `toISOString()` (`Invalid Date` when invalid); regular expressions as
 *   their literal `/a+/g`.
 * - Functions: `[Function: name]`, `[Function (anonymous)]`, classes `[class Name]`.
 * - Errors: `Name: message` as a top-level argument, `[Name: message]` nested; just the name when
 *   the message is empty.
 * - A reference back to an object being printed prints `[Circular]`; objects nested 6 or more
 *   levels below the argument print as `[Array]` or `[Object]`.
 * - Output past `maxOutputBytes` (UTF-8 bytes of `logs`) is dropped: the entry that crosses the
 *   limit may be cut, then one last entry containing the word `truncated` follows (it does not count
 *   against the limit and is also sent to `onLog`).
 *
 * Other choices the suite pins: a thrown value that is not an Error becomes an error named `Error`
 * whose message is the value in the console format; a run value or final answer too big to cross
 * is a `limit` error with `limit: 'maxValueBytes'` (too-big tool arguments and results are `tool`
 * errors the code can catch, like any failed call); non-data run values and final answers are
 * `runtime` errors whose message names the problem and its path; after `finalAnswer` the run's
 * console and tool calls have no effect even if the code catches what `finalAnswer` threw.
 *
 * @example
 * // test/contract.test.ts of an executor package
 * import { describeExecutorContract } from '@airlock/core/testing'
 * import { createIsolateExecutor } from '../src/index.js'
 *
 * describeExecutorContract('isolate', () => createIsolateExecutor(), {
 *   importFixture: { module: 'lodash-es', exportName: 'clamp', args: [5, 1, 3], expected: 3 },
 * })
 */
export function describeExecutorContract(
  name: string,
  makeExecutor: () => Executor | Promise<Executor>,
  options: ExecutorContractOptions = {},
): void {
  const { skip = [], importFixture, timeScale = 1 } = options
  for (const id of skip) {
    if (!(contractCases as readonly string[]).includes(id)) {
      throw new Error(
        `describeExecutorContract: unknown case "${id}" in skip. Known cases: ${contractCases.join(', ')}.`,
      )
    }
  }
  const skipped = new Set<string>(skip)
  const registered = new Set<ContractCase>()
  const scaled = (ms: number) => ms * timeScale

  type Body = (context: CaseContext) => Promise<void>
  interface CaseContext {
    readonly executor: Executor
    /** Opens a session that is disposed when the case ends. */
    open(options?: SessionOptions): Promise<ExecutorSession>
    /** Marks the case skipped at run time, for capabilities known only once the executor exists. */
    skip(note: string): void
  }

  const contractCase = (id: ContractCase, title: string, body: Body, timeoutMs = 5_000) => {
    if (registered.has(id)) throw new Error(`describeExecutorContract: case "${id}" registered twice.`)
    registered.add(id)
    it(`${id}: ${title}`, { timeout: scaled(timeoutMs), skip: skipped.has(id) }, async (vitestContext) => {
      expect.hasAssertions()
      const executor = await makeExecutor()
      await body({
        executor,
        async open(sessionOptions) {
          const session = await executor.createSession(sessionOptions)
          onTestFinished(() => session.dispose())
          return session
        },
        skip: (note) => vitestContext.skip(note),
      })
    })
  }

  describe(`executor contract: ${name}`, () => {
    contractCase(
      'executor-shape',
      'declares its contract version, kind, capabilities and session ids',
      async ({ executor, open }) => {
        expect(executor.specificationVersion).toBe('executor-v1')
        expect(executor.kind).toMatch(/^\S+$/)
        const { capabilities } = executor
        for (const key of ['stateful', 'hardKill', 'memoryLimit', 'operationLimit', 'network'] as const) {
          expect(typeof capabilities[key], `capabilities.${key}`).toBe('boolean')
        }
        expect(capabilities.toolsRunOn).toBe('host')
        const named = await open({ sessionId: 'contract-named-session' })
        expect(named.id).toBe('contract-named-session')
        const first = await open()
        const second = await open()
        expect(first.id).toMatch(/\S/)
        expect(first.id).not.toBe(second.id)
      },
    )

    // ---- state ------------------------------------------------------------------------------

    const stateCase = (id: ContractCase, title: string, body: Body) =>
      contractCase(id, title, async (context) => {
        if (!context.executor.capabilities.stateful) return context.skip('the executor is not stateful')
        await body(context)
      })

    stateCase('state-persists', 'top-level bindings of one run are visible in the next', async ({ open }) => {
      const session = await open()
      expectOk(await session.run('const a = 1\nlet b = 2\nvar c = 3\nglobalThis.d = 4'))
      expectValue(await session.run('a + b + c + d'), 10)
      expectOk(await session.run('b += 10'))
      expectValue(await session.run('b'), 12)
    })

    stateCase(
      'state-redeclare',
      'a later run re-declares const, let, function and class like a REPL',
      async ({ open }) => {
        const session = await open()
        expectOk(
          await session.run(
            "const a = 1\nlet b = 'one'\nfunction f() { return 'old' }\nclass K { v() { return 'old' } }",
          ),
        )
        expectValue(
          await session.run(
            "const a = 2\nlet b = 'two'\nfunction f() { return 'new' }\nclass K { v() { return 'new' } }\n[a, b, f(), new K().v()]",
          ),
          [2, 'two', 'new', 'new'],
        )
        expectValue(await session.run('let a = 3\nconst b = 4\n;[a, b]'), [3, 4])
      },
    )

    stateCase('state-destructuring', 'destructuring declarations persist', async ({ open }) => {
      const session = await open()
      expectOk(
        await session.run(
          "const { x, y: [z, ...rest], ...others } = { x: 1, y: [2, 3, 4], p: 5, q: 6 }\nlet [first, , third = 'default'] = ['a', 'b']",
        ),
      )
      expectValue(await session.run('[x, z, rest, others, first, third]'), [
        1,
        2,
        [3, 4],
        { p: 5, q: 6 },
        'a',
        'default',
      ])
    })

    stateCase(
      'state-functions',
      'functions declared in one run are callable in the next and share its bindings',
      async ({ open }) => {
        const session = await open()
        expectOk(
          await session.run(
            'let count = 0\nfunction increment() { count += 1; return count }\nconst double = (n) => n * 2\nasync function later() { await null; return increment() }',
          ),
        )
        expectValue(await session.run('increment()\nincrement()'), 2)
        expectValue(await session.run('[count, double(count), await later()]'), [2, 4, 3])
        expectValue(await session.run('count'), 3)
      },
    )

    contractCase('sessions-isolated', 'sessions share no bindings, globals or builtins', async ({ open }) => {
      const a = await open()
      const b = await open()
      const polluted = await a.run(
        [
          "const secret = 'a'",
          "globalThis.shared = 'a'",
          "Array.prototype.polluted = 'yes'",
          "Object.defineProperty(Object.prototype, 'injected', { value: 'yes', configurable: true })",
          ';[1, 2]',
        ].join('\n'),
      )
      expectValue(polluted, [1, 2])
      // The value crossed into the host: it must not carry the sandbox's prototype changes along.
      expect((polluted as { value: Record<string, unknown> }).value.polluted).toBeUndefined()
      expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined()
      expect(({} as Record<string, unknown>).injected).toBeUndefined()
      expectValue(await b.run('[typeof secret, typeof shared, [].polluted, ({}).injected]'), [
        'undefined',
        'undefined',
        undefined,
        undefined,
      ])
    })

    // ---- values ------------------------------------------------------------------------------

    contractCase(
      'value-last-expression',
      "the value is the last expression statement's",
      async ({ open }) => {
        const session = await open()
        expectValue(await session.run('1 + 2'), 3)
        expectValue(await session.run('const x = 5\nx * 2 // doubled'), 10)
        expectValue(await session.run("'a';\n'b';"), 'b')
        expectValue(await session.run('({ a: 1, b: [true, null] })'), { a: 1, b: [true, null] })
      },
    )

    contractCase(
      'value-undefined-after-declaration',
      'the value is undefined when the last statement is a declaration',
      async ({ open }) => {
        const session = await open()
        expectValue(await session.run('const y = 1\ny'), 1)
        expectValue(await session.run('const y = 1'), undefined)
        expectValue(await session.run('42\nlet z = 2'), undefined)
        expectValue(await session.run('function g() { return 1 }'), undefined)
      },
    )

    contractCase('value-promise', 'a promise as the last value is awaited', async ({ open }) => {
      const session = await open()
      expectValue(await session.run('Promise.resolve(7)'), 7)
      expectValue(await session.run("new Promise((resolve) => resolve('later'))"), 'later')
      expectError(await session.run("Promise.reject(new RangeError('nope'))"), {
        kind: 'runtime',
        name: 'RangeError',
        message: 'nope',
      })
    })

    contractCase('value-async-iife', 'an async IIFE at the end returns its result', async ({ open }) => {
      const session = await open()
      expectValue(await session.run("(async () => {\n  await null\n  return 'done'\n})()"), 'done')
    })

    contractCase('variables', 'the variables option provides initial bindings, copied', async ({ open }) => {
      const items = [1, 2, 3]
      const session = await open({
        variables: { items, config: { name: 'x' }, when: new Date(0), lookup: new Map([['k', 1]]) },
      })
      expectValue(
        await session.run(
          "[items.length, config.name, when instanceof Date, when.getTime(), lookup.get('k')]",
        ),
        [3, 'x', true, 0, 1],
      )
      expectOk(await session.run('items.push(4)'))
      expectValue(await session.run('items.length'), 4)
      expect(items).toEqual([1, 2, 3])
    })

    contractCase('top-level-await', 'await works at the top level', async ({ open }) => {
      const session = await open()
      expectValue(
        await session.run(
          'const v = await Promise.resolve(5)\nconst w = await new Promise((resolve) => resolve(v + 1))\nw',
        ),
        6,
      )
      expectValue(
        await session.run("const seen = []\nfor (const n of [1, 2]) seen.push(await n)\nseen.join(',')"),
        '1,2',
      )
    })

    // ---- tools -------------------------------------------------------------------------------

    contractCase(
      'tool-call',
      'a tool is an async function taking one object; its result arrives as data',
      async ({ open }) => {
        const received: unknown[] = []
        const weather = makeTool(
          'get_weather',
          (args) => {
            received.push(args)
            return { city: (args as { city: string }).city, tempC: 21 }
          },
          objectSchema({ city: { type: 'string' } }),
        )
        const session = await open({ tools: [weather] })
        expectValue(
          await session.run(
            "const w = await get_weather({ city: 'Oslo' })\n;[typeof get_weather, w.city, w.tempC]",
          ),
          ['function', 'Oslo', 21],
        )
        expect(received).toEqual([{ city: 'Oslo' }])
      },
    )

    const addItems = (calls: unknown[]) =>
      makeTool(
        'add_items',
        (args) => {
          calls.push(args)
          const { name, quantity } = args as { name: string; quantity: number }
          return `added ${quantity} ${name}`
        },
        objectSchema({ name: { type: 'string' }, quantity: { type: 'integer' } }),
      )

    contractCase(
      'tool-schema-error',
      'arguments failing the schema become a tool error naming the tool, field and expected type',
      async ({ open }) => {
        const calls: unknown[] = []
        const session = await open({ tools: [addItems(calls)] })
        const outcome = await session.run("await add_items({ name: 'apple', quantity: 'three' })")
        expectError(outcome, {
          kind: 'tool',
          tool: 'add_items',
          message: expect.stringMatching(/quantity[\s\S]*integer|integer[\s\S]*quantity/),
        })
        expect(calls).toEqual([])
      },
    )

    contractCase(
      'tool-schema-error-caught',
      'the code can catch a tool error as an Error and continue',
      async ({ open }) => {
        const calls: unknown[] = []
        const session = await open({ tools: [addItems(calls)] })
        const outcome = await session.run(
          [
            'let message',
            'try {',
            "  await add_items({ name: 'apple', quantity: 'three' })",
            '} catch (error) {',
            "  message = error instanceof Error ? error.message : 'not an Error: ' + String(error)",
            '}',
            "const fixed = await add_items({ name: 'apple', quantity: 3 })",
            ';[message, fixed]',
          ].join('\n'),
        )
        expectValue(outcome, [expect.stringMatching(/quantity/), 'added 3 apple'])
        expect(calls).toEqual([{ name: 'apple', quantity: 3 }])
      },
    )

    contractCase(
      'tool-throws',
      "a tool that throws becomes a tool error with the tool's message",
      async ({ open }) => {
        const failing = makeTool('fetch_page', () => {
          throw new Error('upstream returned 503')
        })
        const session = await open({ tools: [failing] })
        expectError(await session.run("await fetch_page({ url: 'https://example.com' })"), {
          kind: 'tool',
          tool: 'fetch_page',
          message: expect.stringContaining('upstream returned 503'),
        })
        expectValue(
          await session.run(
            'let m\ntry {\n  await fetch_page({})\n} catch (error) {\n  m = error.message\n}\nm',
          ),
          expect.stringContaining('upstream returned 503'),
        )
      },
    )

    contractCase(
      'tool-unknown-function',
      'calling a function that does not exist is a ReferenceError at its position',
      async ({ open }) => {
        const session = await open({ tools: [makeTool('get_weather', () => ({}))] })
        expectError(await session.run("const city = 'Oslo'\nconst r = await get_wether({ city })"), {
          kind: 'runtime',
          name: 'ReferenceError',
          message: expect.stringContaining('get_wether'),
          line: 2,
          // V8 puts an error in the first operation of a statement at the statement's start, an
          // interpreter at the identifier: any column will do here, exact ones are pinned elsewhere.
          column: expect.any(Number),
        })
      },
    )

    contractCase(
      'tool-concurrency',
      'Promise.all over tool calls runs them concurrently',
      async ({ open }) => {
        const events: string[] = []
        let arrived = 0
        let release = () => {}
        const bothStarted = new Promise<void>((resolve) => (release = resolve))
        // A barrier, not a stopwatch: each call waits for the other to start, so calls run one after
        // another can only fail, whatever the machine's speed.
        const peer = makeTool(
          'wait_for_peer',
          async (args) => {
            const { id } = args as { id: string }
            events.push(`start ${id}`)
            if (++arrived === 2) release()
            await withDeadline(
              bothStarted,
              scaled(2_000),
              'the other call never started: tool calls ran one after another',
            )
            events.push(`end ${id}`)
            return id
          },
          objectSchema({ id: { type: 'string' } }),
        )
        const session = await open({ tools: [peer] })
        expectValue(
          await session.run("await Promise.all([wait_for_peer({ id: 'a' }), wait_for_peer({ id: 'b' })])"),
          ['a', 'b'],
        )
        expect(events.slice(0, 2).sort()).toEqual(['start a', 'start b'])
        expect(events.slice(2).sort()).toEqual(['end a', 'end b'])
      },
    )

    contractCase(
      'tool-result-copied',
      'tool arguments and results are copies: no side sees the other mutate them',
      async ({ open }) => {
        const held = { list: [1, 2], nested: { flag: true } }
        const kept: unknown[] = []
        const getState = makeTool('get_state', () => held)
        const keep = makeTool(
          'keep',
          (args) => {
            const value = (args as { value: { items: number[] } }).value
            kept.push(value)
            value.items.push(99)
            return null
          },
          objectSchema({ value: {} }),
        )
        const session = await open({ tools: [getState, keep] })
        const outcome = await session.run(
          [
            'const state = await get_state({})',
            'state.list.push(3)',
            'state.nested.flag = false',
            "state.added = 'x'",
            'const payload = { items: [1] }',
            'await keep({ value: payload })',
            'payload.items.push(2)',
            ';[state.list.length, state.nested.flag, payload.items, (await get_state({})).list.length]',
          ].join('\n'),
        )
        expectValue(outcome, [3, false, [1, 2], 2])
        expect(held).toEqual({ list: [1, 2], nested: { flag: true } })
        expect(kept).toEqual([{ items: [1, 99] }])
      },
    )

    contractCase(
      'tool-context',
      'tools get the session id, a unique call id and a signal aborted when the run ends',
      async ({ open }) => {
        const seen: { sessionId: string; toolCallId: string; signal: AbortSignal; abortedDuring: boolean }[] =
          []
        const whoami = makeTool('whoami', (_args, context) => {
          seen.push({ ...context, abortedDuring: context.signal.aborted })
          return context.sessionId
        })
        const session = await open({ tools: [whoami], sessionId: 'contract-session-7' })
        expect(session.id).toBe('contract-session-7')
        expectValue(await session.run('[await whoami({}), await whoami({})]'), [
          'contract-session-7',
          'contract-session-7',
        ])
        expect(seen).toHaveLength(2)
        for (const context of seen) {
          expect(context.sessionId).toBe('contract-session-7')
          expect(context.toolCallId).toMatch(/\S/)
          expect(context.signal).toBeInstanceOf(AbortSignal)
          expect(context.abortedDuring).toBe(false)
          expect(context.signal.aborted, 'the signal is aborted once the run has ended').toBe(true)
        }
        expect(seen[0]?.toolCallId).not.toBe(seen[1]?.toolCallId)
      },
    )

    contractCase(
      'tool-max-calls',
      'the call past maxToolCalls fails the run with a limit error, even when caught',
      async ({ open }) => {
        let calls = 0
        const ping = makeTool('ping', () => ++calls)
        const session = await open({ tools: [ping], limits: { maxToolCalls: 2 } })
        const outcome = await session.run(
          "for (let i = 0; i < 5; i++) {\n  try {\n    await ping({})\n  } catch {}\n}\n'finished'",
        )
        expectError(outcome, { kind: 'limit', limit: 'maxToolCalls' })
        expect(calls).toBe(2)
        expect(outcome.stats.toolCalls).toEqual([
          { tool: 'ping', ok: true, durationMs: expect.any(Number) },
          { tool: 'ping', ok: true, durationMs: expect.any(Number) },
        ])
      },
    )

    contractCase(
      'tool-records',
      'stats.toolCalls records finished calls in completion order, also on failure',
      async ({ open }) => {
        const ping = makeTool('ping', () => 'pong')
        const broken = makeTool('broken', () => {
          throw new Error('broken on purpose')
        })
        const session = await open({ tools: [ping, broken] })
        const outcome = await session.run(
          "await ping({})\nawait ping({})\ntry {\n  await broken({})\n} catch {}\n'ok'",
        )
        expectValue(outcome, 'ok')
        expect(outcome.stats.toolCalls).toEqual([
          { tool: 'ping', ok: true, durationMs: expect.any(Number) },
          { tool: 'ping', ok: true, durationMs: expect.any(Number) },
          { tool: 'broken', ok: false, durationMs: expect.any(Number) },
        ])
        for (const record of outcome.stats.toolCalls) expect(record.durationMs).toBeGreaterThanOrEqual(0)
        expect(outcome.stats.durationMs).toBeGreaterThanOrEqual(0)
        const failed = await session.run('await ping({})\nnull.x')
        expectError(failed, { kind: 'runtime', name: 'TypeError' })
        expect(failed.stats.toolCalls).toEqual([{ tool: 'ping', ok: true, durationMs: expect.any(Number) }])
      },
    )

    // ---- finalAnswer -------------------------------------------------------------------------

    contractCase(
      'final-answer',
      'finalAnswer(value) ends the run with type final and the value',
      async ({ open }) => {
        const session = await open()
        expect(await session.run('finalAnswer({ answer: 42, items: [1, 2] })')).toMatchObject({
          type: 'final',
          answer: { answer: 42, items: [1, 2] },
        })
        const computed = await session.run('const x = 1\nfinalAnswer(x + 1)')
        expect(computed).toMatchObject({ type: 'final', answer: 2 })
        const empty = await session.run('finalAnswer()')
        expect(empty.type).toBe('final')
        expect(empty).toHaveProperty('answer', undefined)
      },
    )

    contractCase('final-answer-ends-run', 'no code after finalAnswer runs', async ({ open }) => {
      let calls = 0
      const ping = makeTool('ping', () => ++calls)
      const session = await open({ tools: [ping] })
      expect(
        await session.run("console.log('before')\nfinalAnswer('done')\nconsole.log('after')\nawait ping({})"),
      ).toMatchObject({ type: 'final', answer: 'done', logs: 'before\n' })
      expect(
        await session.run(
          "async function finish() {\n  await null\n  finalAnswer('from function')\n  console.log('after in function')\n}\nawait finish()\nconsole.log('after call')",
        ),
      ).toMatchObject({ type: 'final', answer: 'from function', logs: '' })
      expect(calls).toBe(0)
    })

    contractCase(
      'final-answer-caught',
      'catching what finalAnswer throws does not undo it: later logs, tool calls and answers have no effect',
      async ({ open }) => {
        let calls = 0
        const ping = makeTool('ping', () => ++calls)
        const session = await open({ tools: [ping] })
        const outcome = await session.run(
          [
            'try {',
            "  finalAnswer('first')",
            '} catch (error) {',
            "  console.log('caught')",
            '  await ping({})',
            "  finalAnswer('second')",
            '}',
            "console.log('after')",
          ].join('\n'),
        )
        expect(outcome).toMatchObject({ type: 'final', answer: 'first', logs: '' })
        expect(calls).toBe(0)
      },
    )

    // ---- console -----------------------------------------------------------------------------

    contractCase(
      'console-capture',
      'console.log/info/warn/error are captured in order and streamed to onLog',
      async ({ open }) => {
        const ping = makeTool('ping', () => 'pong')
        const session = await open({ tools: [ping] })
        const lines: string[] = []
        const outcome = await session.run(
          [
            "console.log('one')",
            "console.info('two', 2)",
            'await ping({})',
            "console.warn('three')",
            "console.error('four')",
            'console.log()',
            "console.log('multi\\nline')",
            "'done'",
          ].join('\n'),
          { onLog: (line) => lines.push(line) },
        )
        expectValue(outcome, 'done')
        expect(outcome.logs).toBe('one\ntwo 2\nthree\nfour\n\nmulti\nline\n')
        expect(lines).toEqual(['one', 'two 2', 'three', 'four', '', 'multi\nline'])
        expect((await session.run("console.log('fresh')")).logs, 'logs are per run').toBe('fresh\n')
      },
    )

    contractCase(
      'console-format',
      'console arguments are formatted in the shared format',
      async ({ open }) => {
        const session = await open()
        const outcome = await session.run(
          [
            "console.log('text', 42, -1.5, true, null, undefined, 10n)",
            "console.log({ a: 1, b: 'two', c: [1, 'x', null], 'd-e': {}, f: undefined })",
            'console.log([], {}, [[1, [2]]])',
            "console.log(new Map([['k', 1], [2, { v: true }]]), new Set([1, 'a']), new Map(), new Set())",
            'console.log(new Date(0), new Uint8Array([1, 2, 3]), /ab+c/gi)',
            "console.log(new TypeError('bad thing'), { error: new RangeError('nested') })",
            'console.log(function named() {}, () => 1, class Point {})',
            'console.log({ get computed() { return 1 } })',
            "const cycle = { name: 'loop' }",
            'cycle.self = cycle',
            'console.log(cycle)',
            "let deep = 'bottom'",
            'for (let i = 0; i < 8; i++) deep = { d: deep }',
            'console.log(deep, [[[[[[[1]]]]]]])',
            "console.log(NaN, -0, Infinity, Symbol('s'), 'quote \"inside\"', ['quote \"inside\"'])",
            'class Point { constructor() { this.x = 1; this.y = 2 } }',
            'console.log(new Point(), Object.assign(Object.create(null), { bare: true }))',
            "console.log('%s is not a format', 'this')",
          ].join('\n'),
        )
        expectOk(outcome)
        expect(outcome.logs.split('\n')).toEqual([
          'text 42 -1.5 true null undefined 10n',
          '{ a: 1, b: "two", c: [1, "x", null], "d-e": {}, f: undefined }',
          '[] {} [[1, [2]]]',
          'Map(2) { "k" => 1, 2 => { v: true } } Set(2) { 1, "a" } Map(0) {} Set(0) {}',
          '1970-01-01T00:00:00.000Z Uint8Array(3) [1, 2, 3] /ab+c/gi',
          'TypeError: bad thing { error: [RangeError: nested] }',
          '[Function: named] [Function (anonymous)] [class Point]',
          '{ computed: [Getter] }',
          '{ name: "loop", self: [Circular] }',
          '{ d: { d: { d: { d: { d: { d: [Object] } } } } } } [[[[[[[Array]]]]]]]',
          'NaN -0 Infinity Symbol(s) quote "inside" ["quote \\"inside\\""]',
          'Point { x: 1, y: 2 } { bare: true }',
          '%s is not a format this',
          '',
        ])
      },
    )

    contractCase(
      'console-truncation',
      'output past maxOutputBytes is cut with a visible marker and the run completes',
      async ({ open }) => {
        const session = await open({ limits: { maxOutputBytes: 1_000 } })
        const lines: string[] = []
        const outcome = await session.run(
          "for (let i = 0; i < 200; i++) console.log('line ' + i + ' ' + 'x'.repeat(20))\n'completed'",
          { onLog: (line) => lines.push(line) },
        )
        expectValue(outcome, 'completed')
        const { logs } = outcome
        expect(logs.startsWith('line 0 xxxx')).toBe(true)
        expect(logs).not.toContain('line 199 ')
        const entries = logs.slice(0, -1).split('\n')
        const marker = entries.pop() ?? ''
        expect(marker).toMatch(/truncated/i)
        const kept = Buffer.byteLength(logs) - Buffer.byteLength(marker) - 1
        expect(kept).toBeLessThanOrEqual(1_000)
        expect(kept, 'keeps output up to the limit').toBeGreaterThan(950)
        expect(lines.map((line) => `${line}\n`).join('')).toBe(logs)
        expect((await session.run("console.log('fresh')")).logs, 'the budget is per run').toBe('fresh\n')
      },
    )

    // ---- data boundary -----------------------------------------------------------------------

    contractCase(
      'data-round-trip',
      'undefined, Date, Map, Set, bigint, Uint8Array and nested data cross intact both ways',
      async ({ open }) => {
        const sample = () => ({
          text: 'héllo ✓',
          count: 3,
          ratio: 0.5,
          flag: true,
          nothing: null,
          missing: undefined,
          big: 12345678901234567890n,
          when: new Date('2024-01-02T03:04:05.000Z'),
          bytes: new Uint8Array([0, 1, 255]),
          lookup: new Map<Data, Data>([
            ['a', 1],
            [2, { deep: [true] }],
          ]),
          tags: new Set<Data>(['x', 'y']),
          nested: { list: [1, [2, [3]]], empty: {} },
          special: [Number.NaN, Infinity, -Infinity],
        })
        const echoed: unknown[] = []
        const getSample = makeTool('get_sample', sample)
        const echo = makeTool(
          'echo',
          (args) => {
            echoed.push((args as { value: unknown }).value)
            return null
          },
          objectSchema({ value: {} }),
        )
        const session = await open({ tools: [getSample, echo] })
        const outcome = await session.run(
          [
            'const s = await get_sample({})',
            'const checks = {',
            '  date: s.when instanceof Date && s.when.getUTCFullYear() === 2024,',
            "  map: s.lookup instanceof Map && s.lookup.get('a') === 1 && s.lookup.get(2).deep[0] === true,",
            "  set: s.tags instanceof Set && s.tags.has('y'),",
            '  bytes: s.bytes instanceof Uint8Array && s.bytes[2] === 255,',
            "  big: typeof s.big === 'bigint' && s.big === 12345678901234567890n,",
            "  missing: 'missing' in s && s.missing === undefined,",
            '  array: Array.isArray(s.nested.list),',
            '  plain: Object.getPrototypeOf(s.nested) === Object.prototype,',
            '}',
            'await echo({ value: s })',
            'const result = { checks, s }',
            'result',
          ].join('\n'),
        )
        const allTrue = {
          date: true,
          map: true,
          set: true,
          bytes: true,
          big: true,
          missing: true,
          array: true,
          plain: true,
        }
        expectValue(outcome, { checks: allTrue, s: sample() })
        expect(echoed).toHaveLength(1)
        expect(echoed[0]).toStrictEqual(sample())
        const final = await session.run('finalAnswer(new Map([[1, new Set([2n])]]))')
        expect(final).toMatchObject({ type: 'final' })
        expect((final as { answer?: unknown }).answer).toStrictEqual(new Map([[1, new Set([2n])]]))
      },
    )

    contractCase('data-errors', 'errors cross as plain { name, message } objects', async ({ open }) => {
      const failureResult = makeTool('get_failure', () => ({ failure: new TypeError('bad input') }))
      const session = await open({ tools: [failureResult] })
      expectValue(
        await session.run(
          'const { failure } = await get_failure({})\n;[failure instanceof Error, failure.name, failure.message, Object.keys(failure).sort()]',
        ),
        [false, 'TypeError', 'bad input', ['message', 'name']],
      )
      expectValue(await session.run("new RangeError('out of range')"), {
        name: 'RangeError',
        message: 'out of range',
      })
      expectValue(
        await session.run(
          "class MyError extends Error {\n  constructor(m) {\n    super(m)\n    this.name = 'MyError'\n  }\n}\n({ e: new MyError('custom') })",
        ),
        { e: { name: 'MyError', message: 'custom' } },
      )
    })

    /**
     * Runs a value that must not cross the boundary in the three places it can cross: as the run's
     * value, as the final answer and as a tool argument. `setup` declares `bad` with `var`, so the three
     * runs in one session do not depend on re-declaration working.
     */
    const refusalCase = (
      id: ContractCase,
      title: string,
      setup: string,
      problem: RegExp,
      afterwards?: (session: ExecutorSession) => Promise<void>,
    ) =>
      contractCase(id, title, async ({ open }) => {
        const echoed: unknown[] = []
        const echo = makeTool(
          'echo',
          (args) => {
            echoed.push(args)
            return null
          },
          objectSchema({ value: {} }),
        )
        const session = await open({ tools: [echo] })
        expectError(await session.run(`${setup}\n;({ result: bad })`), {
          kind: 'runtime',
          message: expect.stringMatching(problem),
        })
        expectError(await session.run(`${setup}\nfinalAnswer({ result: bad })`), {
          kind: 'runtime',
          message: expect.stringMatching(problem),
        })
        expectError(await session.run(`${setup}\nawait echo({ value: bad })`), {
          kind: 'tool',
          tool: 'echo',
          message: expect.stringMatching(problem),
        })
        expect(echoed, 'the tool never runs with a refused argument').toEqual([])
        await afterwards?.(session)
      })

    refusalCase(
      'data-refuse-function',
      'functions are refused with an error that names the path',
      'var bad = { callback() { return 1 } }',
      /function[\s\S]*callback|callback[\s\S]*function/i,
    )

    refusalCase(
      'data-refuse-getter',
      'getters are refused without running',
      "var bad = { get secret() { globalThis.getterRan = true; return 'leaked' } }",
      /getter/i,
      async (session) => {
        expectValue(await session.run('typeof getterRan'), 'undefined')
      },
    )

    refusalCase(
      'data-refuse-proxy',
      'proxies are refused without running their traps',
      [
        'var trap = () => { globalThis.trapRan = true }',
        'var bad = new Proxy({ a: 1 }, {',
        '  get(t, k) { trap(); return Reflect.get(t, k) },',
        '  ownKeys(t) { trap(); return Reflect.ownKeys(t) },',
        '  getOwnPropertyDescriptor(t, k) { trap(); return Reflect.getOwnPropertyDescriptor(t, k) },',
        '  getPrototypeOf(t) { trap(); return Reflect.getPrototypeOf(t) },',
        '})',
      ].join('\n'),
      /prox/i,
      async (session) => {
        expectValue(await session.run('typeof trapRan'), 'undefined')
      },
    )

    refusalCase(
      'data-refuse-thenable',
      'thenables are refused without calling then',
      'var bad = { then(resolve) { globalThis.thenRan = true; resolve(1) } }',
      /then/i,
      async (session) => {
        expectValue(await session.run('typeof thenRan'), 'undefined')
      },
    )

    refusalCase(
      'data-refuse-cycle',
      'cycles are refused; shared references that are not cycles are copied',
      "var bad = { name: 'a' }\nbad.self = bad",
      /cycle|circular/i,
      async (session) => {
        expectValue(await session.run('const shared = { x: 1 }\n;({ left: shared, right: shared })'), {
          left: { x: 1 },
          right: { x: 1 },
        })
      },
    )

    contractCase(
      'data-refuse-oversized',
      'values larger than maxValueBytes are refused in every direction',
      async ({ open }) => {
        let received = 0
        const echo = makeTool(
          'echo',
          () => {
            received++
            return null
          },
          objectSchema({ value: {} }),
        )
        const huge = makeTool('get_huge', () => 'y'.repeat(100_000))
        const session = await open({ tools: [echo, huge], limits: { maxValueBytes: 10_000 } })
        expectValue(await session.run("'x'.repeat(100).length"), 100)
        expectError(await session.run("'x'.repeat(100_000)"), { kind: 'limit', limit: 'maxValueBytes' })
        expectError(await session.run("finalAnswer('x'.repeat(100_000))"), {
          kind: 'limit',
          limit: 'maxValueBytes',
        })
        const sized = /maxValueBytes|bytes|too large|larger/i
        expectError(await session.run("await echo({ value: 'x'.repeat(100_000) })"), {
          kind: 'tool',
          tool: 'echo',
          message: expect.stringMatching(sized),
        })
        expect(received).toBe(0)
        expectError(await session.run('await get_huge({})'), {
          kind: 'tool',
          tool: 'get_huge',
          message: expect.stringMatching(sized),
        })
      },
    )

    // ---- errors ------------------------------------------------------------------------------

    contractCase(
      'error-syntax',
      'a syntax error has kind syntax, its position in the submitted code and a code frame',
      async ({ open }) => {
        const session = await open()
        const outcome = await session.run("console.log('ran')\nconst b = 2\nconst c = ;\nconst d = 4")
        const error = expectError(outcome, {
          kind: 'syntax',
          name: 'SyntaxError',
          message: expect.stringMatching(/\S/),
          line: 3,
          column: 11,
        })
        expect(error.codeFrame).toContain('const c = ;')
        expect(error.codeFrame).toContain('^')
        expect(outcome.logs, 'nothing runs when the code does not parse').toBe('')
        expect(outcome.stats.toolCalls).toEqual([])
      },
    )

    contractCase(
      'error-runtime-position',
      "a runtime error has its name, message, line and column in the submitted code, and keeps the run's logs",
      async ({ open }) => {
        const session = await open()
        const outcome = await session.run(
          [
            "console.log('step 1')",
            'const numbers = [1, 2, 3]',
            'const notAFunction = numbers.length',
            '  const result = notAFunction()',
          ].join('\n'),
        )
        const error = expectError(outcome, {
          kind: 'runtime',
          name: 'TypeError',
          message: expect.stringContaining('notAFunction'),
          line: 4,
          column: 18,
        })
        expect(error.codeFrame).toContain('const result = notAFunction()')
        expect(outcome.logs).toBe('step 1\n')
        expectError(await session.run('let x = 1\n\nx + missingName'), {
          kind: 'runtime',
          name: 'ReferenceError',
          message: expect.stringContaining('missingName'),
          line: 3,
          column: 5,
        })
      },
    )

    contractCase(
      'error-async',
      'an error thrown inside an awaited async function has the line it was thrown on',
      async ({ open }) => {
        const session = await open()
        expectError(
          await session.run(
            "async function load(text) {\n  await null\n  return JSON.parse(text)\n}\nconst data = await load('{not json')",
          ),
          { kind: 'runtime', name: 'SyntaxError', line: 3 },
        )
      },
    )

    contractCase(
      'error-non-error-thrown',
      'a thrown non-Error value becomes an error named Error with the value as message',
      async ({ open }) => {
        const session = await open()
        expectError(await session.run("throw 'plain string'"), {
          kind: 'runtime',
          name: 'Error',
          message: 'plain string',
        })
        expectError(await session.run("throw { code: 42, reason: 'x' }"), {
          kind: 'runtime',
          name: 'Error',
          message: '{ code: 42, reason: "x" }',
        })
        expectError(await session.run('throw null'), { kind: 'runtime', name: 'Error', message: 'null' })
      },
    )

    // ---- limits ------------------------------------------------------------------------------

    const limitTimeout = 10_000
    // The cases about time run endless loops. An executor that counts operations would stop them
    // at maxOperations first, which is not what they test.
    const unmetered = { maxOperations: Number.POSITIVE_INFINITY }

    contractCase(
      'limit-timeout',
      'an endless loop ends with a timeoutMs limit error soon after the deadline, even inside try',
      async ({ open }) => {
        const session = await open({ limits: { ...unmetered, timeoutMs: 500 } })
        let started = performance.now()
        const outcome = await session.run("console.log('started')\nwhile (true) {}")
        expect(performance.now() - started).toBeLessThan(500 + scaled(1_500))
        expectError(outcome, { kind: 'limit', limit: 'timeoutMs' })
        expect(outcome.logs, 'what the run printed before the limit is kept').toBe('started\n')
        started = performance.now()
        expectError(await session.run("try {\n  while (true) {}\n} catch {}\n'escaped'"), {
          kind: 'limit',
          limit: 'timeoutMs',
        })
        expect(performance.now() - started).toBeLessThan(500 + scaled(1_500))
      },
      limitTimeout,
    )

    contractCase(
      'limit-timeout-async',
      'the deadline covers the async tail: loops after await and promises that never settle',
      async ({ open }) => {
        let calls = 0
        const ping = makeTool('ping', () => ++calls)
        const session = await open({ tools: [ping], limits: { ...unmetered, timeoutMs: 500 } })
        const afterTool = await session.run('await ping({})\nwhile (true) {}')
        expectError(afterTool, { kind: 'limit', limit: 'timeoutMs' })
        expect(afterTool.stats.toolCalls, 'tool calls finished before the limit are kept').toEqual([
          { tool: 'ping', ok: true, durationMs: expect.any(Number) },
        ])
        const started = performance.now()
        expectError(await session.run('await new Promise(() => {})'), { kind: 'limit', limit: 'timeoutMs' })
        expect(performance.now() - started).toBeLessThan(500 + scaled(1_500))
      },
      limitTimeout,
    )

    contractCase(
      'limit-session-after',
      'after a limit the session keeps its state, or says it was lost and starts fresh',
      async ({ open }) => {
        const session = await open({ limits: { ...unmetered, timeoutMs: 500 }, variables: { initial: 'v' } })
        expectOk(await session.run("const kept = 'still here'"))
        const { error } = expectErrorOutcome(await session.run('while (true) {}'))
        expect(error).toMatchObject({ kind: 'limit', limit: 'timeoutMs' })
        expectValue(await session.run("[typeof kept === 'undefined' ? 'lost' : kept, initial, 1 + 1]"), [
          error.sessionLost === true ? 'lost' : 'still here',
          'v',
          2,
        ])
      },
      limitTimeout,
    )

    contractCase(
      'abort',
      'aborting the signal ends a busy run with kind aborted; the session stays usable',
      async ({ open }) => {
        const session = await open({ limits: { ...unmetered, timeoutMs: 20_000 } })
        const controller = new AbortController()
        const timer = setTimeout(() => controller.abort(), 100)
        const started = performance.now()
        const outcome = await session.run("console.log('working')\nwhile (true) {}", {
          signal: controller.signal,
        })
        clearTimeout(timer)
        expect(performance.now() - started).toBeLessThan(100 + scaled(1_500))
        expectError(outcome, { kind: 'aborted' })
        expect(outcome.logs).toBe('working\n')
        expectValue(await session.run('1 + 1'), 2)
      },
      limitTimeout,
    )

    contractCase('abort-before-start', 'an already aborted signal runs nothing', async ({ open }) => {
      let calls = 0
      const ping = makeTool('ping', () => ++calls)
      const session = await open({ tools: [ping] })
      const outcome = await session.run("console.log('ran')\nawait ping({})", { signal: AbortSignal.abort() })
      expectError(outcome, { kind: 'aborted' })
      expect(outcome.logs).toBe('')
      expect(calls).toBe(0)
    })

    contractCase(
      'abort-tool',
      "aborting during a tool call ends the run and aborts the tool's signal",
      async ({ open }) => {
        let toolSignal: AbortSignal | undefined
        const waitForever = makeTool('wait_forever', (_args, context) => {
          toolSignal = context.signal
          return new Promise((resolve) => {
            const timer = setTimeout(resolve, scaled(10_000))
            context.signal.addEventListener('abort', () => {
              clearTimeout(timer)
              resolve('stopped')
            })
          })
        })
        const session = await open({ tools: [waitForever], limits: { timeoutMs: 20_000 } })
        const controller = new AbortController()
        const timer = setTimeout(() => controller.abort(), 150)
        const started = performance.now()
        const outcome = await session.run('await wait_forever({})', { signal: controller.signal })
        clearTimeout(timer)
        expect(performance.now() - started).toBeLessThan(150 + scaled(1_500))
        expectError(outcome, { kind: 'aborted' })
        expect(toolSignal?.aborted).toBe(true)
      },
      limitTimeout,
    )

    contractCase(
      'limit-memory',
      'allocating past memoryMb ends the run with a limit error, not the host',
      async ({ executor, open, skip }) => {
        if (!executor.capabilities.memoryLimit) return skip('the executor does not claim memoryLimit')
        const session = await open({ limits: { memoryMb: 64, timeoutMs: 20_000 } })
        const outcome = await session.run(
          'const chunks = []\nwhile (true) chunks.push(new Array(1_000_000).fill(chunks.length))',
        )
        expectError(outcome, { kind: 'limit', limit: 'memoryMb' })
        expectValue(await session.run('1 + 1'), 2)
      },
      30_000,
    )

    contractCase(
      'limit-operations',
      'running past maxOperations ends the run with a limit error, even inside try',
      async ({ executor, open, skip }) => {
        if (!executor.capabilities.operationLimit) return skip('the executor does not claim operationLimit')
        const session = await open({ limits: { maxOperations: 10_000 } })
        expectError(await session.run('let i = 0\nwhile (true) i++'), {
          kind: 'limit',
          limit: 'maxOperations',
        })
        expectError(await session.run("try {\n  while (true) {}\n} catch {}\n'escaped'"), {
          kind: 'limit',
          limit: 'maxOperations',
        })
        expectValue(await session.run('1 + 1'), 2)
      },
      limitTimeout,
    )

    // ---- imports -----------------------------------------------------------------------------

    contractCase(
      'import-refused',
      'import, dynamic import and require of a module off the allowlist are forbidden and name the allowlist',
      async ({ open }) => {
        const allowedModules = importFixture === undefined ? [] : [importFixture.module]
        const session = await open({ allowedModules })
        const attempts: [code: string, module: string][] = [
          ["import fs from 'fs'\nfs.readFileSync('/etc/passwd', 'utf8')", 'fs'],
          ["import { readFileSync } from 'node:fs'\nreadFileSync('/etc/passwd', 'utf8')", 'node:fs'],
          ["const cp = await import('child_process')", 'child_process'],
          ["const os = require('os')\nos.hostname()", 'os'],
        ]
        for (const [code, module] of attempts) {
          const { kind, message } = expectErrorOutcome(await session.run(code)).error
          // The facts the message must state, as flags, so a failure shows which one is missing.
          expect({
            code,
            kind,
            message,
            namesModule: new RegExp(`\\b${escapeRegExp(module)}\\b`).test(message),
            saysAllow: /allow/i.test(message),
            namesAllowlist: allowedModules.every((allowed) => message.includes(allowed)),
          }).toEqual({
            code,
            kind: 'forbidden',
            message: expect.any(String),
            namesModule: true,
            saysAllow: true,
            namesAllowlist: true,
          })
        }
      },
    )

    contractCase(
      'import-allowed',
      'an allowlisted module loads through import, import * as, dynamic import and require',
      async ({ open, skip }) => {
        if (importFixture === undefined) return skip('no importFixture given')
        const { module, exportName, args, expected } = importFixture
        const session = await open({ allowedModules: [module] })
        const specifier = JSON.stringify(module)
        const member = JSON.stringify(exportName)
        const use = args === undefined ? '' : `(...${JSON.stringify(args)})`
        expectValue(
          await session.run(
            [
              `import { ${exportName} as viaNamed } from ${specifier}`,
              `import * as namespace from ${specifier}`,
              `const viaDynamic = (await import(${specifier}))[${member}]`,
              `const viaRequire = require(${specifier})[${member}]`,
              `const results = [viaNamed${use}, namespace[${member}]${use}, viaDynamic${use}, viaRequire${use}]`,
              'results',
            ].join('\n'),
          ),
          [expected, expected, expected, expected],
        )
      },
    )

    // ---- TypeScript --------------------------------------------------------------------------

    contractCase(
      'typescript',
      'type annotations, interfaces, as, generics and type-only imports run unchanged',
      async ({ open }) => {
        const weather = makeTool(
          'get_weather',
          () => ({ tempC: 21 }),
          objectSchema({ city: { type: 'string' } }),
        )
        const session = await open({ tools: [weather] })
        const outcome = await session.run(
          [
            "import type { Options } from 'some-library'",
            'interface Point { x: number; y: number }',
            'type Pair<T> = [T, T]',
            'function swap<T>(pair: Pair<T>): Pair<T> {',
            '  return [pair[1], pair[0]]',
            '}',
            'const p = { x: 1, y: 2 } as Point',
            'const n: number = p!.x + p.y',
            'const first = <T,>(xs: readonly T[]): T | undefined => xs[0]',
            'let maybe: string | undefined = undefined',
            "const w = (await get_weather({ city: 'Oslo' })) as { tempC: number }",
            'const pair = swap<number>([n, 10]) satisfies Pair<number>',
            'const out: unknown[] = [...pair, first<string>(["a"]), maybe ?? "none", w.tempC]',
            'out',
          ].join('\n'),
        )
        expectValue(outcome, [10, 3, 'a', 'none', 21])
        expectValue(await session.run('const q: Point = { x: p.x, y: 5 }\nq.y as number'), 5)
      },
    )

    contractCase(
      'typescript-positions',
      'error positions in TypeScript code point into the submitted code',
      async ({ open }) => {
        const session = await open()
        expectError(
          await session.run(
            [
              'interface Row { id: number; name: string }',
              "const rows: Row[] = [{ id: 1, name: 'a' }]",
              'const first = rows[0] as Row',
              'const total: number = first.id + (missing as number)',
            ].join('\n'),
          ),
          { kind: 'runtime', name: 'ReferenceError', line: 4, column: 35 },
        )
      },
    )

    // ---- dispose -----------------------------------------------------------------------------

    contractCase(
      'dispose',
      'runs after dispose fail with an internal error; dispose twice is fine',
      async ({ executor }) => {
        const session = await executor.createSession()
        expectValue(await session.run('1'), 1)
        await session.dispose()
        await session.dispose()
        expectError(await session.run('1'), { kind: 'internal', message: expect.stringMatching(/dispos/i) })
        const another = await executor.createSession()
        try {
          expectValue(await another.run('2'), 2)
        } finally {
          await another.dispose()
        }
      },
    )

    contractCase(
      'await-using',
      'await using disposes the session at the end of the block',
      async ({ executor }) => {
        let escaped: ExecutorSession | undefined
        {
          await using session = await executor.createSession()
          escaped = session
          expectValue(await session.run('1 + 1'), 2)
        }
        expectError(await escaped.run('1'), { kind: 'internal' })
      },
    )

    // A case added to the list but never registered would silently test nothing.
    const missing = contractCases.filter((id) => !registered.has(id))
    if (missing.length > 0)
      throw new Error(`describeExecutorContract: unregistered cases: ${missing.join(', ')}`)
  })
}

function makeTool(
  name: string,
  execute: (args: unknown, context: ToolContext) => unknown,
  parameters: JSONSchema = { type: 'object' },
): Tool {
  return defineTool({ name, description: `Contract test tool ${name}.`, parameters, execute })
}

function objectSchema(properties: Record<string, JSONSchema>): JSONSchema {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false }
}

type ErrorOutcome = Extract<RunOutcome, { type: 'error' }>

function expectOk(outcome: RunOutcome): asserts outcome is Extract<RunOutcome, { type: 'value' }> {
  const detail =
    outcome.type === 'error' ? `: ${outcome.error.kind} ${outcome.error.name}: ${outcome.error.message}` : ''
  expect(outcome, `the run completes, got ${outcome.type}${detail}`).toMatchObject({ type: 'value' })
}

function expectValue(outcome: RunOutcome, expected: unknown): void {
  expectOk(outcome)
  expect(outcome.value).toStrictEqual(expected)
}

function expectErrorOutcome(outcome: RunOutcome): ErrorOutcome {
  expect(outcome, 'the run fails').toMatchObject({ type: 'error' })
  return outcome as ErrorOutcome
}

function expectError(outcome: RunOutcome, expected: { [K in keyof RunError]?: unknown }): RunError {
  expect(outcome).toMatchObject({ type: 'error', error: expected })
  return (outcome as ErrorOutcome).error
}

function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
