import { types } from 'node:util'
import type { Data } from '@airlock/core'

/**
 * `Data` as JSON, for the JSON-lines channel to the sandbox. JSON has no `undefined`, bigint,
 * `Date`, `Uint8Array`, `Map`, `Set`, `NaN`, infinities or `-0`, so those travel as tagged objects:
 *
 * | value | wire |
 * | --- | --- |
 * | `null`, booleans, strings, finite numbers except `-0` | themselves |
 * | arrays | arrays of wire values (holes read as `undefined`) |
 * | plain objects without a `"$"` key | objects of wire values |
 * | `undefined` | `{"$":"undefined"}` |
 * | `NaN`, `Infinity`, `-Infinity`, `-0` | `{"$":"number","v":"NaN"}` (the name as `String` gives it, `"-0"` for minus zero) |
 * | bigint | `{"$":"bigint","v":"123"}` |
 * | `Date` | `{"$":"date","v":<time value>}`, `v` is `null` for an invalid date |
 * | `Uint8Array` | `{"$":"bytes","v":"<base64>"}` |
 * | `Map` | `{"$":"map","v":[[key, value], ...]}` |
 * | `Set` | `{"$":"set","v":[entry, ...]}` |
 * | a plain object that has a `"$"` key | `{"$":"object","v":{...}}` |
 *
 * The harness in the sandbox runs the same encoder (`createWireEncoder`) and decodes on its side.
 */
export type WireValue = null | boolean | number | string | WireValue[] | { [key: string]: WireValue }

/** Wire values nested deeper than this are refused when decoding (the data boundary stops at 100). */
const MAX_DECODE_DEPTH = 200

/** A wire value that does not follow the format: the sandbox side sent something it should not. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError'
}

/** The checks of Node's `util.types` that `createWireEncoder` uses. */
export interface WireEncoderChecks {
  readonly isDate: (value: unknown) => boolean
  readonly isUint8Array: (value: unknown) => boolean
  readonly isMap: (value: unknown) => boolean
  readonly isSet: (value: unknown) => boolean
}

/**
 * Makes the encoder of checked data (acyclic plain data, as `toData` or core's sandbox runtime
 * copies it) into wire values. Its source runs in the harness too (see `loadHarnessSource`), on
 * copies made in the sandbox's vm realm, so it refers to nothing outside itself, tells kinds apart
 * with `checks` instead of `instanceof`, and reads values with the built-ins it captured when it
 * was called: never through the value's (replaceable) prototypes.
 */
