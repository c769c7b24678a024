import { types } from 'node:util'
import v8 from 'node:v8'
import vm from 'node:vm'
import type { Engine } from './compiler/engine.js'
import { getIterator, getValue, isObject } from './compiler/operations.js'
import type { Value } from './realm.js'

// Guarded built-ins. A native call is one interpreter operation however much it does, so the
// realm's built-ins that loop or allocate in proportion to their input are replaced, at realm
// creation, by realm functions that charge the meter by argument or result size before calling
// the captured original (`Meter.charge`), refuse sizes over the per-call caps with a limit, and
// check the deadline as soon as a slow call returns. Regular expressions get a time bound of their
// own (see `installRegExpGuards`).

const { apply, construct, getOwnPropertyDescriptor, getPrototypeOf, defineProperty, ownKeys } = Reflect
const isArray = Array.isArray
const { trunc, min, max, log2, ceil } = Math
const now = () => performance.now()
const TypedArrayPrototype = getPrototypeOf(Uint8Array.prototype) as object
const typedArrayLength = getOwnPropertyDescriptor(TypedArrayPrototype, 'length')!.get!
const typedArrayByteLength = getOwnPropertyDescriptor(TypedArrayPrototype, 'byteLength')!.get!

/** A call that took longer than this checks the deadline as soon as it returns. */
const SLOW_CALL_MS = 1
/** Backtracks per match attempt before V8 switches a pattern to its linear-time engine. */
const BACKTRACKS_BEFORE_FALLBACK = 1_000
/**
 * Subjects longer than this run every regex call under the watchdog: with at most 1,000 steps
 * per position, a call on a shorter subject ends within a fraction of a second.
 */
const WATCHDOG_SUBJECT = 2 ** 18
/** Longest subject a plain regex splits on V8's fast path. */
const FAST_SPLIT_SUBJECT = 16_384
/** Calls charged at least this many operations are timed (see `wrap`). */
const TIMED_CALL_OPERATIONS = 1_000
/** Characters of subject that nested regex calls may scan between two deadline checks. */
const NESTED_WORK = 2 ** 22
/** Estimated bytes: a string character (two-byte strings), an element, a piece of a split. */
const CHAR_BYTES = 2
const ELEMENT_BYTES = 8
const PIECE_BYTES = 16
/** BigInt results above this many bits are refused: their arithmetic is superlinear. */
const MAX_BIGINT_BITS = 2 ** 22

/**
 * A host copy of the realm array of arguments, by index: spreading it would run the realm's
 * `Array.prototype[Symbol.iterator]`, which sandbox code can replace.
 */
function hostList(args: Value): Value[] {
  const list: Value[] = []
  for (let i = 0; i < args.length; i++) list.push(args[i])
  return list
}

/** `CreateListFromArrayLike` for a guard's size check, without running sandbox code. */
function argumentList(value: Value): Value[] {
  if (!isArray(value) || types.isProxy(value)) return []
  return hostList(value)
}

interface Call {
  self: Value
  args: Value[]
}

type Rule = (call: Call, what: string) => void
type After = (result: Value, what: string) => void

