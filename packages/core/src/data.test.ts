import vm from 'node:vm'
import { describe, expect, test } from 'vitest'
import { type Data, type ToDataOptions, toData } from './data.js'
import { DataBoundaryError } from './errors.js'

/** The DataBoundaryError `toData` throws for `value`; any other outcome fails the test. */
function thrownRefusal(value: unknown, options?: ToDataOptions): DataBoundaryError {
  try {
    toData(value, options)
  } catch (error) {
    if (!DataBoundaryError.isInstance(error) || error.name !== 'DataBoundaryError') throw error
    return error
  }
  throw new Error('expected toData to refuse the value')
}

/** Where and why `toData` refuses `value`, checking that the message is `<path>: <problem>`. */
function refusal(value: unknown, options?: ToDataOptions): { path: string; problem: string } {
  const error = thrownRefusal(value, options)
  const prefix = `${error.path}: `
  if (!error.message.startsWith(prefix))
    throw new Error(`message does not start with its path: ${error.message}`)
  return { path: error.path, problem: error.message.slice(prefix.length) }
}

const functionProblem = 'functions cannot cross the boundary; pass data instead'
const accessorProblem = 'getters and setters cannot cross the boundary; pass the value itself'
const proxyProblem = 'proxies cannot cross the boundary; pass a plain copy'
const classProblem =
  'a class instance cannot cross the boundary; convert it to a plain object, array or string'

