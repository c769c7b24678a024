import type { Value } from '../realm.js'
import type { Engine, Location } from './engine.js'

// Property access with sandbox semantics. Host code reading a property of a primitive would find
// the HOST's String.prototype (and from there the host Function); every read and write on a
// primitive therefore goes to the sandbox realm's prototype with the primitive as receiver.

const { get: reflectGet, set: reflectSet } = Reflect

export function isObject(value: Value): boolean {
  return (typeof value === 'object' && value !== null) || typeof value === 'function'
}

export function describeValue(value: Value): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'undefined':
      return 'undefined'
    case 'string':
      return JSON.stringify(value)
    case 'symbol':
      return String(value.description === undefined ? 'Symbol()' : `Symbol(${value.description})`)
    case 'function':
      return 'function'
    case 'object':
      return 'object'
    default:
      return String(value)
  }
}

export function keyText(key: Value): string {
  return typeof key === 'symbol'
    ? String(key.description === undefined ? 'Symbol()' : `Symbol(${key.description})`)
    : String(key)
}

export function getPrimitive(engine: Engine, object: Value, key: Value, loc: Location | undefined): Value {
  if (object == null) {
    throw engine.error(
      'TypeError',
      `Cannot read properties of ${object === null ? 'null' : 'undefined'} (reading '${keyText(key)}')`,
      loc,
    )
  }
  if (typeof object === 'string') {
    if (key === 'length') return object.length
    if (typeof key === 'number') {
      if (key >= 0 && key < object.length && Number.isInteger(key)) return object[key]
    } else if (typeof key === 'string') {
      const index = canonicalIndex(key)
      if (index >= 0 && index < object.length) return object[index]
    }
  }
  return reflectGet(engine.primitiveProto(object), key, object)
}

function canonicalIndex(key: string): number {
  const first = key.charCodeAt(0)
  if (first < 48 || first > 57) return -1
  const n = Number(key)
  return String(n) === key && Number.isInteger(n) ? n : -1
}

/** `object[key]` for any value, `key` already a property key. */
export function getValue(engine: Engine, object: Value, key: Value, loc: Location | undefined): Value {
  if ((typeof object === 'object' && object !== null) || typeof object === 'function') return object[key]
  return getPrimitive(engine, object, key, loc)
}

export function setValue(
  engine: Engine,
  object: Value,
  key: Value,
  value: Value,
  strict: boolean,
  loc: Location | undefined,
): void {
  if ((typeof object === 'object' && object !== null) || typeof object === 'function') {
    if (strict) object[key] = value
    else engine.sloppySet(object, key, value)
    return
  }
  if (object == null) {
    throw engine.error(
      'TypeError',
      `Cannot set properties of ${object === null ? 'null' : 'undefined'} (setting '${keyText(key)}')`,
      loc,
    )
  }
  const ok = reflectSet(engine.primitiveProto(object), key, value, object)
  if (!ok && strict) {
    throw engine.error(
      'TypeError',
      `Cannot create property '${keyText(key)}' on ${typeof object} '${String(object)}'`,
      loc,
    )
  }
}

/** ToPrimitive with the sandbox's own methods (they are realm functions). */
export function toPrimitive(engine: Engine, value: Value, hint: 'string' | 'number' | 'default'): Value {
  if (!isObject(value)) return value
  const exotic = value[Symbol.toPrimitive]
  if (exotic != null) {
    if (typeof exotic !== 'function') throw engine.error('TypeError', 'Symbol.toPrimitive is not a function')
    const result = engine.callFunction(exotic, value, [hint])
    if (isObject(result)) throw engine.error('TypeError', 'Cannot convert object to primitive value')
    return result
  }
  const order = hint === 'string' ? ['toString', 'valueOf'] : ['valueOf', 'toString']
  for (const name of order) {
    const method = value[name]
    if (typeof method === 'function') {
      const result = engine.callFunction(method, value, [])
      if (!isObject(result)) return result
    }
  }
  throw engine.error('TypeError', 'Cannot convert object to primitive value')
}

