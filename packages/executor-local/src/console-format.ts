import { types } from 'node:util'
import type { Value } from './realm.js'

/** Objects nested this deep below a console argument print as `[Object]` / `[Array]`. */
const MAX_DEPTH = 6
const identifier = /^[A-Za-z_$][\w$]*$/
const { getPrototypeOf, getOwnPropertyDescriptor, keys } = Object
const functionToString = Function.prototype.toString
const dateGetTime = Date.prototype.getTime
const dateToISOString = Date.prototype.toISOString
const regExpToString = RegExp.prototype.toString
const mapEntries = Map.prototype.entries
const setValues = Set.prototype.values
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
      return JSON.stringify(value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return `${value}n`
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
      for (const [key, entry] of apply(mapEntries, object, []) as IterableIterator<[Value, Value]>) {
        entries.push(`${child(key)} => ${child(entry)}`)
      }
      return entries.length === 0 ? 'Map(0) {}' : `Map(${entries.length}) { ${entries.join(', ')} }`
    }
    if (types.isSet(object)) {
      const entries: string[] = []
      for (const entry of apply(setValues, object, []) as IterableIterator<Value>) entries.push(child(entry))
      return entries.length === 0 ? 'Set(0) {}' : `Set(${entries.length}) { ${entries.join(', ')} }`
    }
    if (types.isTypedArray(object)) {
      const name = (apply(objectToString, object, []) as string).slice(8, -1)
      const items: string[] = []
      const view = object as unknown as ArrayLike<number | bigint>
      for (let index = 0; index < view.length; index++) items.push(child(view[index]))
      return `${name}(${items.length}) [${items.join(', ')}]`
    }
    if (Array.isArray(object)) {
      const length = readOwn(object, 'length') as number
      const items: string[] = []
      for (let index = 0; index < length; index++) items.push(property(object, String(index), child))
      return `[${items.join(', ')}]`
    }
    const entries = keys(object).map(
      (key) => `${identifier.test(key) ? key : JSON.stringify(key)}: ${property(object, key, child)}`,
    )
    const body = entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`
    const prefix = classPrefix(object, plain)
    return prefix === '' ? body : `${prefix} ${body}`
  } finally {
    ancestors.delete(object)
  }
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