/** Installs the guards on the engine's realm. Called once, before any sandbox code runs. */
export function installNativeGuards(engine: Engine): void {
  enableLinearRegExpFallback()
  const { realm, meter } = engine
  const global = realm.global
  const { factories } = realm

  /** ToString done once, on the host, so a `toString` cannot answer differently twice. */
  const text = (value: Value): string => (typeof value === 'string' ? value : `${value}`)
  const number = (value: Value): number => (typeof value === 'number' ? value : +value)
  const integer = (value: Value): number => {
    const n = trunc(number(value))
    return n !== n ? 0 : n
  }
  const toLength = (value: Value): number => min(max(integer(value), 0), Number.MAX_SAFE_INTEGER)
  /** A relative index argument (`slice`, `fill`), clamped to [0, length]. */
  const relative = (value: Value, length: number, fallback: number): number => {
    if (value === undefined) return fallback
    const n = integer(value)
    return n < 0 ? max(length + n, 0) : min(n, length)
  }
  const refuse = (message: string): never => {
    throw engine.error('TypeError', message)
  }

  /**
   * `LengthOfArrayLike(receiver)` without running sandbox code, so the length the guard charges
   * is the length the built-in will use. Arrays and typed arrays have exact lengths; other objects
   * must carry `length` as a primitive data property (found without a proxy or getter on the
   * way), else the call is refused: a getter or proxy could report a small length to the guard
   * and a huge one to the built-in.
   */
  const lengthOf = (value: Value, what: string): number => {
    if (value == null) return 0
    if (typeof value === 'string') return value.length
    if (!isObject(value)) return 0
    if (types.isProxy(value)) {
      return refuse(`${what} was called on a proxy; copy it into an array first (Array.from).`)
    }
    if (isArray(value)) return value.length
    if (types.isTypedArray(value)) {
      try {
        return apply(typedArrayLength, value, [])
      } catch {
        return 0
      }
    }
    for (let target: Value = value; target !== null; target = getPrototypeOf(target)) {
      if (types.isProxy(target)) {
        return refuse(`${what} was called on an object with a proxy prototype; copy it into an array first.`)
      }
      const descriptor = getOwnPropertyDescriptor(target, 'length')
      if (descriptor === undefined) continue
      if (!('value' in descriptor) || isObject(descriptor.value)) {
        return refuse(
          `${what} was called on an object whose length is a getter or an object; give it a plain number length, or copy it into an array first.`,
        )
      }
      const raw = descriptor.value
      return typeof raw === 'symbol' || typeof raw === 'bigint' ? 0 : toLength(raw)
    }
    return 0
  }

  /** Collects a sandbox iterable into a host list, one operation per element. */
  const collect = (iterable: Value): Value[] => {
    const iterator = getIterator(engine, iterable, undefined)
    const next = iterator.next
    const list: Value[] = []
    for (;;) {
      if (++meter.ops >= meter.nextCheck) meter.check()
      const step = engine.callFunction(next, iterator, [])
      if (!isObject(step)) refuse(`Iterator result ${String(step)} is not an object`)
      if (step.done) return list
      list.push(step.value)
    }
  }
  /**
   * What a built-in gets instead of the iterable the guard already consumed: a realm array with
   * the realm's original array iterator as an own property, so neither a sandbox
   * `Symbol.iterator` on `Array.prototype` nor the consumed iterable changes the result.
   */
  const arrayValues = realm.intrinsics.ArrayPrototype.values
  const listArgument = (list: Value[]): Value => {
    const target = engine.toArray(list)
    defineProperty(target, Symbol.iterator, { value: arrayValues, writable: true })
    return target
  }
  /** An array-like copied into a host list: the length as `lengthOf` reads it, then each element. */
  const copyArrayLike = (value: Value, what: string): Value[] => {
    const length = lengthOf(value, what)
    charge(length, length * ELEMENT_BYTES, what)
    const list: Value[] = []
    for (let i = 0; i < length; i++) {
      if (++meter.ops >= meter.nextCheck) meter.check()
      list.push(value[i])
    }
    return list
  }

  /** Replaces `holder[key]` with a guarded realm function of the same name and length. */
  const wrap = (holder: Value, key: PropertyKey, what: string, rule: Rule, after?: After): void => {
    const descriptor = getOwnPropertyDescriptor(holder, key)
    const original = descriptor?.value
    if (typeof original !== 'function') return
    const impl = (self: Value, args: Value[]) => {
      const call: Call = { self, args: hostList(args) }
      const before = meter.ops
      rule(call, what)
      // A call charged little does little native work (callbacks it makes are counted on their
      // own): only heavier ones are timed, to check the deadline as soon as they return.
      if (meter.ops - before < TIMED_CALL_OPERATIONS) {
        const result = apply(original, call.self, call.args)
        if (after !== undefined) after(result, what)
        return result
      }
      const started = now()
      try {
        const result = apply(original, call.self, call.args)
        if (after !== undefined) after(result, what)
        return result
      } finally {
        if (now() - started > SLOW_CALL_MS) meter.check()
      }
    }
    installAs(holder, key, original, impl, descriptor!)
  }
  /**
   * Like `wrap` for a global constructor: `new` reaches the original with the same `new.target`,
   * and `prototype.constructor` points to the guarded one, so no path leads to the unguarded one.
   */
  const wrapConstructor = (name: string, rule: Rule): void => {
    const descriptor = getOwnPropertyDescriptor(global, name)
    const original = descriptor?.value
    if (typeof original !== 'function') return
    const impl = (self: Value, args: Value[], newTarget: Value) => {
      const call: Call = { self, args: hostList(args) }
      rule(call, name)
      if (newTarget === undefined) return apply(original, self, call.args)
      return construct(original, call.args, newTarget)
    }
    const guarded = factories.plain(impl)
    for (const key of ownKeys(original)) {
      if (key === 'prototype') continue
      defineProperty(guarded, key, getOwnPropertyDescriptor(original, key)!)
    }
    defineProperty(guarded, 'prototype', { value: original.prototype, writable: false, configurable: false })
    defineProperty(original.prototype, 'constructor', {
      value: guarded,
      writable: true,
      enumerable: false,
      configurable: true,
    })
    defineProperty(global, name, { ...descriptor, value: guarded })
  }
  const installAs = (
    holder: Value,
    key: PropertyKey,
    original: Value,
    impl: Value,
    descriptor: PropertyDescriptor,
  ): void => {
    const guarded = factories.builtin(impl, original.name, original.length)
    engine.stampImpl(guarded, impl)
    defineProperty(holder, key, { ...descriptor, value: guarded })
  }

  // ---- Function.prototype.toString ---------------------------------------------------------------
  // The realm functions that stand for sandbox functions, guarded built-ins and host functions are
  // wrappers around the interpreter: V8 would print the wrapper's code. A sandbox function prints
  // its own source text, as V8 prints a function's; everything else made here prints as native code.
  const FunctionPrototype = realm.intrinsics.FunctionPrototype
  const functionToString = FunctionPrototype.toString
  const nativeCode = /\{\s*\[native code\]\s*\}$/
  // The realm's Proxy is a proxy of ours around the original (realm.ts), which V8 prints nameless.
  const proxyConstructor = global.Proxy
  installAs(
    FunctionPrototype,
    'toString',
    functionToString,
    (self: Value) => {
      const source = typeof self === 'function' ? engine.sourceTextOf(self) : undefined
      if (source !== undefined) return source
      if (self === proxyConstructor) return 'function Proxy() { [native code] }'
      const printed: string = apply(functionToString, self, [])
      if (nativeCode.test(printed)) return printed
      const name = getOwnPropertyDescriptor(self, 'name')?.value
      return `function ${typeof name === 'string' ? name : ''}() { [native code] }`
    },
    getOwnPropertyDescriptor(FunctionPrototype, 'toString')!,
  )

  const charge = (units: number, bytes: number, what: string) => meter.charge(units, bytes, what)
  const chargeResultString: After = (result, what) => {
    if (typeof result === 'string') charge(result.length, 0, what)
  }
  /** The receiver as a string, converted once; null and undefined are left to the built-in. */
  const thisText = (call: Call): string | undefined => {
    if (call.self == null) return undefined
    const s = text(call.self)
    call.self = s
    return s
  }

  // ---- String.prototype -------------------------------------------------------------------------
  const StringPrototype = realm.intrinsics.StringPrototype
  const string = (key: string, rule: Rule, after?: After) =>
    wrap(StringPrototype, key, `String.prototype.${key}`, rule, after)
  string('repeat', (call, what) => {
    const s = thisText(call)
    if (s === undefined) return
    const count = integer(call.args[0])
    call.args = [count]
    if (count >= 0 && count !== Infinity) charge(s.length * count, s.length * count * CHAR_BYTES, what)
  })
  for (const key of ['padStart', 'padEnd']) {
    string(key, (call, what) => {
      const s = thisText(call)
      if (s === undefined) return
      const length = toLength(call.args[0])
      const filler = call.args[1] === undefined ? undefined : text(call.args[1])
      call.args = [length, filler]
      const size = filler === '' ? s.length : max(s.length, length)
      charge(size, size * CHAR_BYTES, what)
    })
  }
  string('concat', (call, what) => {
    const s = thisText(call)
    if (s === undefined) return
    call.args = call.args.map(text)
    let size = s.length
    for (const part of call.args) size += part.length
    charge(size, size * CHAR_BYTES, what)
  })
  string('split', (call, what) => {
    const separator = call.args[0]
    // A separator object with its own @@split (a regular expression) is charged there.
    if (isObject(separator)) return
    const s = thisText(call)
    if (s === undefined) return
    const sep = separator === undefined ? undefined : text(separator)
    const limit = call.args[1] === undefined ? 2 ** 32 - 1 : number(call.args[1]) >>> 0
    call.args = [sep, limit]
    const pieces = min(
      limit,
      sep === undefined ? 1 : sep === '' ? s.length : trunc(s.length / sep.length) + 1,
    )
    charge(s.length, pieces * PIECE_BYTES, what)
  })
  for (const key of ['replace', 'replaceAll']) {
    string(
      key,
      (call, what) => {
        const pattern = call.args[0]
        if (isObject(pattern)) return
        const s = thisText(call)
        if (s === undefined) return
        const search = text(pattern)
        const replacement = typeof call.args[1] === 'function' ? call.args[1] : text(call.args[1])
        call.args = [search, replacement]
        if (typeof replacement !== 'string') return charge(s.length, 0, what)
        const matches =
          key === 'replace' ? 1 : search === '' ? s.length + 1 : trunc(s.length / search.length) + 1
        // `$&` and `` $` `` can insert up to the whole input per match.
        const perMatch = replacement.includes('$')
          ? replacement.length * max(1, s.length)
          : replacement.length
        const size = s.length + matches * perMatch
        charge(s.length, size * CHAR_BYTES, what)
      },
      chargeResultString,
    )
  }
  // String.raw loops over `raw.length` natively, holes included.
  wrap(global.String, 'raw', 'String.raw', (call, what) => {
    const strings = call.args[0]
    const raw = isObject(strings) ? getValue(engine, strings, 'raw', undefined) : undefined
    const length = isObject(raw) ? lengthOf(raw, what) : 0
    charge(length, length * CHAR_BYTES, what)
    // The built-in gets the `raw` read here, so a getter cannot hand it another one.
    if (isObject(raw)) {
      const fixed = realm.helpers.newObject()
      defineProperty(fixed, 'raw', { value: raw, writable: true, enumerable: true, configurable: true })
      call.args = [fixed, ...call.args.slice(1)]
    }
  })
  for (const key of ['normalize', 'toUpperCase', 'toLowerCase', 'toLocaleUpperCase', 'toLocaleLowerCase']) {
    // Case mapping can triple a string (`ß` is `SS`, some characters map to three).
    string(key, (call, what) => {
      const s = thisText(call)
      if (s !== undefined) charge(s.length, s.length * 3 * CHAR_BYTES, what)
    })
  }
  for (const key of ['indexOf', 'lastIndexOf', 'includes', 'startsWith', 'endsWith', 'localeCompare']) {
    string(key, (call, what) => {
      const s = thisText(call)
      if (s !== undefined) charge(s.length, 0, what)
    })
  }

  // ---- Array.prototype --------------------------------------------------------------------------
  const ArrayPrototype = realm.intrinsics.ArrayPrototype
  const array = (key: string, rule: Rule, after?: After) =>
    wrap(ArrayPrototype, key, `Array.prototype.${key}`, rule, after)
  const loops = (call: Call, what: string) => charge(lengthOf(call.self, what), 0, what)
  for (const key of [
    'includes',
    'indexOf',
    'lastIndexOf',
    'reverse',
    'forEach',
    'reduce',
    'reduceRight',
    'some',
    'every',
    'find',
    'findIndex',
    'findLast',
    'findLastIndex',
    'shift',
    'copyWithin',
    'toLocaleString',
  ]) {
    array(key, loops)
  }
  const copies = (call: Call, what: string) => {
    const length = lengthOf(call.self, what)
    charge(length, length * ELEMENT_BYTES, what)
  }
  for (const key of ['map', 'filter', 'toReversed', 'with', 'splice', 'toSpliced']) array(key, copies)
  array('unshift', (call, what) => {
    const length = lengthOf(call.self, what) + call.args.length
    charge(length, length * ELEMENT_BYTES, what)
  })
  for (const key of ['sort', 'toSorted']) {
    array(key, (call, what) => {
      const length = lengthOf(call.self, what)
      charge(length * max(1, ceil(log2(length + 1))), length * ELEMENT_BYTES, what)
    })
  }
  array('slice', (call, what) => {
    const length = lengthOf(call.self, what)
    const start = relative(call.args[0], length, 0)
    const end = relative(call.args[1], length, length)
    call.args = [start, end]
    const count = max(end - start, 0)
    charge(count, count * ELEMENT_BYTES, what)
  })
  array('fill', (call, what) => {
    const length = lengthOf(call.self, what)
    const start = relative(call.args[1], length, 0)
    const end = relative(call.args[2], length, length)
    call.args = [call.args[0], start, end]
    const count = max(end - start, 0)
    charge(count, count * ELEMENT_BYTES, what)
  })
  array(
    'join',
    (call, what) => {
      const length = lengthOf(call.self, what)
      const separator = call.args[0] === undefined ? ',' : text(call.args[0])
      call.args = [separator]
      const size = max(length - 1, 0) * separator.length
      charge(length + size, size * CHAR_BYTES, what)
    },
    chargeResultString,
  )
  array('concat', (call, what) => {
    let length = lengthOf(call.self, what)
    for (const item of call.args) length += isObject(item) && spreadable(item) ? lengthOf(item, what) : 1
    charge(length, length * ELEMENT_BYTES, what)
  })
  array('flat', (call, what) => {
    const depth = call.args[0] === undefined ? 1 : integer(call.args[0])
    call.args = [depth]
    const length = flatLength(call.self, depth, what)
    charge(length, length * ELEMENT_BYTES, what)
  })
  array('flatMap', (call, what) => {
    const length = lengthOf(call.self, what)
    charge(length, length * ELEMENT_BYTES, what)
    const mapper = call.args[0]
    if (typeof mapper !== 'function') return
    // Each array the mapper returns is copied into the result: charge it as it comes back.
    call.args = [
      factories.plain((self: Value, args: Value[]) => {
        const result = engine.callFunction(mapper, self, args)
        if (isArray(result) && !types.isProxy(result))
          charge(result.length, result.length * ELEMENT_BYTES, what)
        return result
      }),
      call.args[1],
    ]
  })
  /** `IsConcatSpreadable` read through descriptors: arrays, or an own or inherited true flag. */
  const spreadable = (value: Value): boolean => {
    if (types.isProxy(value) || isArray(value)) return true
    for (let target: Value = value; target !== null; target = getPrototypeOf(target)) {
      if (types.isProxy(target)) return true
      const descriptor = getOwnPropertyDescriptor(target, Symbol.isConcatSpreadable)
      if (descriptor !== undefined) return !('value' in descriptor) || Boolean(descriptor.value)
    }
    return false
  }
  /** Elements `flat(depth)` will produce, counted at one operation per element visited. */
  const flatLength = (value: Value, depth: number, what: string): number => {
    const length = lengthOf(value, what)
    if (depth < 1 || !isArray(value)) return length
    let total = 0
    for (let i = 0; i < length; i++) {
      if (++meter.ops >= meter.nextCheck) meter.check()
      const item = value[i]
      total += isArray(item) && !types.isProxy(item) ? flatLength(item, depth - 1, what) : 1
    }
    return total
  }

  // ---- iterables consumed by built-ins: collected one operation per element ----------------------
  const ArrayConstructor = realm.intrinsics.Array
  // The built-in gets a realm array the guard built itself, so an iterator getter or a length
  // getter cannot answer one way to the guard and another way to the built-in.
  /** What `Array.from` reads of `items`, an iterable or an array-like, as a charged host list. */
  const itemsList = (items: Value, what: string): Value[] => {
    const list =
      getValue(engine, items, Symbol.iterator, undefined) != null
        ? collect(items)
        : copyArrayLike(items, what)
    charge(list.length, list.length * ELEMENT_BYTES, what)
    return list
  }
  wrap(ArrayConstructor, 'from', 'Array.from', (call, what) => {
    const items = call.args[0]
    if (items == null) return
    call.args = [listArgument(itemsList(items, what)), call.args[1], call.args[2]]
  })
  // An async iterable is read one awaited step at a time by sandbox code of its own; anything
  // else is read as Array.from reads it (an iterable or an array-like), then awaited element by
  // element by the built-in.
  wrap(ArrayConstructor, 'fromAsync', 'Array.fromAsync', (call, what) => {
    const items = call.args[0]
    if (items == null || getValue(engine, items, Symbol.asyncIterator, undefined) != null) return
    call.args = [listArgument(itemsList(items, what)), call.args[1], call.args[2]]
  })
  const collectFirst: Rule = (call, what) => {
    const items = call.args[0]
    if (items == null) return
    const list = collect(items)
    charge(list.length, list.length * ELEMENT_BYTES, what)
    call.args = [listArgument(list), ...call.args.slice(1)]
  }
  wrap(global.Object, 'fromEntries', 'Object.fromEntries', collectFirst)
  // A combinator reports an iterable it cannot read through the promise it returns, never by
  // throwing: the built-in gets an iterable that throws the same error when it starts reading.
  const collectOrReject: Rule = (call, what) => {
    try {
      collectFirst(call, what)
    } catch (error) {
      if (engine.isSignal(error)) throw error
      const throwing = realm.helpers.newObject()
      defineProperty(throwing, Symbol.iterator, {
        value: factories.method(() => {
          throw error
        }),
      })
      call.args = [throwing, ...call.args.slice(1)]
    }
  }
  for (const key of ['all', 'allSettled', 'any', 'race'])
    wrap(global.Promise, key, `Promise.${key}`, collectOrReject)
  // Constructors that allocate in proportion to their arguments: `Array(n)` (V8 preallocates up
  // to about 16,000 elements), typed arrays (and from an iterable, which V8 collects natively),
  // `ArrayBuffer`. They are not replaced (changing `Array.prototype.constructor` or a typed array
  // prototype's turns off V8's fast paths for those built-ins in the whole process): compiled
  // `new` asks `engine.constructGuards` for the arguments to use, compiled calls check for
  // `Array`, and so do the built-ins below that call or construct a function they are given.
  const ArrayIntrinsic = realm.intrinsics.Array
  const guards = engine.constructGuards
  guards.set(ArrayIntrinsic, (list: Value[]) => {
    chargeArrayConstruction(engine, list)
    return list
  })
  const typedArrayGuard =
    (name: string, bytesPerElement: number) =>
    (list: Value[]): Value[] => {
      const first = list[0]
      const what = `new ${name}`
      if (!isObject(first)) {
        const length = first === undefined ? 0 : integer(first)
        if (length > 0) charge(length, length * bytesPerElement, what)
        return first === undefined ? list : [length, ...list.slice(1)]
      }
      if (types.isAnyArrayBuffer(first)) return list
      if (types.isTypedArray(first)) {
        const length = typedLength(first)
        charge(length, length * bytesPerElement, what)
        return list
      }
      const items =
        getValue(engine, first, Symbol.iterator, undefined) != null
          ? collect(first)
          : copyArrayLike(first, what)
      charge(items.length, items.length * bytesPerElement, what)
      return [listArgument(items)]
    }
  for (const name of [
    'Int8Array',
    'Uint8Array',
    'Uint8ClampedArray',
    'Int16Array',
    'Uint16Array',
    'Int32Array',
    'Uint32Array',
    'Float16Array',
    'Float32Array',
    'Float64Array',
    'BigInt64Array',
    'BigUint64Array',
  ]) {
    const constructor = global[name]
    if (typeof constructor === 'function') {
      guards.set(constructor, typedArrayGuard(name, constructor.BYTES_PER_ELEMENT))
    }
  }
  for (const name of ['ArrayBuffer', 'SharedArrayBuffer']) {
    const constructor = global[name]
    if (typeof constructor !== 'function') continue
    guards.set(constructor, (list: Value[]) => {
      const length = list[0] === undefined ? 0 : integer(list[0])
      const options = list[1]
      // A resizable buffer reserves maxByteLength up front and grows later without a call here.
      const most = isObject(options) ? integer(getValue(engine, options, 'maxByteLength', undefined)) : 0
      const fixed = realm.helpers.newObject()
      if (isObject(options)) {
        defineProperty(fixed, 'maxByteLength', {
          value: most,
          writable: true,
          enumerable: true,
          configurable: true,
        })
      }
      const bytes = max(length, most)
      if (bytes > 0) charge(bytes / 8, bytes, `new ${name}`)
      return isObject(options) ? [length, fixed] : [length]
    })
  }
  const guardedArguments = (fn: Value, list: Value[]): Value[] => {
    const guard = guards.get(fn)
    return guard === undefined ? list : guard(list)
  }
  /** An arguments list given as an array-like (Reflect, apply) as a host list, length trusted. */
  const listOf = (value: Value, what: string): Value[] =>
    isArray(value) && !types.isProxy(value) ? hostList(value) : copyArrayLike(value, what)
  const isArrayIntrinsic = (fn: Value) => fn === ArrayIntrinsic
  wrap(global.Reflect, 'apply', 'Reflect.apply', (call) => {
    if (isArrayIntrinsic(call.args[0])) chargeArrayConstruction(engine, argumentList(call.args[2]))
  })
  wrap(global.Reflect, 'construct', 'Reflect.construct', (call, what) => {
    if (!guards.has(call.args[0])) return
    const list = guardedArguments(call.args[0], listOf(call.args[1], what))
    call.args = [call.args[0], engine.toArray(list), ...call.args.slice(2)]
  })
  wrap(FunctionPrototype, 'call', 'Function.prototype.call', (call) => {
    if (isArrayIntrinsic(call.self)) chargeArrayConstruction(engine, call.args.slice(1))
  })
  wrap(FunctionPrototype, 'apply', 'Function.prototype.apply', (call) => {
    if (isArrayIntrinsic(call.self)) chargeArrayConstruction(engine, argumentList(call.args[1]))
  })
  // A guarded constructor is bound as a guarding stand-in, so calling the bound function later is
  // guarded too.
  const standIns = new Map<Value, Value>()
  const standInFor = (target: Value): Value => {
    let standIn = standIns.get(target)
    if (standIn === undefined) {
      const made = factories.plain((self: Value, args: Value[], newTarget: Value) => {
        const list = hostList(args)
        if (newTarget === undefined) {
          if (isArrayIntrinsic(target)) chargeArrayConstruction(engine, list)
          return apply(target, self, list)
        }
        return construct(target, guardedArguments(target, list), newTarget === made ? target : newTarget)
      })
      engine.setName(made, target.name)
      defineProperty(made, 'length', { value: target.length, configurable: true })
      standIns.set(target, made)
      standIn = made
    }
    return standIn
  }
  wrap(FunctionPrototype, 'bind', 'Function.prototype.bind', (call) => {
    if (guards.has(call.self)) call.self = standInFor(call.self)
  })
  // `class extends Array` (or a typed array): super(...) reaches the constructor from realm code.
  const factoryRecord = factories as Record<string, Value>
  const derivedClass = factoryRecord.derivedClass
  factoryRecord.derivedClass = (impl: Value, parent: Value) =>
    derivedClass(
      guards.has(parent)
        ? (self: Value, args: Value, newTarget: Value, superCall: Value) =>
            impl(self, args, newTarget, (list: Value[]) => superCall(guardedArguments(parent, list)))
        : impl,
      parent,
    )
  // %TypedArray%.from collects an iterable natively too.
  const TypedArrayConstructor = getPrototypeOf(realm.intrinsics.Uint8Array)
  wrap(TypedArrayConstructor, 'from', 'TypedArray.from', (call, what) => {
    const items = call.args[0]
    if (items == null) return
    const list =
      getValue(engine, items, Symbol.iterator, undefined) != null
        ? collect(items)
        : copyArrayLike(items, what)
    const perElement = typeof call.self === 'function' ? Number(call.self.BYTES_PER_ELEMENT) || 8 : 8
    charge(list.length, list.length * perElement, what)
    call.args = [listArgument(list), ...call.args.slice(1)]
  })
  wrapConstructor('Set', collectFirst)
  wrapConstructor('Map', collectFirst)
  const IteratorPrototype = global.Iterator?.prototype
  if (IteratorPrototype !== undefined) {
    // `drop(n)` skips n steps natively on its first `next()`: it gets an iterator of ours whose
    // `next` counts one operation per step.
    wrap(IteratorPrototype, 'drop', 'Iterator.prototype.drop', (call) => {
      const iterator = call.self
      if (!isObject(iterator)) return
      const next = iterator.next
      const counted = realm.helpers.newObject()
      defineProperty(counted, 'next', {
        value: factories.method((_self: Value, args: Value[]) => {
          if (++meter.ops >= meter.nextCheck) meter.check()
          return engine.callFunction(next, iterator, hostList(args))
        }),
      })
      defineProperty(counted, 'return', {
        value: factories.method((_self: Value, args: Value[]) => {
          const close = iterator.return
          return close == null ? undefined : engine.callFunction(close, iterator, hostList(args))
        }),
      })
      call.self = counted
    })
    wrap(IteratorPrototype, 'toArray', 'Iterator.prototype.toArray', (call) => {
      if (!isObject(call.self)) return
      // The built-in loops over the iterator natively: collect it here instead, then copy.
      const iterator = call.self
      const next = iterator.next
      const list: Value[] = []
      for (;;) {
        if (++meter.ops >= meter.nextCheck) meter.check()
        const step = engine.callFunction(next, iterator, [])
        if (!isObject(step)) refuse(`Iterator result ${String(step)} is not an object`)
        if (step.done) break
        list.push(step.value)
      }
      call.self = apply(arrayValues, listArgument(list), [])
    })
  }

  // ---- typed arrays, keys of big objects, JSON ---------------------------------------------------
  const RealmTypedArrayPrototype = getPrototypeOf(realm.intrinsics.Uint8Array.prototype)
  const typedLength = (value: Value): number => {
    try {
      return apply(typedArrayLength, value, [])
    } catch {
      return 0
    }
  }
  for (const key of [
    'fill',
    'sort',
    'toSorted',
    'join',
    'indexOf',
    'lastIndexOf',
    'includes',
    'reverse',
    'toReversed',
    'map',
    'filter',
    'forEach',
    'reduce',
    'reduceRight',
    'some',
    'every',
    'find',
    'findIndex',
    'findLast',
    'findLastIndex',
    'slice',
    'set',
    'copyWithin',
    'with',
    'toLocaleString',
  ]) {
    wrap(RealmTypedArrayPrototype, key, `TypedArray.prototype.${key}`, (call, what) => {
      const length = typedLength(call.self)
      const sorting = key === 'sort' || key === 'toSorted'
      let bytes = 0
      if (key === 'join' || key === 'toLocaleString') bytes = length * 2 * CHAR_BYTES
      else if (['map', 'filter', 'slice', 'toSorted', 'toReversed', 'with'].includes(key)) {
        try {
          bytes = apply(typedArrayByteLength, call.self, [])
        } catch {
          bytes = 0
        }
      }
      charge(sorting ? length * max(1, ceil(log2(length + 1))) : length, bytes, what)
    })
  }
  /** Own keys a reflection built-in lists: one per element of an array or typed array. */
  const elementKeys = (call: Call, what: string) => {
    const target = call.args[0]
    if (!isObject(target) || types.isProxy(target)) return
    const length = isArray(target) ? target.length : types.isTypedArray(target) ? typedLength(target) : 0
    charge(length, length * PIECE_BYTES * 2, what)
  }
  for (const key of [
    'keys',
    'values',
    'entries',
    'getOwnPropertyNames',
    'getOwnPropertyDescriptors',
    'assign',
  ]) {
    wrap(
      global.Object,
      key,
      `Object.${key}`,
      key === 'assign'
        ? (call, what) => {
            for (const source of call.args.slice(1)) elementKeys({ self: undefined, args: [source] }, what)
          }
        : elementKeys,
    )
  }
  wrap(global.Reflect, 'ownKeys', 'Reflect.ownKeys', elementKeys)
  const JSONObject = global.JSON
  wrap(JSONObject, 'parse', 'JSON.parse', (call, what) => {
    const source = text(call.args[0])
    call.args = [source, call.args[1]]
    // Parsed values take several times the text: `[1,1,...]` is 2 characters per 8-byte element.
    charge(source.length, source.length * 4 * ELEMENT_BYTES, what)
  })
  wrap(
    JSONObject,
    'stringify',
    'JSON.stringify',
    (call, what) => {
      const value = call.args[0]
      if (isArray(value) && !types.isProxy(value)) charge(value.length, value.length * 5 * CHAR_BYTES, what)
      else if (types.isTypedArray(value)) {
        const length = typedLength(value)
        charge(length, length * 8 * CHAR_BYTES, what)
      }
    },
    chargeResultString,
  )

  // ---- BigInt -------------------------------------------------------------------------------------
  const bigint = (key: string, holder: Value, rule: Rule) => wrap(holder, key, `BigInt ${key}`, rule)
  for (const key of ['toString', 'toLocaleString']) {
    bigint(key, realm.intrinsics.BigIntPrototype, (call, what) => {
      const value = call.self
      if (typeof value === 'bigint') chargeBigIntBits(meter, bitLength(value), what)
    })
  }
  for (const key of ['asIntN', 'asUintN']) {
    bigint(key, global.BigInt, (call, what) => {
      const bits = integer(call.args[0])
      call.args = [bits, call.args[1]]
      if (bits > MAX_BIGINT_BITS) chargeBigIntBits(meter, bits, what)
    })
  }

  // `Atomics.wait` blocks the thread (Node allows it on the main thread): never past the deadline.
  wrap(global.Atomics, 'wait', 'Atomics.wait', (call) => {
    const remaining = max(0, meter.deadline - performance.now())
    const timeout = call.args[3] === undefined ? Infinity : number(call.args[3])
    call.args = [call.args[0], call.args[1], call.args[2], timeout < remaining ? timeout : remaining]
  })
  // WebAssembly cannot compile here (code generation is off), but its Memory allocates gigabytes
  // in one call and makes shared buffers: the realm has no WebAssembly.
  delete global.WebAssembly

  // Object spread and rest copy every own property natively (realm code, not interpreted).
  const helpers = engine.helpers as Record<string, Value>
  const { copyDataProperties, copyRest } = helpers
  helpers.copyDataProperties = (target: Value, source: Value) => {
    elementKeys({ self: undefined, args: [source] }, 'Object spread')
    return copyDataProperties(target, source)
  }
  helpers.copyRest = (source: Value, excluded: Value) => {
    elementKeys({ self: undefined, args: [source] }, 'Object rest')
    return copyRest(source, excluded)
  }

  installRegExpGuards(engine, text, number)
}