describe('values that cross', () => {
  test('primitives are returned as they are', () => {
    expect(toData(null)).toBe(null)
    expect(toData(undefined)).toBe(undefined)
    expect(toData(true)).toBe(true)
    expect(toData(false)).toBe(false)
    expect(toData(0)).toBe(0)
    expect(toData(1.5)).toBe(1.5)
    expect(toData('')).toBe('')
    expect(toData('text')).toBe('text')
    expect(toData(12n)).toBe(12n)
    expect(toData(-(2n ** 70n))).toBe(-(2n ** 70n))
  })

  test('NaN, -0 and infinities are kept', () => {
    expect(toData(NaN)).toBeNaN()
    expect(Object.is(toData(-0), -0)).toBe(true)
    expect(toData(Infinity)).toBe(Infinity)
    expect(toData(-Infinity)).toBe(-Infinity)
    const copy = toData({ a: -0, b: [NaN] }) as { a: number; b: number[] }
    expect(Object.is(copy.a, -0)).toBe(true)
    expect(copy.b[0]).toBeNaN()
  })

  test('plain objects and arrays are copied', () => {
    const value = { a: 1, b: [1, 'two', null], c: { d: { e: true } } }
    const copy = toData(value) as typeof value
    expect(copy).toEqual({ a: 1, b: [1, 'two', null], c: { d: { e: true } } })
    expect(copy).not.toBe(value)
    expect(copy.b).not.toBe(value.b)
    expect(copy.c.d).not.toBe(value.c.d)
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
  })

  test('an object with a null prototype is copied to an ordinary object', () => {
    const value = Object.assign(Object.create(null) as object, { a: 1 })
    const copy = toData(value) as object
    expect(copy).toEqual({ a: 1 })
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
  })

  test('undefined properties are kept as own keys', () => {
    const copy = toData({ a: undefined }) as object
    expect(Object.hasOwn(copy, 'a')).toBe(true)
  })

  test('a Date is copied', () => {
    const date = new Date('2024-05-06T07:08:09.010Z')
    const copy = toData(date)
    expect(copy).toBeInstanceOf(Date)
    expect(copy).not.toBe(date)
    expect((copy as Date).toISOString()).toBe('2024-05-06T07:08:09.010Z')
    expect(Number.isNaN((toData(new Date(NaN)) as Date).getTime())).toBe(true)
  })

  test('a Uint8Array is copied, not shared', () => {
    const bytes = new Uint8Array([1, 2, 3])
    const copy = toData(bytes) as Uint8Array
    expect(copy).toBeInstanceOf(Uint8Array)
    expect(copy).not.toBe(bytes)
    expect(copy.buffer).not.toBe(bytes.buffer)
    expect([...copy]).toEqual([1, 2, 3])
    bytes[0] = 9
    expect(copy[0]).toBe(1)
  })

  test('a Map is copied with copied keys and values', () => {
    const key = { id: 1 }
    const map = new Map<unknown, unknown>([
      [key, [1, 2]],
      ['b', new Date(0)],
    ])
    const copy = toData(map) as Map<unknown, unknown>
    expect(copy).toBeInstanceOf(Map)
    expect(copy).not.toBe(map)
    expect(copy).toEqual(map)
    const [copiedKey, copiedValue] = [...copy][0]!
    expect(copiedKey).toEqual({ id: 1 })
    expect(copiedKey).not.toBe(key)
    expect(copiedValue).not.toBe(map.get(key))
    expect(copy.has(key)).toBe(false)
  })

  test('a Set is copied with copied entries', () => {
    const entry = { id: 1 }
    const set = new Set<unknown>([entry, 'b', 3n])
    const copy = toData(set) as Set<unknown>
    expect(copy).toBeInstanceOf(Set)
    expect(copy).not.toBe(set)
    expect(copy).toEqual(new Set([{ id: 1 }, 'b', 3n]))
    expect(copy.has(entry)).toBe(false)
  })

  test('nested special values are copied too', () => {
    const value = {
      when: new Date(1000),
      bytes: new Uint8Array([7]),
      index: new Map([['k', new Set([1, 2])]]),
      list: [{ big: 1n }, [undefined]],
    }
    const copy = toData(value) as typeof value
    expect(copy).toEqual(value)
    expect(copy.when).not.toBe(value.when)
    expect(copy.bytes).not.toBe(value.bytes)
    expect(copy.index.get('k')).not.toBe(value.index.get('k'))
  })

  test('errors cross as { name, message }', () => {
    expect(toData(new Error('boom'))).toEqual({ name: 'Error', message: 'boom' })
    expect(toData(new TypeError('bad type'))).toEqual({ name: 'TypeError', message: 'bad type' })
    expect(toData({ failure: new RangeError('too big') })).toEqual({
      failure: { name: 'RangeError', message: 'too big' },
    })
    const copy = toData(new Error('x', { cause: new Error('inner') }))
    expect(Object.keys(copy as object)).toEqual(['name', 'message'])
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
  })

  test('errors keep a custom name, own or inherited', () => {
    class NotFound extends Error {
      override name = 'NotFound'
    }
    expect(toData(new NotFound('no such city'))).toEqual({ name: 'NotFound', message: 'no such city' })
    class Inherited extends Error {}
    Object.defineProperty(Inherited.prototype, 'name', { value: 'Inherited' })
    expect(toData(new Inherited('x'))).toEqual({ name: 'Inherited', message: 'x' })
    const named = Object.assign(new Error('m'), { name: 'Custom' })
    expect(toData(named)).toEqual({ name: 'Custom', message: 'm' })
  })

  test('a shared reference that is not a cycle is copied each time it appears', () => {
    const shared = { n: 1 }
    const copy = toData({ a: shared, b: shared, list: [shared] }) as Record<string, Data>
    expect(copy).toEqual({ a: { n: 1 }, b: { n: 1 }, list: [{ n: 1 }] })
    expect(copy.a).not.toBe(shared)
    expect(copy.a).not.toBe(copy.b)
  })

  test('an own __proto__ key stays an own key and does not set the prototype of the copy', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object
    expect(Object.hasOwn(value, '__proto__')).toBe(true)
    const copy = toData(value) as Record<string, unknown>
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(Object.hasOwn(copy, '__proto__')).toBe(true)
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ polluted: true })
    expect(copy.polluted).toBeUndefined()
    expect(Object.keys(copy)).toEqual(['__proto__', 'a'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  test('non-enumerable properties are skipped', () => {
    const value = { shown: 1 }
    Object.defineProperty(value, 'hidden', { value: 2, enumerable: false })
    const copy = toData(value) as object
    expect(copy).toEqual({ shown: 1 })
    expect(Object.getOwnPropertyNames(copy)).toEqual(['shown'])
  })

  test('array holes become undefined', () => {
    // oxlint-disable-next-line no-sparse-arrays
    const copy = toData([1, , 3]) as unknown[]
    expect(copy).toHaveLength(3)
    expect(Object.hasOwn(copy, 1)).toBe(true)
    expect(copy[1]).toBeUndefined()
    const sparse: unknown[] = []
    sparse.length = 2
    expect(Object.keys(toData(sparse) as object)).toEqual(['0', '1'])
  })

  test('extra named properties of an array are dropped', () => {
    const list = Object.assign([1, 2], { extra: 'x' })
    expect(toData(list)).toStrictEqual([1, 2])
  })
})

describe('values that are refused', () => {
  test('a function', () => {
    expect(refusal(() => 1)).toEqual({ path: 'value', problem: functionProblem })
    expect(refusal({ callback: function named() {} })).toEqual({
      path: 'value.callback',
      problem: functionProblem,
    })
    expect(refusal([1, async () => 2])).toEqual({ path: 'value[1]', problem: functionProblem })
    expect(refusal(class Foo {})).toEqual({ path: 'value', problem: functionProblem })
  })

  test('a symbol', () => {
    expect(refusal(Symbol('s'))).toEqual({
      path: 'value',
      problem: 'symbols cannot cross the boundary; use a string',
    })
    expect(refusal({ kind: Symbol.iterator })).toEqual({
      path: 'value.kind',
      problem: 'symbols cannot cross the boundary; use a string',
    })
  })

  test('a symbol-keyed property, enumerable or not', () => {
    expect(refusal({ a: 1, [Symbol('s')]: 1 })).toEqual({
      path: 'value',
      problem: 'symbol-keyed properties cannot cross the boundary',
    })
    const hidden = { a: 1 }
    Object.defineProperty(hidden, Symbol('s'), { value: 1, enumerable: false })
    expect(refusal({ nested: hidden })).toEqual({
      path: 'value.nested',
      problem: 'symbol-keyed properties cannot cross the boundary',
    })
  })

  test('a getter, without running it', () => {
    let reads = 0
    const value = {
      plain: 1,
      get secret() {
        reads++
        return 'secret'
      },
    }
    expect(refusal(value)).toEqual({ path: 'value.secret', problem: accessorProblem })
    expect(reads).toBe(0)
  })

  test('a non-enumerable getter, without running it', () => {
    let reads = 0
    const value = {}
    Object.defineProperty(value, 'hidden', {
      get() {
        reads++
        return 1
      },
      enumerable: false,
    })
    expect(refusal({ inner: value })).toEqual({ path: 'value.inner.hidden', problem: accessorProblem })
    expect(reads).toBe(0)
  })

  test('a setter without a getter', () => {
    let writes = 0
    const value = {
      set target(_value: unknown) {
        writes++
      },
    }
    expect(refusal(value)).toEqual({ path: 'value.target', problem: accessorProblem })
    expect(writes).toBe(0)
  })

  test('a proxy, without running any trap', () => {
    let traps = 0
    const handler = new Proxy(
      {},
      {
        // Every trap lookup on the handler counts, so any trap toData triggers shows up.
        get() {
          traps++
          return undefined
        },
      },
    )
    const proxy = new Proxy({ a: 1 }, handler)
    expect(refusal(proxy)).toEqual({ path: 'value', problem: proxyProblem })
    expect(refusal({ inner: proxy })).toEqual({ path: 'value.inner', problem: proxyProblem })
    expect(refusal(new Proxy([1, 2], handler))).toEqual({ path: 'value', problem: proxyProblem })
    expect(refusal(new Proxy(() => 1, handler))).toEqual({ path: 'value', problem: functionProblem })
    expect(traps).toBe(0)
  })

  test('a proxy nested in an array', () => {
    let traps = 0
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          traps++
          return []
        },
        getPrototypeOf() {
          traps++
          return Object.prototype
        },
        getOwnPropertyDescriptor() {
          traps++
          return undefined
        },
      },
    )
    expect(refusal([1, [2, proxy]])).toEqual({ path: 'value[1][1]', problem: proxyProblem })
    expect(traps).toBe(0)
  })

  test('a thenable object, without calling then', () => {
    let calls = 0
    const thenable = {
      // oxlint-disable-next-line unicorn/no-thenable
      then() {
        calls++
      },
    }
    expect(refusal({ pending: thenable })).toEqual({
      path: 'value.pending.then',
      problem: 'thenables cannot cross the boundary; await the value first',
    })
    expect(calls).toBe(0)
    // A `then` that is not a function is just data.
    // oxlint-disable-next-line unicorn/no-thenable
    expect(toData({ then: 'later' })).toEqual({ then: 'later' })
  })

  test('a promise', () => {
    const promise = Promise.resolve(1)
    expect(refusal(promise)).toEqual({
      path: 'value',
      problem: 'promises cannot cross the boundary; await the value first',
    })
    expect(refusal([promise])).toEqual({
      path: 'value[0]',
      problem: 'promises cannot cross the boundary; await the value first',
    })
  })

  test('a cycle', () => {
    const value: Record<string, unknown> = { a: 1 }
    value.self = value
    expect(refusal(value)).toEqual({ path: 'value.self', problem: 'the value contains a cycle; pass a tree' })
    const list: unknown[] = [1]
    list.push({ back: list })
    expect(refusal(list)).toEqual({
      path: 'value[1].back',
      problem: 'the value contains a cycle; pass a tree',
    })
    const map = new Map<string, unknown>()
    map.set('me', map)
    expect(refusal(map)).toEqual({
      path: 'value.<value 0>',
      problem: 'the value contains a cycle; pass a tree',
    })
  })

  test('a class instance', () => {
    class Point {
      x = 1
    }
    expect(refusal(new Point())).toEqual({ path: 'value', problem: classProblem })
    expect(refusal({ at: new Point() })).toEqual({ path: 'value.at', problem: classProblem })
    expect(refusal(Object.create({ inherited: 1 }))).toEqual({ path: 'value', problem: classProblem })
    expect(refusal(new URL('https://example.com'))).toEqual({ path: 'value', problem: classProblem })
  })

  test('a RegExp', () => {
    expect(refusal({ pattern: /a+/g })).toEqual({
      path: 'value.pattern',
      problem: 'a RegExp cannot cross the boundary; convert it to a plain object, array or string',
    })
  })

  test('a WeakMap or WeakSet', () => {
    const problem =
      'a WeakMap or WeakSet cannot cross the boundary; convert it to a plain object, array or string'
    expect(refusal(new WeakMap())).toEqual({ path: 'value', problem: problem })
    expect(refusal([new WeakSet()])).toEqual({ path: 'value[0]', problem: problem })
  })

  test('binary data other than Uint8Array', () => {
    const problem =
      'a binary view other than Uint8Array cannot cross the boundary; convert it to a plain object, array or string'
    expect(refusal(new ArrayBuffer(4))).toEqual({ path: 'value', problem: problem })
    expect(refusal({ ints: new Int32Array([1]) })).toEqual({ path: 'value.ints', problem: problem })
    expect(refusal(new DataView(new ArrayBuffer(2)))).toEqual({ path: 'value', problem: problem })
  })

  test('an error whose name or message is not a string, without running its toString', () => {
    let calls = 0
    const error = new Error('x')
    ;(error as unknown as { message: unknown }).message = {
      toString() {
        calls++
        return 'text'
      },
    }
    expect(refusal({ error })).toEqual({
      path: 'value.error.message',
      problem: "an error's message must be a string; pass the text itself",
    })
    const named = Object.assign(new Error('x'), { name: () => 'Named' })
    expect(refusal(named)).toEqual({
      path: 'value.name',
      problem: "an error's name must be a string; pass the text itself",
    })
    expect(calls).toBe(0)
  })

  test('an error with a getter message, without running it', () => {
    let reads = 0
    const error = new Error('x')
    Object.defineProperty(error, 'message', {
      get() {
        reads++
        return 'read'
      },
    })
    expect(refusal(error)).toEqual({ path: 'value', problem: accessorProblem })
    expect(reads).toBe(0)
  })

  test('an array with a getter at an index, without running it', () => {
    let reads = 0
    const list = [1, 2, 3]
    Object.defineProperty(list, 1, {
      get() {
        reads++
        return 2
      },
    })
    expect(refusal(list)).toEqual({ path: 'value[1]', problem: accessorProblem })
    expect(reads).toBe(0)
  })

  test('a hole over an inherited getter, without running it', () => {
    let reads = 0
    const list: unknown[] = [1]
    list.length = 2
    const prototype = Object.create(Array.prototype) as object
    Object.defineProperty(prototype, '1', {
      get() {
        reads++
        return 'inherited'
      },
    })
    Object.setPrototypeOf(list, prototype)
    expect(refusal(list)).toEqual({ path: 'value[1]', problem: accessorProblem })
    expect(reads).toBe(0)
  })
})

