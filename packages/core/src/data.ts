import { types } from 'node:util'
import { DataBoundaryError } from './errors.js'
import { childPath } from './value-path.js'

/**
 * What crosses between sandbox and host, in both directions: JSON values plus `undefined`,
 * non-finite numbers, `bigint`, `Date`, `Uint8Array`, `Map` and `Set`. Errors cross as plain
 * `{ name, message }` objects. Nothing that can run code (functions, getters, proxies, thenables)
 * ever crosses, so the receiving side never executes the other side's code.
 */
export type Data =
  | null
  | undefined
  | boolean
  | number
  | string
  | bigint
  | Date
  | Uint8Array
  | readonly Data[]
  | ReadonlyMap<Data, Data>
  | ReadonlySet<Data>
  | { readonly [key: string]: Data }

export interface ToDataOptions {
  /** Refuse values whose estimated size exceeds this many bytes. */
  readonly maxBytes?: number
  /** Refuse values nested deeper than this. */
  readonly maxDepth?: number
  /**
   * Prototypes that mark a plain object, besides the host's `Object.prototype` and `null`:
   * an in-process sandbox passes its realm's `Object.prototype` here.
   */
  readonly plainObjectPrototypes?: readonly object[]
  /** How the value is named in error paths: `result`, `args`, ... */
  readonly rootName?: string
}

// Captured once: the copy must not call anything the other side could have replaced.
const { getPrototypeOf, getOwnPropertyDescriptor, getOwnPropertyNames, getOwnPropertySymbols } = Object
const { isArray } = Array
const dateGetTime = Date.prototype.getTime
const mapEntries = Map.prototype.entries
const setValues = Set.prototype.values
const typedArrayLength = getOwnPropertyDescriptor(getPrototypeOf(Uint8Array.prototype), 'length')!.get!
const functionCall = Function.prototype.call
const call = functionCall.bind(functionCall) as <R>(fn: (...args: never[]) => R, self: unknown) => R

/**
 * Copies `value` into host-owned `Data`, refusing anything that is not data. Reads own data
 * properties through descriptors only, so no getter, proxy trap or overridden method runs.
 *
 * @throws DataBoundaryError naming the path of the offending part and what to do instead.
 */
