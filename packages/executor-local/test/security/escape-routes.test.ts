import { describe, expect, it } from 'vitest'
import { PAYLOAD, run, valueOf } from './helpers.js'

// Escape routes of the attack document beyond plain constructor chains. Each case computes a value
// `x` by one route; the harness checks that `x` belongs to the sandbox realm, then runs the payload
// through `x.constructor.constructor`. Safe outcome: the payload runs inside the sandbox (where
// `typeof process` is 'undefined') or cannot run at all, and the host global is never marked.
const cases: Record<string, string> = {
  'descriptor of Function.prototype.constructor':
    "return Object.getOwnPropertyDescriptor(Function.prototype, 'constructor').value.prototype",
  'descriptors of every intrinsic prototype': `
    const names = ['Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'RegExp', 'Promise', 'Map', 'Set', 'Error', 'Date']
    return names.map((n) => Object.getOwnPropertyDescriptors(globalThis[n].prototype).constructor.value)`,
  '__lookupGetter__ of __proto__ called on a function':
    "return ({}).__lookupGetter__('__proto__').call(() => 1)",
  '__proto__ walk from a guarded built-in': 'return String.prototype.repeat.__proto__',
  'constructor of a guarded built-in': "return ''.padStart",
  'constructor of the guarded Set': 'return Set',
  'constructor of a guarded RegExp method': 'return RegExp.prototype[Symbol.replace]',
  'Array Symbol.species receives engine arguments': `
    let seen
    class Evil extends Array { static get [Symbol.species]() { return function (...a) { seen = a; return [] } } }
    Evil.from([1, 2]).map((v) => v)
    return seen`,
  'Promise Symbol.species capability executor': `
    let executor
    const p = Promise.resolve(1)
    p.constructor = { [Symbol.species]: function (ex) { executor = ex; ex(() => {}, () => {}) } }
    p.then(() => {})
    return executor`,
  'RegExp Symbol.species in split': `
    let args
    const re = /,/
    re.constructor = { [Symbol.species]: function (...a) { args = a; return /,/y } }
    'a,b'.split(re)
    return args`,
  'Symbol.toPrimitive receives a hint from the interpreter': `
    let hintFn
    const o = { [Symbol.toPrimitive](hint) { hintFn = arguments; return 1 } }
    o + 1
    return hintFn`,
  'Symbol.hasInstance receives the left operand': `
    let seen
    const C = { [Symbol.hasInstance](v) { seen = arguments; return false } }
    null instanceof C
    return seen`,
  'proxy apply trap arguments': `
    let captured
    const p = new Proxy(function () {}, { apply(t, self, args) { captured = args; return 1 } })
    p(1, 2)
    return captured`,
  'proxy construct trap arguments and newTarget': `
    let captured
    const P = new Proxy(class {}, { construct(t, args, nt) { captured = [args, nt]; return {} } })
    new P(1)
    return captured[0]`,
  'proxy getPrototypeOf trap receives the target': `
    let target
    const p = new Proxy({}, { getPrototypeOf(t) { target = t; return null } })
    p instanceof Object
    return target`,
  'proxy defineProperty trap on a strict assignment': `
    let d
    const p = new Proxy({}, { defineProperty(t, k, desc) { d = desc; return true } })
    ;(() => { 'use strict'; p.x = 1 })()
    return d`,
  'proxy defineProperty trap on a sloppy assignment and a class field': `
    const seen = []
    const p = new Proxy({}, { defineProperty(t, k, desc) { seen.push(desc); return true } })
    p.y = 2
    class C { f = 1; constructor() { return p } }
    class D extends C { g = 2 }
    new D()
    return seen`,
  'proxy of a proxy forwards without a trap': `
    let captured
    const inner = new Proxy(function () {}, { apply(t, s, a) { captured = a } })
    const outer = new Proxy(inner, {})
    outer(1)
    return captured`,
  'revocable proxy apply trap': `
    let captured
    const { proxy } = Proxy.revocable(function () {}, { apply(t, s, a) { captured = a } })
    proxy(3)
    return captured`,
  'proxy handler that is itself a proxy': `
    let got
    const handler = new Proxy({}, { get(t, name) { return (...a) => { got = a; return Reflect[name](...a) } } })
    const p = new Proxy(function () {}, handler)
    p(1)
    return got`,
  'proxy as a thrown value is caught unchanged': `
    const p = new Proxy({}, {})
    try { throw p } catch (e) { return e }`,
  'Error.prepareStackTrace hook after a replaced Error global': `
    let frames
    const Hook = function () {}
    Hook.prepareStackTrace = (e, cs) => { frames = cs; return '' }
    globalThis.Error = Hook
    try { null.x } catch (e) { e.stack }
    return frames`,
  'Error.captureStackTrace on an object': `
    const o = {}
    Error.captureStackTrace?.(o)
    return o.stack`,
  'error name as a symbol (error-generation primitive)': `
    const e = new Error('x'); e.name = Symbol('s')
    try { return String(e) } catch (err) { return err }`,
  'toString proxy as error name': `
    let args
    const e = new Error('x')
    e.name = { toString: new Proxy(function () { return 'n' }, { apply(t, s, a) { args = a; return 'n' } }) }
    try { String(e) } catch {}
    return args`,
  'Function.prototype.caller from a realm callback': `
    let caller = 'none'
    function probe() { try { caller = probe.caller } catch (e) { caller = e } }
    ;[1].forEach(probe)
    return caller`,
  'arguments.callee.caller in sloppy code': `
    let got
    function f() { try { got = arguments.callee.caller } catch (e) { got = e } }
    JSON.parse('[1]', function (k, v) { f(); return v })
    return got`,
  'thenable returned to the host is awaited in the realm': `
    let resolver
    globalThis.t = { then(resolve) { resolver = resolve; resolve(1) } }
    await t
    return resolver`,
  'tool result constructor chain': 'return await echo({ list: [1], nested: { a: 1 } })',
  'tool promise constructor chain': 'return echo({})',
  'rejected tool promise reason': "try { await echo(undefined) } catch (e) { return e } return 'resolved'",
  'engine error from a guarded built-in (symbol receiver)':
    'try { String.prototype.padStart.call(Symbol(), 3) } catch (e) { return e }',
  'engine error from a refused array-like': `
    try { Array.prototype.join.call({ get length() { return 1 } }) } catch (e) { return e }`,
  'engine error from a limit-free native failure': "try { 'x'.repeat(-1) } catch (e) { return e }",
  'engine error thrown inside a regular expression replacer': `
    try { 'abc'.replace(/b/, () => null.x) } catch (e) { return e }`,
  'key whose toString changes between check and access': `
    let n = 0
    const key = { toString() { return n++ === 0 ? 'harmless' : 'constructor' } }
    const o = {}
    return o[key]`,
  'key object used in destructuring and in': `
    let n = 0
    const key = { toString() { return ++n % 2 ? 'x' : '__proto__' } }
    const { [key]: v } = { x: 1 }
    return [v, key in {}]`,
  'bind chain depth': `
    let f = function () { return this }
    for (let i = 0; i < 200; i++) f = f.bind(null)
    return f`,
  'Reflect.construct with a foreign newTarget': 'return Reflect.construct(Array, [], Function)',
  'Object.values and entries of globalThis': `
    return Object.getOwnPropertyNames(globalThis).map((k) => { try { return globalThis[k] } catch { return undefined } }).filter((v) => typeof v === 'function')`,
  'Symbol.for registry symbol description': "return Symbol.for('nodejs.util.inspect.custom')",
  'FinalizationRegistry and WeakRef': `
    return [typeof FinalizationRegistry === 'function' ? new FinalizationRegistry(() => {}) : 1, typeof WeakRef === 'function' ? new WeakRef({}) : 1]`,
  'Iterator helpers over a host iterator': 'return [1, 2].values().map((x) => x).toArray()',
  'async generator return with a thenable': `
    async function* g() { yield 1 }
    const it = g()
    await it.next()
    return await it.return({ then(r) { r(arguments) } })`,
  'SuppressedError / AggregateError containers': `
    try { await Promise.any([Promise.reject(new Error('a'))]) } catch (e) { return e.errors }`,
  'eval and indirect eval results':
    "return [(0, eval)('(function () {})'), (0, eval)('[]'), (0, eval)('new Error()')]",
  'Function constructor built from pieces': "return Function('a', 'return a')",
  'generator prototype chain': 'return Object.getPrototypeOf(function* () {}).constructor',
  'async generator prototype chain': 'return Object.getPrototypeOf(async function* () {}).constructor',
}