describe('limits', () => {
  test('nesting up to maxDepth is accepted, deeper is refused', () => {
    expect(toData({ a: { b: {} } }, { maxDepth: 2 })).toEqual({ a: { b: {} } })
    expect(toData({ a: { b: { c: 1 } } }, { maxDepth: 2 })).toEqual({ a: { b: { c: 1 } } })
    expect(
      refusal(
        { a: { b: { c: {} } } },
        {
          maxDepth: 2,
        },
      ),
    ).toEqual({ path: 'value.a.b.c', problem: 'the value is nested deeper than 2 levels' })
    expect(refusal([[[[]]]], { maxDepth: 2 })).toEqual({
      path: 'value[0][0][0]',
      problem: 'the value is nested deeper than 2 levels',
    })
  })

  test('the default maxDepth is 100', () => {
    const nest = (levels: number): unknown => {
      let value: unknown = {}
      for (let index = 0; index < levels; index++) value = [value]
      return value
    }
    expect(() => toData(nest(100))).not.toThrow()
    const error = thrownRefusal(nest(101))
    expect(error.message).toBe(`value${'[0]'.repeat(101)}: the value is nested deeper than 100 levels`)
  })

  test('a string over maxBytes is refused', () => {
    // A string counts 2 bytes per UTF-16 unit plus 2.
    expect(toData('abcd', { maxBytes: 10 })).toBe('abcd')
    expect(
      refusal('abcde', {
        maxBytes: 10,
      }),
    ).toEqual({ path: 'value', problem: 'the value is larger than the limit of 10 bytes; pass less data' })
  })

  test('an array over maxBytes is refused where it crosses the limit', () => {
    // An array counts 8 plus its length, each number 8: [1, 2, 3] is 11 + 24 = 35 bytes.
    expect(toData([1, 2, 3], { maxBytes: 35 })).toEqual([1, 2, 3])
    expect(
      refusal([1, 2, 3], {
        maxBytes: 34,
      }),
    ).toEqual({ path: 'value[2]', problem: 'the value is larger than the limit of 34 bytes; pass less data' })
    expect(refusal({ list: Object.assign([], { length: 1_000_000 }) }, { maxBytes: 1000 })).toEqual({
      path: 'value.list',
      problem: 'the value is larger than the limit of 1000 bytes; pass less data',
    })
  })

  test('bytes add up across the whole value', () => {
    // Each key counts like a string: { a: 30 chars } is 4 + 62 = 66 bytes.
    const options = { maxBytes: 100, rootName: 'args' }
    expect(toData({ a: 'x'.repeat(30) }, options)).toEqual({ a: 'x'.repeat(30) })
    expect(refusal({ a: 'x'.repeat(30), b: 'y'.repeat(30) }, options)).toEqual({
      path: 'args.b',
      problem: 'the value is larger than the limit of 100 bytes; pass less data',
    })
  })

  test('error messages and binary data count towards maxBytes', () => {
    const problem = 'the value is larger than the limit of 100 bytes; pass less data'
    expect(refusal({ error: new Error('x'.repeat(100)) }, { maxBytes: 100 })).toEqual({
      path: 'value.error',
      problem: problem,
    })
    expect(refusal([new Uint8Array(101)], { maxBytes: 100 })).toEqual({ path: 'value[0]', problem: problem })
  })
})

