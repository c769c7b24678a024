import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { createLocalExecutor } from '../../src/index.js'
import { run, valueOf } from './helpers.js'

// The guarded built-ins must look and behave like the originals: same name and length, not
// constructible when the original is not, the same results on ordinary inputs.
const guarded = [
  'String.prototype.repeat',
  'String.prototype.padStart',
  'String.prototype.split',
  'String.prototype.replaceAll',
  'String.prototype.indexOf',
  'Array.prototype.join',
  'Array.prototype.fill',
  'Array.prototype.sort',
  'Array.prototype.concat',
  'Array.prototype.flatMap',
  'Array.prototype.includes',
  'Array.from',
  'Object.keys',
  'Object.fromEntries',
  'Promise.all',
  'JSON.parse',
  'JSON.stringify',
  'RegExp.prototype.exec',
  'RegExp.prototype[Symbol.replace]',
  'RegExp.prototype[Symbol.split]',
  'BigInt.prototype.toString',
  'Atomics.wait',
  'Iterator.prototype.toArray',
  'Array',
  'Set',
  'Map',
  'Proxy',
]

describe('guarded built-ins look like the originals', () => {
  it.each(guarded)('%s', async (path) => {
    const probe = `[${path}.name, ${path}.length, typeof ${path}, Object.getPrototypeOf(${path}) === Function.prototype, ${path}.constructor === Function, 'prototype' in ${path}, String(${path})]`
    const expected = vm.runInNewContext(probe)
    expect(valueOf(await run(probe))).toEqual([...expected])
  })
})

