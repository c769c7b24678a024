import { beforeAll, describe, expect, it } from 'vitest'
import { createLocalExecutor } from '../../src/index.js'
import { run, valueOf } from './helpers.js'

// Pollution: whatever a sandbox changes stays in its own realm. Each case mutates something, then
// the host's intrinsics and a fresh session are compared with their state before the run.
const hostPrototypes: Record<string, object> = {
  Object: Object.prototype,
  Array: Array.prototype,
  Function: Function.prototype,
  String: String.prototype,
  Number: Number.prototype,
  RegExp: RegExp.prototype,
  Promise: Promise.prototype,
  Error: Error.prototype,
  Map: Map.prototype,
  Set: Set.prototype,
  Symbol: Symbol.prototype,
  JSON,
  Math,
  Reflect,
  globalThis,
}

function snapshot(): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [name, target] of Object.entries(hostPrototypes)) {
    // Node adds undici's dispatcher symbols to the host global lazily, whatever the sandbox does.
    const keys = Reflect.ownKeys(target).filter((key) => !String(key).startsWith('Symbol(undici.'))
    out[name] = keys.map((key) => {
      const d = Object.getOwnPropertyDescriptor(target, key)!
      return `${String(key)}:${typeof d.value === 'function' ? d.value.name : typeof d.value}:${typeof d.get}`
    })
  }
  return out
}

const mutations: Record<string, string> = {
  'Object.prototype property': "Object.prototype.polluted = 'yes'",
  'Object.prototype through __proto__': "({}).__proto__.polluted = 'yes'",
  'Object.prototype through constructor.prototype': "({}).constructor.prototype.polluted = 'yes'",
  'Array.prototype methods replaced':
    'Array.prototype.map = () => "hijacked"; Array.prototype.join = () => "hijacked"',
  'Function.prototype.call and apply replaced':
    'Function.prototype.call = () => 1; Function.prototype.apply = () => 1',
  'String.prototype guarded method replaced': "String.prototype.repeat = () => 'hijacked'",
  'RegExp.prototype.exec replaced': 'RegExp.prototype.exec = () => null',
  'Promise.prototype.then replaced': 'Promise.prototype.then = function () { return 1 }',
  'Error.prepareStackTrace assigned':
    'Error.prepareStackTrace = () => "hijacked"; Error.stackTraceLimit = 100',
  'Symbol.hasInstance on Object': 'Object.defineProperty(Object, Symbol.hasInstance, { value: () => true })',
  'Symbol.iterator of arrays replaced':
    'Array.prototype[Symbol.iterator] = function* () { yield "hijacked" }',
  'JSON and Math replaced': 'JSON.parse = () => "hijacked"; Math.random = () => 4',
  'global names defined': 'globalThis.leak = 1; var leakVar = 1; function leakFn() {}',
  'prototypes frozen': 'Object.freeze(Object.prototype); Object.freeze(Array.prototype)',
  'setPrototypeOf on intrinsic prototypes': 'Object.setPrototypeOf(Array.prototype, null)',
  'Array species replaced':
    'Object.defineProperty(Array, Symbol.species, { get() { return function () { return {} } } })',
  'Proxy replaced': 'globalThis.Proxy = function () { return {} }',
  'Set and Map replaced': 'globalThis.Set = function () {}; Map.prototype.set = () => { throw 1 }',
}

describe('sandbox mutations stay in the sandbox', () => {
  // The first session creates what Node sets up lazily on the host (undici's dispatcher symbols).
  beforeAll(async () => {
    await run('1')
  })

  it.each(Object.entries(mutations))('%s', async (_name, code) => {
    const before = snapshot()
    const outcome = await run(`${code}\n;'done'`)
    expect(valueOf(outcome)).toBe('done')
    expect(snapshot()).toEqual(before)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect([1, 2].map((x) => x * 2).join('-')).toBe('2-4')
    // A fresh session sees pristine intrinsics.
    const fresh = await run(
      "[[1, 2].map((x) => x * 2).join('-'), 'ab'.repeat(2), /b/.exec('abc')[0], typeof leak, ({}).polluted, [...[3]][0], new Set([1]).size, JSON.parse('1'), Object.isFrozen(Object.prototype)]",
    )
    expect(valueOf(fresh)).toEqual(['2-4', 'abab', 'b', 'undefined', undefined, 3, 1, 1, false])
  })
})

describe('the interpreter does not depend on what the sandbox changed', () => {
  it('guards keep charging and copying after the sandbox replaces the built-ins they use', async () => {
    const outcome = await run(
      [
        'Array.prototype.slice = () => { throw new Error("slice") }',
        'Array.prototype[Symbol.iterator] = function () { throw new Error("iterator") }',
        'Reflect.apply = () => { throw new Error("apply") }',
        'Object.getOwnPropertyDescriptor = () => { throw new Error("gopd") }',
        'const p = new Proxy(function () {}, { apply(t, s, a) { return a.length } })',
        "const r = /a/.exec('cat')",
        ";[p(1, 2), r[0], 'x'.padStart(3, '-'), Array.from({ length: 2 }, (_, i) => i).length, { ...{ a: 1 } }.a]",
      ].join('\n'),
    )
    expect(valueOf(outcome)).toEqual([2, 'a', '--x', 2, 1])
  })

  it('a changed session does not change the next run of another session', async () => {
    const executor = createLocalExecutor()
    const a = await executor.createSession()
    const b = await executor.createSession()
    await a.run("String.prototype.padStart = () => 'A'; globalThis.shared = 1")
    expect(await b.run("['x'.padStart(2), typeof shared]")).toMatchObject({ value: [' x', 'undefined'] })
    await a.dispose()
    await b.dispose()
  })

  it('an allowlisted module instance changed by one session is unchanged in another', async () => {
    const executor = createLocalExecutor()
    const options = { allowedModules: ['acorn'] }
    const a = await executor.createSession(options)
    const b = await executor.createSession(options)
    await a.run("const acorn = require('acorn'); acorn.version = 'polluted'; acorn.parse = null")
    expect(
      await b.run("const acorn = require('acorn'); [acorn.version === 'polluted', typeof acorn.parse]"),
    ).toMatchObject({
      value: [false, 'function'],
    })
    await a.dispose()
    await b.dispose()
  })
})