describe('objects from another realm', () => {
  test('are refused as class instances by default', () => {
    const value = vm.runInNewContext('({a: [1, {b: 2}]})') as unknown
    expect(refusal(value)).toEqual({ path: 'value', problem: classProblem })
  })

  test('are accepted when that realm’s Object.prototype is passed', () => {
    const context = vm.createContext()
    const value = vm.runInContext('({a: [1, {b: 2}]})', context) as unknown
    const prototype = vm.runInContext('Object.prototype', context) as object
    const copy = toData(value, { plainObjectPrototypes: [prototype] }) as { a: [number, object] }
    expect(copy).toEqual({ a: [1, { b: 2 }] })
    // The copy belongs to this realm.
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(Object.getPrototypeOf(copy.a)).toBe(Array.prototype)
    expect(Object.getPrototypeOf(copy.a[1])).toBe(Object.prototype)
  })

  test('a prototype of one realm does not admit objects of another', () => {
    const prototype = vm.runInNewContext('Object.prototype') as object
    const value = vm.runInNewContext('({a: 1})') as unknown
    expect(refusal(value, { plainObjectPrototypes: [prototype] })).toEqual({
      path: 'value',
      problem: classProblem,
    })
  })

  test('arrays, dates, maps and errors of another realm are accepted anyway', () => {
    const copy = toData(vm.runInNewContext('[1, [2, 3]]')) as unknown[]
    expect(copy).toEqual([1, [2, 3]])
    expect(Object.getPrototypeOf(copy)).toBe(Array.prototype)
    const date = toData(vm.runInNewContext('new Date(5)'))
    expect(date).toBeInstanceOf(Date)
    expect((date as Date).getTime()).toBe(5)
    const map = toData(vm.runInNewContext('new Map([["k", 1]])'))
    expect(map).toBeInstanceOf(Map)
    expect(map).toEqual(new Map([['k', 1]]))
    expect(toData(vm.runInNewContext('new TypeError("far")'))).toEqual({
      name: 'TypeError',
      message: 'far',
    })
  })

  test('a getter of another realm is refused without running it', () => {
    const context = vm.createContext({ reads: 0 })
    const value = vm.runInContext('[{ get x() { reads++; return 1 } }]', context) as unknown
    const prototype = vm.runInContext('Object.prototype', context) as object
    expect(refusal(value, { plainObjectPrototypes: [prototype] })).toEqual({
      path: 'value[0].x',
      problem: accessorProblem,
    })
    expect(vm.runInContext('reads', context)).toBe(0)
  })
})

