import { types } from 'node:util'
import type { Value } from './realm.js'

/** Objects nested this deep below a console argument print as `[Object]` / `[Array]`. */
const MAX_DEPTH = 6
/**
 * Entries printed per array, typed array, map, set or object, and characters per nested string
 * (as Node's inspect does): formatting runs on the host, outside the meter, so it must stay
 * small whatever the sandbox logs.
 */
const MAX_ITEMS = 100
const MAX_STRING = 10_000
/** BigInts above this many bits print as their size: their decimal text costs superlinear time. */
const MAX_BIGINT_BITS = 100_000
const identifier = /^[A-Za-z_$][\w$]*$/
const { getPrototypeOf, getOwnPropertyDescriptor, keys } = Object
const functionToString = Function.prototype.toString
const dateGetTime = Date.prototype.getTime
const dateToISOString = Date.prototype.toISOString
const regExpToString = RegExp.prototype.toString
const mapEntries = Map.prototype.entries
const setValues = Set.prototype.values
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size')!.get!
const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size')!.get!
const typedArrayLength = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  'length',
)!.get!
const objectToString = Object.prototype.toString
const { apply } = Reflect

/**
 * Formats console arguments in the format the executor contract pins. Reads through descriptors
 * and captured host built-ins only, so no getter, proxy trap or overridden method of the sandbox
 * runs while printing.
 */
export function formatConsoleArguments(args: readonly Value[], plainPrototypes: ReadonlySet<object>): string {
  return args
    .map((arg) => (typeof arg === 'string' ? arg : inspect(arg, 0, new Set(), true, plainPrototypes)))
    .join(' ')
}

function inspect(
  value: Value,
  depth: number,
  ancestors: Set<object>,
  top: boolean,
  plain: ReadonlySet<object>,
): string {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_STRING
        ? `${JSON.stringify(value.slice(0, MAX_STRING))}... ${value.length - MAX_STRING} more characters`
        : JSON.stringify(value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return bitLength(value) > MAX_BIGINT_BITS ? `[BigInt: ${bitLength(value)} bits]` : `${value}n`
    case 'symbol': {
      const description = value.description
      return description === undefined ? 'Symbol()' : `Symbol(${description})`
    }
    case 'undefined':
    case 'boolean':
      return String(value)
    case 'function': {
      if (types.isProxy(value)) return '[Function (anonymous)]'
      const name = readOwn(value, 'name')
      const label = typeof name === 'string' && name !== '' ? name : ''
      let isClass = false
      try {
        isClass = (apply(functionToString, value, []) as string).startsWith('class')
      } catch {
        isClass = false
      }
      if (isClass) return `[class ${label === '' ? '(anonymous)' : label}]`
      return label === '' ? '[Function (anonymous)]' : `[Function: ${label}]`
    }
  }
  if (value === null) return 'null'
  const object = value as object
  if (types.isProxy(object)) return '[Proxy]'
  if (ancestors.has(object)) return '[Circular]'
  if (types.isNativeError(object)) {
    const name = String(readChain(object, 'name') ?? 'Error')
    const message = String(readChain(object, 'message') ?? '')
    const text = message === '' ? name : `${name}: ${message}`
    return top ? text : `[${text}]`
  }
  if (types.isDate(object)) {
    const time = apply(dateGetTime, object, []) as number
    return Number.isNaN(time) ? 'Invalid Date' : (apply(dateToISOString, object, []) as string)
  }
  if (types.isRegExp(object)) return apply(regExpToString, object, []) as string
  if (depth >= MAX_DEPTH) return Array.isArray(object) ? '[Array]' : '[Object]'
  ancestors.add(object)
  try {
    const child = (entry: Value) => inspect(entry, depth + 1, ancestors, false, plain)
    if (types.isMap(object)) {
      const entries: string[] = []
      const size = apply(mapSize, object, []) as number
      for (const [key, entry] of apply(mapEntries, object, []) as IterableIterator<[Value, Value]>) {
        if (entries.length === MAX_ITEMS) break
        entries.push(`${child(key)} => ${child(entry)}`)
      }
      return size === 0 ? 'Map(0) {}' : `Map(${size}) { ${withRest(entries, size).join(', ')} }`
    }
    if (types.isSet(object)) {
      const entries: string[] = []
      const size = apply(setSize, object, []) as number
      for (const entry of apply(setValues, object, []) as IterableIterator<Value>) {
        if (entries.length === MAX_ITEMS) break
        entries.push(child(entry))
      }
      return size === 0 ? 'Set(0) {}' : `Set(${size}) { ${withRest(entries, size).join(', ')} }`
    }
    if (types.isTypedArray(object)) {
      const name = (apply(objectToString, object, []) as string).slice(8, -1)
      const items: string[] = []
      const view = object as unknown as ArrayLike<number | bigint>
      const length = apply(typedArrayLength, object, []) as number
      for (let index = 0; index < Math.min(length, MAX_ITEMS); index++) items.push(child(view[index]))
      return `${name}(${length}) [${withRest(items, length).join(', ')}]`
    }
    if (Array.isArray(object)) {
      const length = readOwn(object, 'length') as number
      const items: string[] = []
      for (let index = 0; index < Math.min(length, MAX_ITEMS); index++) {
        items.push(property(object, String(index), child))
      }
      return `[${withRest(items, length).join(', ')}]`
    }
    const names = keys(object)
    const entries = names
      .slice(0, MAX_ITEMS)
      .map((key) => `${identifier.test(key) ? key : JSON.stringify(key)}: ${property(object, key, child)}`)
    const body = entries.length === 0 ? '{}' : `{ ${withRest(entries, names.length).join(', ')} }`
    const prefix = classPrefix(object, plain)
    return prefix === '' ? body : `${prefix} ${body}`
  } finally {
    ancestors.delete(object)
  }
}

/** The printed entries, and how many more there are when the container was cut. */
function withRest(entries: string[], total: number): string[] {
  return total > entries.length ? [...entries, `... ${total - entries.length} more items`] : entries
}

function bitLength(value: bigint): number {
  return (value < 0n ? -value : value).toString(16).length * 4
}

function property(object: object, key: string, child: (value: Value) => string): string {
  const descriptor = getOwnPropertyDescriptor(object, key)
  if (descriptor === undefined) return 'undefined'
  if ('value' in descriptor) return child(descriptor.value)
  if (descriptor.get && descriptor.set) return '[Getter/Setter]'
  return descriptor.get ? '[Getter]' : '[Setter]'
}

function classPrefix(object: object, plain: ReadonlySet<object>): string {
  const prototype = getPrototypeOf(object)
  if (prototype === null || plain.has(prototype)) return ''
  if (types.isProxy(prototype)) return ''
  const constructor = getOwnPropertyDescriptor(prototype, 'constructor')?.value
  if (typeof constructor !== 'function' || types.isProxy(constructor)) return ''
  const name = readOwn(constructor, 'name')
  return typeof name === 'string' ? name : ''
}

function readOwn(object: object, key: string): Value {
  const descriptor = getOwnPropertyDescriptor(object, key)
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined
}

function readChain(object: object, key: string): Value {
  for (let target: object | null = object; target !== null; target = getPrototypeOf(target)) {
    if (types.isProxy(target)) return undefined
    const descriptor = getOwnPropertyDescriptor(target, key)
    if (descriptor === undefined) continue
    return 'value' in descriptor ? descriptor.value : undefined
  }
  return undefined
}