export function toData(value: unknown, options: ToDataOptions = {}): Data {
  const { maxBytes = Infinity, maxDepth = 100, plainObjectPrototypes = [], rootName = 'value' } = options
  const plainPrototypes = new Set<unknown>([null, Object.prototype, ...plainObjectPrototypes])
  const ancestors = new Set<object>()
  let bytes = 0

  const charge = (path: string, amount: number) => {
    bytes += amount
    if (bytes > maxBytes) {
      throw new DataBoundaryError(
        path,
        `the value is larger than the limit of ${maxBytes} bytes; pass less data`,
      )
    }
  }

  const copy = (input: unknown, path: string, depth: number): Data => {
    switch (typeof input) {
      case 'undefined':
      case 'boolean':
        charge(path, 1)
        return input
      case 'number':
        charge(path, 8)
        return input
      case 'string':
        charge(path, input.length * 2 + 2)
        return input
      case 'bigint':
        charge(path, 8)
        return input
      case 'symbol':
        throw new DataBoundaryError(path, 'symbols cannot cross the boundary; use a string')
      case 'function':
        throw new DataBoundaryError(path, 'functions cannot cross the boundary; pass data instead')
    }
    if (input === null) {
      charge(path, 1)
      return null
    }
    const object = input as object
    if (types.isProxy(object))
      throw new DataBoundaryError(path, 'proxies cannot cross the boundary; pass a plain copy')
    if (depth > maxDepth)
      throw new DataBoundaryError(path, `the value is nested deeper than ${maxDepth} levels`)
    if (ancestors.has(object)) throw new DataBoundaryError(path, 'the value contains a cycle; pass a tree')

    if (types.isDate(object)) {
      charge(path, 8)
      return new Date(call(dateGetTime, object))
    }
    if (types.isUint8Array(object)) {
      const length = call(typedArrayLength, object) as number
      charge(path, length)
      return new Uint8Array(object as Uint8Array)
    }
    if (types.isNativeError(object)) {
      const name = readErrorText(object, 'name', path)
      const message = readErrorText(object, 'message', path)
      charge(path, name.length * 2 + 2 + message.length * 2 + 2)
      return { name, message }
    }

    ancestors.add(object)
    try {
      if (types.isMap(object)) {
        const result = new Map<Data, Data>()
        let index = 0
        for (const [key, entry] of call(mapEntries, object) as IterableIterator<[unknown, unknown]>) {
          result.set(
            copy(key, `${path}.<key ${index}>`, depth + 1),
            copy(entry, `${path}.<value ${index}>`, depth + 1),
          )
          index++
        }
        return result
      }
      if (types.isSet(object)) {
        const result = new Set<Data>()
        let index = 0
        for (const entry of call(setValues, object) as IterableIterator<unknown>) {
          result.add(copy(entry, `${path}.<entry ${index++}>`, depth + 1))
        }
        return result
      }
      if (isArray(object)) {
        const length = getOwnPropertyDescriptor(object, 'length')!.value as number
        charge(path, 8 + length)
        const result: Data[] = []
        for (let index = 0; index < length; index++) {
          result.push(
            copy(
              readDataProperty(object, String(index), childPath(path, index)),
              childPath(path, index),
              depth + 1,
            ),
          )
        }
        return result
      }
      if (types.isPromise(object)) {
        throw new DataBoundaryError(path, 'promises cannot cross the boundary; await the value first')
      }
      if (!plainPrototypes.has(getPrototypeOf(object))) {
        throw new DataBoundaryError(
          path,
          `${describeKind(object)} cannot cross the boundary; convert it to a plain object, array or string`,
        )
      }
      if (getOwnPropertySymbols(object).length > 0) {
        throw new DataBoundaryError(path, 'symbol-keyed properties cannot cross the boundary')
      }
      const result: Record<string, Data> = {}
      for (const key of getOwnPropertyNames(object)) {
        const descriptor = getOwnPropertyDescriptor(object, key)!
        const keyPath = childPath(path, key)
        if (!('value' in descriptor)) {
          throw new DataBoundaryError(
            keyPath,
            'getters and setters cannot cross the boundary; pass the value itself',
          )
        }
        if (!descriptor.enumerable) continue
        if (key === 'then' && typeof descriptor.value === 'function') {
          throw new DataBoundaryError(keyPath, 'thenables cannot cross the boundary; await the value first')
        }
        charge(keyPath, key.length * 2 + 2)
        const copied = copy(descriptor.value, keyPath, depth + 1)
        // Define, not assign: a key named __proto__ must stay a key, not set the prototype.
        Object.defineProperty(result, key, {
          value: copied,
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      return result
    } finally {
      ancestors.delete(object)
    }
  }

  return copy(value, rootName, 0)
}

function readDataProperty(object: object, key: string, path: string): unknown {
  let target: object | null = object
  // Walk the chain by descriptors so an inherited `message` or `name` still reads without a getter.
  while (target !== null) {
    if (types.isProxy(target)) throw new DataBoundaryError(path, 'proxies cannot cross the boundary')
    const descriptor = getOwnPropertyDescriptor(target, key)
    if (descriptor !== undefined) {
      if (!('value' in descriptor)) {
        throw new DataBoundaryError(
          path,
          'getters and setters cannot cross the boundary; pass the value itself',
        )
      }
      return descriptor.value
    }
    target = getPrototypeOf(target)
  }
  return undefined
}

/** An error's `name` or `message` as a string; `String()` of an object would run its `toString`. */
function readErrorText(object: object, key: 'name' | 'message', path: string): string {
  const value = readDataProperty(object, key, path)
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    throw new DataBoundaryError(
      childPath(path, key),
      `an error's ${key} must be a string; pass the text itself`,
    )
  }
  return String(value)
}

function describeKind(object: object): string {
  if (types.isRegExp(object)) return 'a RegExp'
  if (types.isArrayBuffer(object) || types.isArrayBufferView(object))
    return 'a binary view other than Uint8Array'
  if (types.isWeakMap(object) || types.isWeakSet(object)) return 'a WeakMap or WeakSet'
  return 'a class instance'
}