/** ToPropertyKey, done once so a key's `toString` cannot answer differently twice. */
export function toPropertyKey(engine: Engine, key: Value): Value {
  switch (typeof key) {
    case 'string':
    case 'symbol':
      return key
    case 'number':
      return key
    case 'object':
    case 'function':
      if (key === null) return 'null'
      key = toPrimitive(engine, key, 'string')
      return typeof key === 'symbol' ? key : String(key)
    default:
      return String(key)
  }
}

/** `typeof` that never leaks host details (plain typeof is already realm-independent). */
export function typeOf(value: Value): string {
  return typeof value
}

/** Iterator record over a sandbox iterable, through its own `Symbol.iterator`. */
export function getIterator(
  engine: Engine,
  iterable: Value,
  loc: Location | undefined,
  text?: string,
): Value {
  const method = getValue(engine, iterable, Symbol.iterator, loc)
  if (typeof method !== 'function') {
    throw engine.error('TypeError', `${text ?? describeValue(iterable)} is not iterable`, loc)
  }
  const iterator = engine.callFunction(method, iterable, [])
  if (!isObject(iterator))
    throw engine.error('TypeError', 'Result of the Symbol.iterator method is not an object', loc)
  return iterator
}

export function getAsyncIterator(engine: Engine, iterable: Value, loc: Location | undefined): Value {
  const method = getValue(engine, iterable, Symbol.asyncIterator, loc)
  if (method == null) return createAsyncFromSyncIterator(engine, getIterator(engine, iterable, loc))
  if (typeof method !== 'function') throw engine.error('TypeError', 'object is not async iterable', loc)
  const iterator = engine.callFunction(method, iterable, [])
  if (!isObject(iterator))
    throw engine.error('TypeError', 'Result of the Symbol.asyncIterator method is not an object', loc)
  return iterator
}

/** A host-side record standing for %AsyncFromSyncIteratorPrototype%: only the compiled for-await uses it. */
function createAsyncFromSyncIterator(engine: Engine, iterator: Value): Value {
  return { __syncIterator: iterator, engine }
}

export function closeIterator(engine: Engine, iterator: Value): void {
  const method = iterator.return
  if (method == null) return
  const result = engine.callFunction(method, iterator, [])
  if (!isObject(result)) throw engine.error('TypeError', 'Iterator result is not an object')
}

/** Calls `iterator.return` while an abrupt completion is already on the way out: its errors lose. */
export function closeIteratorQuietly(engine: Engine, iterator: Value): void {
  try {
    const method = iterator.return
    if (method != null) engine.callFunction(method, iterator, [])
  } catch {
    // The original completion wins over an error in `return`, as the spec says.
  }
}

/** Host array of the values of a sandbox iterable (for spread arguments). */
export function spreadToList(engine: Engine, iterable: Value, loc: Location | undefined, out: Value[]): void {
  const iterator = getIterator(engine, iterable, loc)
  const next = iterator.next
  for (;;) {
    const meter = engine.meter
    if (++meter.ops >= meter.nextCheck) meter.check()
    const result = engine.callFunction(next, iterator, [])
    if (!isObject(result))
      throw engine.error('TypeError', `Iterator result ${describeValue(result)} is not an object`, loc)
    if (result.done) return
    out.push(result.value)
  }
}

export function instanceOf(engine: Engine, value: Value, target: Value, loc: Location | undefined): boolean {
  if (!isObject(target)) {
    throw engine.error('TypeError', "Right-hand side of 'instanceof' is not callable", loc)
  }
  return value instanceof target
}

export function hasProperty(engine: Engine, key: Value, target: Value, loc: Location | undefined): boolean {
  if (!isObject(target)) {
    throw engine.error(
      'TypeError',
      `Cannot use 'in' operator to search for '${keyText(key)}' in ${describeValue(target)}`,
      loc,
    )
  }
  return toPropertyKey(engine, key) in target
}