describe('escape routes end inside the sandbox', () => {
  it.each(Object.entries(cases))('%s', async (_name, body) => {
    const outcome = await run(
      [
        `const x = await (async () => { ${body} })()`,
        'const values = Array.isArray(x) ? [x, ...Array.prototype.slice.call(x)] : [x]',
        'const realm = (v) => {',
        "  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return true",
        '  for (let p = v; p !== null; p = Object.getPrototypeOf(p)) if (p === Object.prototype || p === Function.prototype) return true',
        '  return Object.getPrototypeOf(v) === null',
        '}',
        'const results = []',
        'for (const v of values) {',
        '  let r',
        '  try {',
        '    const F = v == null ? Function : v.constructor && v.constructor.constructor',
        `    r = typeof F === 'function' ? await F(${JSON.stringify(PAYLOAD)})() : 'no constructor'`,
        "    if (r !== null && typeof r === 'object') r = r.value",
        "  } catch (e) { r = 'threw' }",
        '  results.push([realm(v), r])',
        '}',
        'results',
      ].join('\n'),
    )
    const results = valueOf(outcome) as [boolean, unknown][]
    expect(results.length).toBeGreaterThan(0)
    for (const [isRealm, ran] of results) {
      expect(isRealm).toBe(true)
      // The payload returns `typeof process`: 'undefined' when it ran inside the sandbox.
      expect(['undefined', 'threw', 'no constructor']).toContain(ran)
    }
  })
})

describe('refused routes', () => {
  it.each([
    ['with statement', 'with ({}) { 1 }', 'syntax'],
    ['dynamic import with a computed name', "const m = 'child' + '_process'; await import(m)", 'forbidden'],
    ['require with a computed name', "require(['f', 's'].join(''))", 'forbidden'],
    ['require of a node: builtin', "require('node:fs')", 'forbidden'],
    ['import of a file URL', "await import('file:///etc/passwd')", 'forbidden'],
    ['import of a data URL', "await import('data:text/javascript,globalThis.x=1')", 'forbidden'],
    ['import.meta', 'import.meta', 'syntax'],
  ])('%s', async (_name, code, kind) => {
    const outcome = await run(code)
    expect(outcome).toMatchObject({ type: 'error', error: { kind } })
  })
})
