import { type RunOutcome, defineTool } from '@airlock/core'
import { describe, expect, it } from 'vitest'
import { createLocalExecutor } from '../../src/index.js'

// First escape tests: every way to reach a host `Function` that the architecture closes by
// construction. The payload marks the HOST global; success for the sandbox is never seeing it.
const payload =
  "globalThis.__ESCAPED__ = true; if (typeof process === 'object' && process) process.env.__ESCAPED__ = '1'"
const host = globalThis as { __ESCAPED__?: unknown }

async function run(
  code: string,
  options: Parameters<ReturnType<typeof createLocalExecutor>['createSession']>[0] = {},
) {
  const session = await createLocalExecutor().createSession(options)
  try {
    return await session.run(code)
  } finally {
    await session.dispose()
    expect(host.__ESCAPED__).toBeUndefined()
    expect(process.env.__ESCAPED__).toBeUndefined()
  }
}

function value(outcome: RunOutcome): unknown {
  if (outcome.type !== 'value') throw new Error(`expected a value, got ${JSON.stringify(outcome)}`)
  return outcome.value
}

const sources: Record<string, string> = {
  function: '(function () {})',
  arrow: '(() => 1)',
  'async function': '(async function () {})',
  'async arrow': '(async () => 1)',
  'generator function': '(function* () {})',
  'async generator function': '(async function* () {})',
  class: '(class {})',
  'derived class': '(class extends Array {})',
  method: '({ m() {} }).m',
  getter: "Object.getOwnPropertyDescriptor({ get g() { return 1 } }, 'g').get",
  'bound function': '(function () {}).bind(null)',
  array: '[]',
  object: '({})',
  string: "'text'",
  number: '(1)',
  regexp: '/a/',
  symbol: "Symbol('s')",
  bigint: '1n',
  promise: 'Promise.resolve(1)',
  'async function result': '(async () => 1)()',
  'generator object': '(function* () {})()',
  'async generator object': '(async function* () {})()',
  'iterator result': '[1][Symbol.iterator]().next()',
  arguments: '(function () { return arguments })()',
  'template object': '((s) => s)`a`',
  'caught TypeError': 'await (async () => { try { null.x } catch (e) { return e } })()',
  'caught ReferenceError': 'await (async () => { try { missing } catch (e) { return e } })()',
  'caught SyntaxError': "await (async () => { try { JSON.parse('{') } catch (e) { return e } })()",
  'caught not-a-function': 'await (async () => { try { (1)() } catch (e) { return e } })()',
  'caught BigInt mix': 'await (async () => { try { 1n + 1 } catch (e) { return e } })()',
  'rejected promise reason':
    'await (async () => { try { await Promise.reject(new Error("x")) } catch (e) { return e } })()',
  globalThis: 'globalThis',
  this: 'this',
  'console.log': 'console.log',
  finalAnswer: 'finalAnswer',
  require: 'require',
  tool: 'ping',
  'tool promise': 'ping({})',
}

const ping = defineTool({
  name: 'ping',
  description: 'Ping.',
  parameters: { type: 'object' },
  execute: () => 'pong',
})

describe('constructor chains lead only to the sandbox Function', () => {
  it.each(Object.entries(sources))('%s', async (_name, source) => {
    const outcome = await run(
      [
        `const x = ${source}`,
        'const F = x.constructor.constructor',
        // Function, or GeneratorFunction & co.: all are the interpreter's own constructors.
        'const chainOk = typeof F === "function" && F instanceof Object && (F === Function || Function.prototype.isPrototypeOf(F))',
        'let ran',
        'try {',
        `  let r = F(${JSON.stringify(payload)} + '; return typeof process')()`,
        // Generator, async and async generator constructors are interpreted too: drive them.
        "  if (r && typeof r.next === 'function') r = r.next()",
        '  r = await r',
        "  ran = r !== null && typeof r === 'object' && 'value' in r ? r.value : r",
        '} catch (e) { ran = e.name }',
        ';[chainOk, ran]',
      ].join('\n'),
      { tools: [ping] },
    )
    // The sandbox Function is the interpreter's own: it runs the payload inside the sandbox.
    expect(value(outcome)).toEqual([true, 'undefined'])
  })
})