describe('overridden built-ins', () => {
  test('overriding Object.keys, Object.getOwnPropertyNames or collection methods does not affect copying', () => {
    const originals = {
      keys: Object.keys,
      getOwnPropertyNames: Object.getOwnPropertyNames,
      entries: Map.prototype.entries,
      mapIterator: Map.prototype[Symbol.iterator],
      values: Set.prototype.values,
      setIterator: Set.prototype[Symbol.iterator],
      getTime: Date.prototype.getTime,
    }
    let calls = 0
    const replace = <T>(result: T) =>
      function (): T {
        calls++
        return result
      }
    let copy: unknown
    try {
      Object.keys = replace(['injected'])
      Object.getOwnPropertyNames = replace(['injected'])
      Map.prototype.entries = replace([['injected', 1]][Symbol.iterator]()) as never
      Map.prototype[Symbol.iterator] = Map.prototype.entries
      Set.prototype.values = replace(['injected'][Symbol.iterator]()) as never
      Set.prototype[Symbol.iterator] = Set.prototype.values
      Date.prototype.getTime = replace(0)
      copy = toData({
        a: 1,
        map: new Map([['k', 'v']]),
        set: new Set(['s']),
        when: new Date(1234),
      })
    } finally {
      Object.keys = originals.keys
      Object.getOwnPropertyNames = originals.getOwnPropertyNames
      Map.prototype.entries = originals.entries
      Map.prototype[Symbol.iterator] = originals.mapIterator
      Set.prototype.values = originals.values
      Set.prototype[Symbol.iterator] = originals.setIterator
      Date.prototype.getTime = originals.getTime
    }
    expect(calls).toBe(0)
    expect(copy).toEqual({
      a: 1,
      map: new Map([['k', 'v']]),
      set: new Set(['s']),
      when: new Date(1234),
    })
  })
})