export function createWireEncoder(checks: WireEncoderChecks): (value: Data) => WireValue {
  const { isDate, isUint8Array, isMap, isSet } = checks
  const { getOwnPropertyDescriptor, getOwnPropertyNames, defineProperty, hasOwn, is } = Object
  const { isArray } = Array
  const { isFinite, isNaN } = Number
  const typedArray = Object.getPrototypeOf(Uint8Array.prototype) as object
  const bytesBuffer = getOwnPropertyDescriptor(typedArray, 'buffer')!.get!
  const bytesOffset = getOwnPropertyDescriptor(typedArray, 'byteOffset')!.get!
  const bytesLength = getOwnPropertyDescriptor(typedArray, 'byteLength')!.get!
  const dateGetTime = Date.prototype.getTime
  const mapEntries = Map.prototype.entries
  const setValues = Set.prototype.values

  const encode = (value: Data): WireValue => {
    switch (typeof value) {
      case 'undefined':
        return { $: 'undefined' }
      case 'boolean':
      case 'string':
        return value
      case 'number':
        if (isFinite(value) && !is(value, -0)) return value
        return { $: 'number', v: is(value, -0) ? '-0' : String(value) }
      case 'bigint':
        return { $: 'bigint', v: String(value) }
    }
    if (value === null) return null
    if (isDate(value)) {
      const time = dateGetTime.call(value)
      return { $: 'date', v: isNaN(time) ? null : time }
    }
    if (isUint8Array(value)) {
      const bytes = Buffer.from(
        bytesBuffer.call(value) as ArrayBuffer,
        bytesOffset.call(value) as number,
        bytesLength.call(value) as number,
      )
      return { $: 'bytes', v: bytes.toString('base64') }
    }
    if (isMap(value)) {
      const entries: WireValue[] = []
      for (const [key, entry] of mapEntries.call(value as Map<Data, Data>))
        entries.push([encode(key), encode(entry)])
      return { $: 'map', v: entries }
    }
    if (isSet(value)) {
      const entries: WireValue[] = []
      for (const entry of setValues.call(value as Set<Data>)) entries.push(encode(entry))
      return { $: 'set', v: entries }
    }
    const own = (key: string) => getOwnPropertyDescriptor(value, key)?.value as Data
    if (isArray(value)) {
      const items: WireValue[] = []
      for (let index = 0; index < value.length; index++) items.push(encode(own(String(index))))
      return items
    }
    const encoded: { [key: string]: WireValue } = {}
    for (const key of getOwnPropertyNames(value)) {
      // Define, not assign: a key named __proto__ must stay a key.
      defineProperty(encoded, key, {
        value: encode(own(key)),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return hasOwn(encoded, '$') ? { $: 'object', v: encoded } : encoded
  }
  return encode
}

/** Encodes host `Data` (already checked with `toData`, so acyclic) as a wire value. */
export const encodeData: (value: Data) => WireValue = createWireEncoder(types)

/**
 * Decodes a wire value (already parsed from JSON) into host `Data`. The input comes from the
 * sandbox, so every shape is checked; callers still pass the result through `toData` for sizes.
 *
 * @throws WireFormatError when the value does not follow the format.
 */
export function decodeData(wire: unknown): Data {
  return decode(wire, 0)
}

function decode(wire: unknown, depth: number): Data {
  if (depth > MAX_DECODE_DEPTH) throw new WireFormatError(`nested deeper than ${MAX_DECODE_DEPTH} levels`)
  switch (typeof wire) {
    case 'boolean':
    case 'string':
      return wire
    case 'number':
      if (!Number.isFinite(wire)) throw new WireFormatError('a non-finite bare number')
      return wire
  }
  if (wire === null) return null
  if (typeof wire !== 'object') throw new WireFormatError(`a value of type ${typeof wire}`)
  if (Array.isArray(wire)) return wire.map((item) => decode(item, depth + 1))
  const record = wire as Record<string, unknown>
  if (!Object.hasOwn(record, '$')) return decodeObject(record, depth)
  const tag = record.$
  const v = record.v
  switch (tag) {
    case 'undefined':
      return undefined
    case 'number':
      switch (v) {
        case 'NaN':
          return Number.NaN
        case 'Infinity':
          return Infinity
        case '-Infinity':
          return -Infinity
        case '-0':
          return -0
      }
      throw new WireFormatError(`an unknown special number ${JSON.stringify(v)}`)
    case 'bigint':
      if (typeof v !== 'string' || !/^-?\d{1,100000}$/.test(v))
        throw new WireFormatError('a malformed bigint')
      return BigInt(v)
    case 'date':
      if (v === null) return new Date(Number.NaN)
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new WireFormatError('a malformed date')
      return new Date(v)
    case 'bytes':
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
        throw new WireFormatError('malformed bytes')
      }
      return new Uint8Array(Buffer.from(v, 'base64'))
    case 'map': {
      if (!Array.isArray(v)) throw new WireFormatError('a malformed map')
      const map = new Map<Data, Data>()
      for (const entry of v) {
        if (!Array.isArray(entry) || entry.length !== 2) throw new WireFormatError('a malformed map entry')
        map.set(decode(entry[0], depth + 1), decode(entry[1], depth + 1))
      }
      return map
    }
    case 'set': {
      if (!Array.isArray(v)) throw new WireFormatError('a malformed set')
      const set = new Set<Data>()
      for (const entry of v) set.add(decode(entry, depth + 1))
      return set
    }
    case 'object':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        throw new WireFormatError('a malformed escaped object')
      }
      return decodeObject(v as Record<string, unknown>, depth)
  }
  throw new WireFormatError(`an unknown tag ${JSON.stringify(tag)}`)
}

function decodeObject(record: Record<string, unknown>, depth: number): Data {
  const result: Record<string, Data> = {}
  for (const key of Object.keys(record)) {
    Object.defineProperty(result, key, {
      value: decode(record[key], depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return result
}