// ---- regular expressions --------------------------------------------------------------------------

let linearFallbackEnabled = false

/**
 * Lets V8 switch a regular expression to its linear-time engine after too many backtracks, for
 * the patterns that engine can run (no backreferences, lookahead, `i`/`u`/`v`/`d` flags). The
 * flag is process-wide and changes no result, only the worst case. `--enable-experimental-regexp-
 * engine` makes the `l` flag available, which is how a pattern is tested for linear-time support.
 */
function enableLinearRegExpFallback(): void {
  if (linearFallbackEnabled) return
  linearFallbackEnabled = true
  v8.setFlagsFromString('--enable-experimental-regexp-engine')
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks')
  // The count is per match attempt: a call tries up to one attempt per position of the subject,
  // so this also bounds a linear-time pattern's worst case to about subject length × 1,000 steps.
  v8.setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACKS_BEFORE_FALLBACK}`)
}

/**
 * A private context whose only global runs the pending call: `vm`'s `timeout` is the one way to
 * interrupt a native call (V8's regular expression engine honours it). Never reachable from a
 * sandbox; one per process.
 */
let pendingCall: (() => Value) | undefined
const watchdogContext = vm.createContext({ run: () => pendingCall!() })
const watchdogScript = new vm.Script('run()', { filename: 'airlock-regexp-watchdog' })
let insideWatchdog = false

/**
 * Regular expressions: every `RegExp.prototype` entry point (`exec`, which `test` and the string
 * methods' internal loops call, and `@@match`, `@@matchAll`, `@@replace`, `@@search`, `@@split`)
 * charges the subject's length; a pattern V8 cannot run in linear time, or any pattern on a long
 * subject, runs under a watchdog that ends the run at its deadline.
 */
function installRegExpGuards(
  engine: Engine,
  text: (value: Value) => string,
  number: (value: Value) => number,
): void {
  const { realm, meter } = engine
  const RegExpPrototype = realm.intrinsics.RegExp.prototype
  const RealmRegExp = realm.intrinsics.RegExp
  const sourceOf = getOwnPropertyDescriptor(RegExpPrototype, 'source')!.get!
  const flagsOf = getOwnPropertyDescriptor(RegExpPrototype, 'flags')!.get!
  const linear = new WeakMap<object, boolean>()
  const isLinear = (regexp: Value): boolean => {
    let known = linear.get(regexp)
    if (known === undefined) {
      try {
        new RealmRegExp(apply(sourceOf, regexp, []), `${apply(flagsOf, regexp, [])}l`)
        known = true
      } catch {
        known = false
      }
      linear.set(regexp, known)
    }
    return known
  }
  /**
   * Runs `original` on `call`, under the watchdog when `regexp` can backtrack for ever (the
   * linear-time engine cannot run it) or the subject is longer than WATCHDOG_SUBJECT.
   */
  const timed = (original: Value, call: Call, regexp: Value = call.self, subjectLength = 0): Value => {
    if (
      insideWatchdog ||
      (subjectLength <= WATCHDOG_SUBJECT && (!types.isRegExp(regexp) || isLinear(regexp)))
    ) {
      return apply(original, call.self, call.args)
    }
    const remaining = meter.deadline - performance.now()
    if (!Number.isFinite(remaining)) return apply(original, call.self, call.args)
    insideWatchdog = true
    pendingCall = () => apply(original, call.self, call.args)
    try {
      return watchdogScript.runInContext(watchdogContext, { timeout: max(1, ceil(remaining)) })
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        meter.trip({
          limit: 'timeoutMs',
          message: `A regular expression ran past timeoutMs (${meter.timeoutMs} ms); simplify it (avoid nested quantifiers such as (a+)+).`,
        })
      }
      throw error
    } finally {
      insideWatchdog = false
      pendingCall = undefined
    }
  }
  // A split tries the pattern at every position. Since the prototype's methods are replaced, V8
  // would take its slow path and call the guarded `exec` once per character. For a plain regex
  // (no own properties but lastIndex, unchanged constructor, species and flags) the split is done
  // by a host copy of the regex on V8's fast path instead: a split of a plain regex does not
  // touch the regex, and its result is a list of strings (and `undefined` captures), copied into
  // a realm array. Only for subjects up to FAST_SPLIT_SUBJECT: a split can be quadratic even on a
  // linear-time pattern (`/a*b/`), and the fast path has no deadline checks inside.
  const speciesGetter = getOwnPropertyDescriptor(RealmRegExp, Symbol.species)!.get
  const plainRegExp = (value: Value): boolean =>
    types.isRegExp(value) &&
    !types.isProxy(value) &&
    getPrototypeOf(value) === RegExpPrototype &&
    ownKeys(value).length === 1 &&
    getOwnPropertyDescriptor(RegExpPrototype, 'constructor')?.value === RealmRegExp &&
    getOwnPropertyDescriptor(RealmRegExp, Symbol.species)?.get === speciesGetter &&
    getOwnPropertyDescriptor(RegExpPrototype, 'flags')?.get === flagsOf
  const hostSplit = RegExp.prototype[Symbol.split]
  const splitOnHost: Value = (regexp: Value, subject: string, limit: number | undefined) =>
    engine.toArray(
      apply(hostSplit, new RegExp(apply(sourceOf, regexp, []), apply(flagsOf, regexp, [])), [subject, limit]),
    )
  for (const key of ['exec', Symbol.match, Symbol.matchAll, Symbol.replace, Symbol.search, Symbol.split]) {
    const descriptor = getOwnPropertyDescriptor(RegExpPrototype, key)!
    const original = descriptor.value
    const what = `RegExp.prototype${typeof key === 'symbol' ? `[${String(key.description)}]` : `.${key}`}`
    const impl = (self: Value, args: Value[]) => {
      const call: Call = { self, args: hostList(args) }
      const subject = text(call.args[0])
      call.args[0] = subject
      if (key === 'exec' && insideEntry) {
        // Called by another entry point's own loop (split calls it once per position): the
        // entry point charged the subject's length, so this costs one operation. Each such call
        // can scan the rest of the subject (a split is quadratic even on a linear-time pattern),
        // so the deadline is checked whenever the subjects scanned since the last check add up
        // to a few milliseconds of work.
        if (++meter.ops >= meter.nextCheck) meter.check()
        nestedWork += subject.length
        if (nestedWork > NESTED_WORK) {
          nestedWork = 0
          meter.check()
        }
        return timed(original, call)
      }
      meter.charge(subject.length, 0, what)
      let run = original
      if (key === Symbol.split && subject.length <= FAST_SPLIT_SUBJECT && plainRegExp(self)) {
        call.args = [self, subject, call.args[1] === undefined ? undefined : number(call.args[1]) >>> 0]
        run = splitOnHost
      }
      const outer = insideEntry
      insideEntry = true
      const started = performance.now()
      try {
        return timed(run, call, self, subject.length)
      } finally {
        insideEntry = outer
        if (performance.now() - started > SLOW_CALL_MS) meter.check()
      }
    }
    const guarded = realm.factories.builtin(impl, original.name, original.length)
    defineProperty(RegExpPrototype, key, { ...descriptor, value: guarded })
  }
}
let insideEntry = false
let nestedWork = 0

/**
 * Charges `Array(n)` / `new Array(n)` before it runs: V8 preallocates up to about 16,000
 * elements, and past the caps the call is refused (a sparse array is still made by `length =`).
 */
export function chargeArrayConstruction(engine: Engine, list: readonly Value[]): void {
  const length = list[0]
  if (list.length === 1 && typeof length === 'number' && length >>> 0 === length) {
    engine.meter.charge(length, length * ELEMENT_BYTES, 'Array')
  }
}

// ---- BigInt arithmetic ----------------------------------------------------------------------------

/** Bits of a BigInt's magnitude. */
export function bitLength(value: bigint): number {
  const magnitude = value < 0n ? -value : value
  if (magnitude < 2n ** 52n) return magnitude === 0n ? 0 : trunc(log2(Number(magnitude))) + 1
  return magnitude.toString(16).length * 4
}

/** Charges work superlinear in size (multiplication, conversion to text): bits² / 2^13 units. */
function chargeBigIntBits(meter: Engine['meter'], bits: number, what: string): void {
  if (bits > MAX_BIGINT_BITS) {
    meter.trip({
      limit: 'memoryMb',
      message: `${what} would make a BigInt of about ${bits} bits, more than the ${MAX_BIGINT_BITS} bits this sandbox allows; use smaller numbers.`,
    })
  }
  meter.charge(ceil((bits * bits) / 2 ** 13), bits / 8, what)
}

/**
 * `x * y`, `x ** y` and `x << y` on BigInts, with the result size estimated and charged first:
 * these are the operators whose result can be far larger than their operands.
 */
export function bigIntOperation(engine: Engine, operator: '*' | '**' | '<<', x: bigint, y: bigint): bigint {
  const bx = bitLength(x)
  let bits: number
  if (operator === '*') bits = bx + bitLength(y)
  else if (operator === '<<') bits = y > 0n ? bx + Number(y > 2n ** 40n ? 2n ** 40n : y) : bx
  else bits = bx <= 1 || y <= 0n ? 1 : bx * Number(y > 2n ** 40n ? 2n ** 40n : y)
  if (bits > 64) chargeBigIntBits(engine.meter, bits, `BigInt ${operator}`)
  return operator === '*' ? x * y : operator === '**' ? x ** y : x << y
}