describe('guarded built-ins give the original results', () => {
  it.each([
    ["'ab'.repeat(3) + 'x'.padStart(3, '-') + 'y'.padEnd(2) + 'a'.concat(1, null)", 'ababab--xy a1null'],
    ["'a,b,,c'.split(',', 3).join('|') + 'abc'.split('').length + 'a1b2'.split(/\\d/).length", 'a|b|33'],
    ["'aXbX'.replaceAll('X', '$&$&') + 'aaa'.replace('a', (m) => m.toUpperCase())", 'aXXbXXAaa'],
    [
      '[3, 1, 2].sort().join() + [1, [2, [3]]].flat(Infinity).length + [1, 2].flatMap((x) => [x, x]).length',
      '1,2,334',
    ],
    ['Array.from({ length: 3 }, (_, i) => i * 2).join() + Array.from(new Set([1, 1, 2])).length', '0,2,42'],
    // Array.fromAsync takes what Array.from takes (array-likes and primitives too), awaiting each element.
    [
      "[(await Array.fromAsync({ length: 2, 0: 'a', 1: Promise.resolve('b') })).join(), (await Array.fromAsync(3)).length, (await Array.fromAsync(new Set([1, 2]), (x) => x * 2)).join(), (await Array.fromAsync((async function* () { yield 7 })())).join()].join('|')",
      'a,b|0|2,4|7',
    ],
    [
      '[Array(3).length, new Array(2, 3).join(), Array.of(7).length, [].constructor === Array].join()',
      '3,2,3,1,true',
    ],
    [
      'class A extends Array {}\nconst a = new A(1, 2)\n;[a instanceof A, a.map((x) => x).constructor === A, Array.isArray(a)].join()',
      'true,true,true',
    ],
    [
      'class S extends Set { constructor(v) { super(v); this.tag = 1 } }\nconst s = new S([1, 2, 2])\n;[s.size, s.tag, s instanceof Set].join()',
      '2,1,true',
    ],
    ['new Map([[1, "a"]]).get(1) + Map.groupBy([1, 2, 3], (x) => x % 2).get(1).length', 'a2'],
    ['Object.fromEntries(new Map([["k", 1]])).k + Object.keys("abc").length', '4'],
    ['(await Promise.all([1, Promise.resolve(2)])).join() + (await Promise.race(new Set([3])))', '1,23'],
    // A combinator rejects, rather than throws, when its argument cannot be iterated.
    [
      "(await Promise.all(5).catch((e) => e instanceof TypeError)) + '|' + (await Promise.race({ [Symbol.iterator]() { throw new RangeError('boom') } }).catch((e) => e.message))",
      'true|boom',
    ],
    ["JSON.stringify(JSON.parse('{\"a\":[1,2]}', (k, v) => (k === '0' ? 9 : v)))", '{"a":[9,2]}'],
    ['(2n ** 64n).toString(16) + BigInt.asUintN(8, 257n) + (5n * 5n) + (1n << 3n)', '100000000000000001258'],
    [
      "[/a(b)/.exec('xab')[1], 'a-b'.replace(/-/, '+'), [...'a1b2'.matchAll(/\\d/g)].length, 'abc'.search(/c/)].join()",
      'b,a+b,2,2',
    ],
    [
      'const p = new Proxy({}, { get: (t, k) => k })\n;[p.hello, Proxy.revocable({}, {}).proxy instanceof Object].join()',
      'hello,true',
    ],
    ['[...new Uint8Array([3, 1, 2]).sort()].join() + new Uint8Array(2).fill(7).join("")', '1,2,377'],
    ['({ ...[1, 2] })[1] + Object.values({ a: 1, b: 2 }).length + [1, 2].values().toArray().length', '6'],
    // Called by realm code (not through the interpreter's shortcut), a guard passes on exactly the
    // arguments given, not as many as its length declares.
    [
      "[Reflect.apply([].push, [], []), Reflect.apply([].push, [], [1, 2, 3]), Reflect.apply(''.padStart, 'x', [])].join()",
      '0,3,x',
    ],
  ])('%s', async (code, expected) => {
    expect(String(valueOf(await run(code)))).toBe(expected)
  })

  it('guarded constructors keep their results', async () => {
    const outcome = await run(
      '[new Uint8Array([1, 2, 3]).join(), new Uint16Array(new ArrayBuffer(8), 2).length, Uint8Array.from([1, 2], (x) => x * 2).join(), new Uint8Array(new Set([5, 6])).join(), [1, 2, 3].values().drop(1).toArray().join(), new (Uint8Array.bind(null))(2).length, new ArrayBuffer(4, { maxByteLength: 8 }).maxByteLength, new (class extends Uint8Array {})(3).length]',
    )
    expect(valueOf(outcome)).toEqual(['1,2,3', 3, '2,4', '5,6', '2,3', 2, 8, 3])
  })

  it('String.raw uses the raw strings it checked, whatever a getter answers next', async () => {
    const outcome = await run(
      "let n = 0\nString.raw({ get raw() { return n++ ? { length: 2 ** 40 } : ['a', 'b'] } }, 1)",
    )
    expect(valueOf(outcome)).toBe('a1b')
  })

  it('a regex call cut by the watchdog leaves no state behind for the next run', async () => {
    const session = await createLocalExecutor().createSession({ limits: { timeoutMs: 300 } })
    // The watchdog of the outer replace ends the inner split, whose `finally` never runs: the
    // outer entry point's own `finally`, outside the watchdog, restores the state.
    const cut = await session.run(
      "'x'.replace(/(?=x)x/, () => String(('a'.repeat(40) + '!').split(/(a+)+$/i).length))",
    )
    expect(cut).toMatchObject({ type: 'error', error: { kind: 'limit', limit: 'timeoutMs' } })
    // A direct exec is charged by its subject's length again (31,250 operations here).
    const next = await session.run("/x/.exec('y'.repeat(1e6))")
    expect(next.stats.operations).toBeGreaterThan(30_000)
    await session.dispose()
  })

  it('a regular expression the linear engine can run stays fast on a catastrophic input', async () => {
    const started = performance.now()
    const outcome = await run("/^(a+)+b$/.test('a'.repeat(40) + '!')", { limits: { timeoutMs: 5_000 } })
    expect(valueOf(outcome)).toBe(false)
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})