describe('host errors and stack machinery', () => {
  it('engine errors caught by sandbox code are sandbox-realm errors', async () => {
    const outcome = await run(
      [
        'const checks = []',
        'try { null.x } catch (e) { checks.push(e instanceof TypeError, e.constructor === TypeError) }',
        'try { undefined.y = 1 } catch (e) { checks.push(e instanceof TypeError) }',
        "try { Symbol() + '' } catch (e) { checks.push(e instanceof TypeError) }",
        'try { [].reduce((a, b) => a) } catch (e) { checks.push(e instanceof TypeError) }',
        'try { new Array(-1) } catch (e) { checks.push(e instanceof RangeError) }',
        'checks',
      ].join('\n'),
    )
    expect(value(outcome)).toEqual([true, true, true, true, true, true])
  })

  it('a stack overflow is a sandbox RangeError or a limit, never a host error', async () => {
    const outcome = await run(
      'function f() { return f() }\nlet r\ntry { f() } catch (e) { r = [e instanceof RangeError, e.constructor === RangeError] }\nr',
      { limits: { maxCallDepth: Infinity } },
    )
    expect(value(outcome)).toEqual([true, true])
    const limited = await run('function f() { return f() }\ntry { f() } catch (e) {}\n"escaped"')
    expect(limited).toMatchObject({ type: 'error', error: { kind: 'limit', limit: 'maxCallDepth' } })
  })

  it('stacks show no host frames and prepareStackTrace never receives CallSites', async () => {
    const outcome = await run(
      [
        'Error.prepareStackTrace = (e, frames) => frames',
        'let s1; try { null.x } catch (e) { s1 = e.stack }',
        "const s2 = new Error('y').stack",
        ';[typeof s1, String(s1).includes("file:"), String(s2)]',
      ].join('\n'),
    )
    expect(value(outcome)).toEqual(['string', false, 'Error: y'])
  })

  it('fn.caller and arguments.callee give no access to callers', async () => {
    const outcome = await run(
      [
        'const out = []',
        'function probe() { try { out.push(typeof probe.caller) } catch (e) { out.push(e.name) } }',
        '[1].map(probe)',
        'probe()',
        "try { (function () { 'use strict'; return arguments.callee })() } catch (e) { out.push(e.name) }",
        'out',
      ].join('\n'),
    )
    for (const entry of value(outcome) as string[])
      expect(['TypeError', 'object', 'undefined']).toContain(entry)
    expect((value(outcome) as string[]).includes('function')).toBe(false)
  })
})

describe('integrity', () => {
  it('prototype pollution in the sandbox is invisible on the host', async () => {
    const outcome = await run(
      [
        "Object.prototype.__polluted__ = 'yes';",
        "Array.prototype.__polluted__ = 'yes';",
        "({}).__proto__.__polluted_tpl__ = 'yes';",
        "Function.prototype.__polluted__ = 'yes';",
        "Object.defineProperty(Object.prototype, 'then', { get() { globalThis.thenRead = true; return undefined }, configurable: true })",
        ';[1, { a: 1 }]',
      ].join('\n'),
    )
    expect(value(outcome)).toEqual([1, { a: 1 }])
    expect(({} as Record<string, unknown>).__polluted__).toBeUndefined()
    expect(([] as unknown as Record<string, unknown>).__polluted__).toBeUndefined()
    expect((Function.prototype as unknown as Record<string, unknown>).__polluted__).toBeUndefined()
  })

  it('replacing built-ins does not change how the interpreter works', async () => {
    const outcome = await run(
      [
        'Array.prototype.push = () => { throw new Error("patched push") }',
        'Function.prototype.call = () => { throw new Error("patched call") }',
        'Function.prototype.apply = () => { throw new Error("patched apply") }',
        'Reflect.apply = () => { throw new Error("patched Reflect.apply") }',
        'Object.defineProperty = () => { throw new Error("patched defineProperty") }',
        'Map.prototype.set = () => { throw new Error("patched Map.set") }',
        'Promise.prototype.then = function () { throw new Error("patched then") }',
        'class A { #x = 1; get x() { return this.#x } }',
        'const { a, ...rest } = { a: 1, b: 2 }',
        'const [first, ...others] = [1, 2, 3]',
        "console.log('still logging', [first, others])",
        'const w = await ping({})',
        ';[new A().x, a, rest, first, others, w]',
      ].join('\n'),
      { tools: [ping] },
    )
    expect(outcome).toMatchObject({ type: 'value', value: [1, 1, { b: 2 }, 1, [2, 3], 'pong'] })
    expect(outcome.logs).toBe('still logging [1, [2, 3]]\n')
  })

  it('a returned promise is awaited inside the realm, never through a sandbox then', async () => {
    const session = await createLocalExecutor().createSession()
    const outcome = await session.run(
      [
        'const p = Promise.resolve(1)',
        'p.then = function (resolve) { globalThis.captured = resolve; resolve(2) }',
        'p',
      ].join('\n'),
    )
    // A native promise is awaited natively (its own `then` is not consulted), as `await` does.
    expect(outcome).toMatchObject({ type: 'value', value: 1 })
    expect(await session.run('typeof captured')).toMatchObject({ value: 'undefined' })
    const subclass = await session.run(
      [
        'class P extends Promise {}',
        'P.prototype.then = function (resolve, reject) { globalThis.seen = [resolve.constructor === Function, reject.constructor === Function]; return Promise.prototype.then.call(this, resolve, reject) }',
        'P.resolve(3)',
      ].join('\n'),
    )
    expect(subclass).toMatchObject({ type: 'value', value: 3 })
    expect(await session.run('seen')).toMatchObject({ value: [true, true] })
    await session.dispose()
  })

  it('limit signals cannot be caught, even by promise handlers, and skip finally', async () => {
    const outcome = await run(
      [
        'let log = []',
        "const p = new Promise(() => { while (true) {} }).catch(() => log.push('caught'))",
        "try { while (true) {} } finally { log.push('finally') }",
      ].join('\n'),
      { limits: { maxOperations: 10_000 } },
    )
    expect(outcome).toMatchObject({ type: 'error', error: { kind: 'limit', limit: 'maxOperations' } })
    expect(outcome.logs).toBe('')
  })

  it('sessions do not share realms', async () => {
    const executor = createLocalExecutor()
    const a = await executor.createSession()
    const b = await executor.createSession()
    await a.run('Array.prototype.shared = 1; globalThis.g = 1')
    expect(await b.run('[[].shared, typeof g]')).toMatchObject({ value: [undefined, 'undefined'] })
    await a.dispose()
    await b.dispose()
  })
})