describe('paths', () => {
  test('the root is named by rootName, "value" by default', () => {
    expect(refusal(() => 1)).toEqual({ path: 'value', problem: functionProblem })
    expect(refusal(() => 1, { rootName: 'result' })).toEqual({ path: 'result', problem: functionProblem })
    expect(refusal({ fn() {} }, { rootName: 'args' })).toEqual({ path: 'args.fn', problem: functionProblem })
  })

  test('identifier keys use dots, indexes brackets, other keys quoted brackets', () => {
    const value = { items: [0, 1, 2, { 'odd key': { $ok_1: [() => 1] } }] }
    expect(refusal(value, { rootName: 'result' })).toEqual({
      path: 'result.items[3]["odd key"].$ok_1[0]',
      problem: functionProblem,
    })
    expect(refusal({ '1st': () => 1 })).toEqual({ path: 'value["1st"]', problem: functionProblem })
    expect(refusal({ 'a"b': () => 1 })).toEqual({ path: 'value["a\\"b"]', problem: functionProblem })
  })

  test('map keys, map values and set entries are named by position', () => {
    expect(
      refusal(
        new Map<unknown, unknown>([
          ['a', 1],
          [() => 1, 2],
        ]),
      ),
    ).toEqual({ path: 'value.<key 1>', problem: functionProblem })
    expect(
      refusal(
        new Map<unknown, unknown>([
          ['a', 1],
          ['b', () => 2],
        ]),
      ),
    ).toEqual({ path: 'value.<value 1>', problem: functionProblem })
    expect(refusal({ tags: new Set([1, 2, Symbol('s')]) })).toEqual({
      path: 'value.tags.<entry 2>',
      problem: 'symbols cannot cross the boundary; use a string',
    })
  })
})
