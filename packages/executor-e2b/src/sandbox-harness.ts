// The harness: the one long-lived process of a session inside the E2B sandbox. The host uploads
// this file (types stripped) and starts it with `commands.run` as
//
//   exec node [--max-old-space-size=N] <this file> 3>&1 1>&2
//
// so that file descriptor 3 is the process's stdout, which envd streams to the host, while
// anything else in the process that writes to stdout (a child process, `process.stdout` of an
// allowlisted module) lands on stderr and cannot break the framing. It reads host frames from
// stdin and writes harness frames to fd 3, one JSON object per line (see protocol.ts).
//
// Code actions run in a node:vm context of this process, so they get a clean global scope whose
// bindings persist between runs, and cannot replace the intrinsics this file uses. The vm context
// is not a security boundary and is not meant to be one: the E2B VM is. Everything here is
// assumed to be compromised by the code it runs, which is why the host treats every frame as
// untrusted input and no secret ever enters the sandbox.
//
// Runs under Node >= 20 with no dependencies: only node builtins, erasable TypeScript, and type
// imports that vanish when the types are stripped.

import { AsyncLocalStorage } from 'node:async_hooks'
import { writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { types } from 'node:util'
import vm from 'node:vm'
import type {
  HarnessError,
  HarnessFrameBody,
  HarnessResult,
  HostFrame,
  InitFrame,
  ToolFailure,
} from './protocol.js'
import type { WireValue } from './wire-data.js'

const PROTOCOL_VERSION = 1
const FRAME_FD = 3
/** Objects nested this deep below a console argument print as `[Object]` / `[Array]`. */
const MAX_LOG_DEPTH = 6
/** Values nested deeper than this do not cross the boundary (as in core's `toData`). */
const MAX_DATA_DEPTH = 100

// ---- frames out --------------------------------------------------------------------------------

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/**
 * Writes synchronously, so a frame is on its way before the code can block the event loop (a
 * `console.log` right before `while (true) {}` must still reach the host).
 */
function writeFully(fd: number, text: string): void {
  const bytes = Buffer.from(text)
  let offset = 0
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset)
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EAGAIN') {
        Atomics.wait(sleeper, 0, 0, 2)
        continue
      }
      // The reader is gone (EPIPE): the host or envd went away, nobody is left to serve.
      process.exit(70)
    }
  }
}

function diagnose(message: string): void {
  try {
    writeFully(2, `airlock harness: ${message}\n`)
  } catch {
    // Diagnostics are best effort.
  }
}

interface Buffered {
  readonly seq: number
  readonly line: string
  /** Set for tool calls: dropped from the buffer once the host answers (it has seen the call). */
  readonly call?: number
}

let seq = 0
/** Frames since the current run (or init) began, for `resync` after a dropped stream. */
let buffered: Buffered[] = []

function send(body: HarnessFrameBody, call?: number): void {
  seq++
  const line = `${JSON.stringify({ ...body, seq })}\n`
  buffered.push(call === undefined ? { seq, line } : { seq, line, call })
  writeFully(FRAME_FD, line)
}

// ---- the sandbox realm -------------------------------------------------------------------------

interface RealmTools {
  readonly ObjectPrototype: object
  /** Thrown by `finalAnswer`, and by tools and `finalAnswer` once the run has its answer. */
  readonly sentinel: object
  makeError(name: string, message: string): Error
  fromWire(value: unknown): unknown
  declare(name: string, value: unknown): void
  define(name: string, value: unknown): void
  remove(name: string): void
  makeTool(name: string, call: (name: string, args: unknown) => Promise<unknown>): unknown
  install(bridge: {
    print(args: readonly unknown[]): void
    finalAnswer(value: unknown): void
    load(specifier: unknown, via: 'import' | 'require'): unknown
  }): void
  installImport(name: string, load: (specifier: unknown, via: 'import') => unknown): void
}

/**
 * Evaluated inside the vm context (through its source text), so every object it makes belongs to
 * the sandbox realm: code sees ordinary `Error`s, `Map`s and plain objects. It captures the
 * intrinsics it needs before any code runs. It must not refer to anything outside itself.
 */
function realmFactory(): RealmTools {
  'use strict'
  const { defineProperty, freeze, create, keys } = Object
  const { apply } = Reflect
  const hasOwn = Object.prototype.hasOwnProperty
  const isArray = Array.isArray
  const ObjectPrototype = Object.prototype
  const errors: Record<string, ErrorConstructor> = {
    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
  }
  const MapConstructor = Map
  const SetConstructor = Set
  const DateConstructor = Date
  const BytesConstructor = Uint8Array
  const toBigInt = BigInt
  const mapSet = Map.prototype.set
  const setAdd = Set.prototype.add
  const PromiseConstructor = Promise
  const sentinel = freeze(create(null))
  const global = globalThis as unknown as Record<string, unknown>

  const define = (name: string, value: unknown) => {
    defineProperty(global, name, { value, writable: true, configurable: true, enumerable: false })
  }

  const makeError = (name: string, message: string): Error => {
    const Constructor = apply(hasOwn, errors, [name]) ? errors[name]! : Error
    const error = new Constructor(message)
    if (error.name !== name) {
      defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false })
    }
    return error
  }

  const base64Digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const fromBase64 = (text: string): Uint8Array => {
    const clean = text.replace(/=+$/, '')
    const bytes = new BytesConstructor(Math.floor((clean.length * 3) / 4))
    let buffer = 0
    let bits = 0
    let index = 0
    for (let position = 0; position < clean.length; position++) {
      buffer = (buffer << 6) | base64Digits.indexOf(clean[position]!)
      bits += 6
      if (bits >= 8) {
        bits -= 8
        bytes[index++] = (buffer >> bits) & 0xff
      }
    }
    return bytes
  }

  // The input was parsed by the harness (trusted host data); the output is made in this realm.
  const fromWire = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value
    if (isArray(value)) {
      const items: unknown[] = []
      for (let index = 0; index < value.length; index++) items[index] = fromWire(value[index])
      return items
    }
    const record = value as Record<string, unknown>
    const tagged = apply(hasOwn, record, ['$'])
    const plain = (source: Record<string, unknown>) => {
      const result: Record<string, unknown> = {}
      for (const key of keys(source)) {
        defineProperty(result, key, {
          value: fromWire(source[key]),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      return result
    }
    if (!tagged) return plain(record)
    const v = record.v
    switch (record.$) {
      case 'undefined':
        return undefined
      case 'number':
        return v === '-0' ? -0 : v === 'NaN' ? Number.NaN : v === 'Infinity' ? Infinity : -Infinity
      case 'bigint':
        return toBigInt(v as string)
      case 'date':
        return new DateConstructor(v === null ? Number.NaN : (v as number))
      case 'bytes':
        return fromBase64(v as string)
      case 'map': {
        const map = new MapConstructor()
        for (const entry of v as unknown[][]) apply(mapSet, map, [fromWire(entry[0]), fromWire(entry[1])])
        return map
      }
      case 'set': {
        const set = new SetConstructor()
        for (const entry of v as unknown[]) apply(setAdd, set, [fromWire(entry)])
        return set
      }
      default:
        return plain(v as Record<string, unknown>)
    }
  }

  return {
    ObjectPrototype,
    sentinel,
    makeError,
    fromWire,
    define,
    declare(name, value) {
      global[name] = value
    },
    remove(name) {
      delete global[name]
    },
    makeTool(name, call) {
      // A method of this realm, named after the tool, so `typeof tool` and `tool.name` look right.
      const holder = {
        async [name](args: unknown) {
          return await call(name, args)
        },
      }
      return holder[name]
    },
    install(bridge) {
      const { print, finalAnswer, load } = bridge
      const log = function (...args: unknown[]) {
        print(args)
      }
      define('console', freeze({ log, info: log, warn: log, error: log, debug: log, trace: log, dir: log }))
      define('finalAnswer', function finalAnswer_(value: unknown) {
        finalAnswer(value)
      })
      define('require', function require(specifier: unknown) {
        return load(specifier, 'require')
      })
    },
    installImport(name, load) {
      define(name, function (specifier: unknown) {
        try {
          return PromiseConstructor.resolve(load(specifier, 'import'))
        } catch (error) {
          return PromiseConstructor.reject(error)
        }
      })
    },
  }
}

function createContext(): object {
  const options = { name: 'airlock code action' }
  // Node >= 22.8: a context whose global object is an ordinary object, without interceptors.
  const plain = (vm.constants as unknown as { DONT_CONTEXTIFY?: unknown } | undefined)?.DONT_CONTEXTIFY
  return plain === undefined
    ? vm.createContext({}, options)
    : vm.createContext(plain as unknown as vm.Context, options)
}

const context = createContext()
const realm = (vm.runInContext(`(${realmFactory.toString()})`, context) as () => RealmTools)()

// Node's own globals the code of a Node sandbox expects; `process` stays out (allowlist 'process').
for (const name of [
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'setImmediate',
  'clearImmediate',
  'queueMicrotask',
  'structuredClone',
  'fetch',
  'Headers',
  'Request',
  'Response',
  'FormData',
  'Blob',
  'URL',
  'URLSearchParams',
  'TextEncoder',
  'TextDecoder',
  'AbortController',
  'AbortSignal',
  'EventTarget',
  'Event',
  'atob',
  'btoa',
  'crypto',
  'performance',
  'Buffer',
]) {
  const value = (globalThis as Record<string, unknown>)[name]
  if (value !== undefined) realm.define(name, value)
}

// ---- per-run state -------------------------------------------------------------------------------

interface RunState {
  readonly run: number
  /** The script's file name in stack traces, to find positions in it. */
  readonly file: string
  outputBytes: number
  truncated: boolean
  /** The run has sent `done`: later console output and tool calls have no effect. */
  finished: boolean
  /** `finalAnswer` ended the run. */
  final: boolean
}

interface PendingCall {
  readonly state: RunState
  resolve(value: unknown): void
  reject(error: unknown): void
}

let setup: InitFrame | undefined
let current: RunState | undefined
let lastRun: number | undefined
let nextCall = 0
let installedTools: readonly string[] = []
let installedImport: string | undefined
const pending = new Map<number, PendingCall>()
/** Errors made for the sandbox, with the run error they stand for if the code leaves them uncaught. */
const knownErrors = new WeakMap<object, HarnessError>()
/** Follows a run's async continuations, so late output of a finished run is not charged to the next. */
const runs = new AsyncLocalStorage<RunState>()
/** Frames split into parts by the host, by frame id. */
const parts = new Map<number, string[]>()

function activeRun(): RunState | undefined {
  return runs.getStore() ?? current
}

function limitOf(value: number | null | undefined): number {
  return value === null || value === undefined ? Infinity : value
}

function finish(state: RunState, result: HarnessResult): void {
  if (state.finished) return
  state.finished = true
  if (current === state) current = undefined
  for (const [call, entry] of pending) if (entry.state === state) pending.delete(call)
  send({ t: 'done', run: state.run, result })
}

function knownError(error: HarnessError): Error {
  const made = realm.makeError(error.name, error.message)
  knownErrors.set(made, error)
  return made
}

// ---- the data boundary -------------------------------------------------------------------------

class Refusal extends Error {}

interface Budget {
  bytes: number
}

const { getPrototypeOf, getOwnPropertyDescriptor, getOwnPropertyNames, getOwnPropertySymbols } = Object
const identifier = /^[A-Za-z_$][\w$]*$/
const typedArrayPrototype = getPrototypeOf(Uint8Array.prototype) as object
const typedArrayLength = getOwnPropertyDescriptor(typedArrayPrototype, 'length')!.get!
const typedArrayBuffer = getOwnPropertyDescriptor(typedArrayPrototype, 'buffer')!.get!
const typedArrayOffset = getOwnPropertyDescriptor(typedArrayPrototype, 'byteOffset')!.get!
const typedArrayName = getOwnPropertyDescriptor(typedArrayPrototype, Symbol.toStringTag)!.get!
const dateTime = Date.prototype.getTime
const mapEntries = Map.prototype.entries
const setValues = Set.prototype.values
const regExpSource = getOwnPropertyDescriptor(RegExp.prototype, 'source')!.get!
const regExpFlags = getOwnPropertyDescriptor(RegExp.prototype, 'flags')!.get!
const functionSource = Function.prototype.toString
const symbolText = Symbol.prototype.toString

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  return identifier.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}

function isPlainPrototype(prototype: unknown): boolean {
  return prototype === null || prototype === realm.ObjectPrototype || prototype === Object.prototype
}

/** Reads a property through descriptors along the prototype chain, refusing accessors. */
function readData(object: object, key: string, path: string): unknown {
  let target: object | null = object
  while (target !== null) {
    if (types.isProxy(target))
      throw new Refusal(`${path}: proxies cannot cross the boundary; pass a plain copy`)
    const descriptor = getOwnPropertyDescriptor(target, key)
    if (descriptor !== undefined) {
      if (!('value' in descriptor)) {
        throw new Refusal(`${path}: getters and setters cannot cross the boundary; pass the value itself`)
      }
      return descriptor.value
    }
    target = getPrototypeOf(target) as object | null
  }
  return undefined
}

/**
 * Copies a sandbox value into a wire value, refusing whatever is not data (the same rules and
 * messages as core's `toData`) without running any getter, proxy trap or `then`. Sizes are added
 * to `budget` with core's estimate; the caller compares them with `maxValueBytes`.
 */
function toWire(
  value: unknown,
  path: string,
  budget: Budget,
  ancestors: Set<object>,
  depth: number,
): WireValue {
  switch (typeof value) {
    case 'undefined':
      budget.bytes += 1
      return { $: 'undefined' }
    case 'boolean':
      budget.bytes += 1
      return value
    case 'number':
      budget.bytes += 8
      if (Number.isFinite(value) && !Object.is(value, -0)) return value
      return { $: 'number', v: Object.is(value, -0) ? '-0' : String(value) }
    case 'string':
      budget.bytes += value.length * 2 + 2
      return value
    case 'bigint':
      budget.bytes += 8
      return { $: 'bigint', v: value.toString() }
    case 'symbol':
      throw new Refusal(`${path}: symbols cannot cross the boundary; use a string`)
    case 'function':
      throw new Refusal(`${path}: functions cannot cross the boundary; pass data instead`)
  }
  if (value === null) {
    budget.bytes += 1
    return null
  }
  const object = value as object
  if (types.isProxy(object))
    throw new Refusal(`${path}: proxies cannot cross the boundary; pass a plain copy`)
  if (depth > MAX_DATA_DEPTH)
    throw new Refusal(`${path}: the value is nested deeper than ${MAX_DATA_DEPTH} levels`)
  if (ancestors.has(object)) throw new Refusal(`${path}: the value contains a cycle; pass a tree`)

  if (types.isDate(object)) {
    budget.bytes += 8
    const time = dateTime.call(object)
    return { $: 'date', v: Number.isNaN(time) ? null : time }
  }
  if (types.isUint8Array(object)) {
    const length = typedArrayLength.call(object) as number
    budget.bytes += length
    const bytes = Buffer.from(
      typedArrayBuffer.call(object) as ArrayBuffer,
      typedArrayOffset.call(object) as number,
      length,
    )
    return { $: 'bytes', v: bytes.toString('base64') }
  }
  if (types.isNativeError(object)) {
    const name = errorText(object, 'name', path)
    const message = errorText(object, 'message', path)
    budget.bytes += name.length * 2 + 2 + message.length * 2 + 2
    return plainRecord([
      ['name', name],
      ['message', message],
    ])
  }
  if (types.isPromise(object)) {
    throw new Refusal(`${path}: promises cannot cross the boundary; await the value first`)
  }

  ancestors.add(object)
  try {
    if (types.isMap(object)) {
      const entries: WireValue[] = []
      let index = 0
      for (const [key, entry] of mapEntries.call(object as Map<unknown, unknown>)) {
        entries.push([
          toWire(key, `${path}.<key ${index}>`, budget, ancestors, depth + 1),
          toWire(entry, `${path}.<value ${index}>`, budget, ancestors, depth + 1),
        ])
        index++
      }
      return { $: 'map', v: entries }
    }
    if (types.isSet(object)) {
      const entries: WireValue[] = []
      let index = 0
      for (const entry of setValues.call(object as Set<unknown>)) {
        entries.push(toWire(entry, `${path}.<entry ${index++}>`, budget, ancestors, depth + 1))
      }
      return { $: 'set', v: entries }
    }
    if (Array.isArray(object)) {
      const length = getOwnPropertyDescriptor(object, 'length')!.value as number
      budget.bytes += 8 + length
      const items: WireValue[] = []
      for (let index = 0; index < length; index++) {
        const itemPath = childPath(path, index)
        const descriptor = getOwnPropertyDescriptor(object, String(index))
        if (descriptor !== undefined && !('value' in descriptor)) {
          throw new Refusal(
            `${itemPath}: getters and setters cannot cross the boundary; pass the value itself`,
          )
        }
        items.push(toWire(descriptor?.value, itemPath, budget, ancestors, depth + 1))
      }
      return items
    }
    if (!isPlainPrototype(getPrototypeOf(object))) {
      throw new Refusal(
        `${path}: ${describeKind(object)} cannot cross the boundary; convert it to a plain object, array or string`,
      )
    }
    if (getOwnPropertySymbols(object).length > 0) {
      throw new Refusal(`${path}: symbol-keyed properties cannot cross the boundary`)
    }
    const entries: [string, WireValue][] = []
    for (const key of getOwnPropertyNames(object)) {
      const descriptor = getOwnPropertyDescriptor(object, key)!
      const keyPath = childPath(path, key)
      if (!('value' in descriptor)) {
        throw new Refusal(`${keyPath}: getters and setters cannot cross the boundary; pass the value itself`)
      }
      if (!descriptor.enumerable) continue
      if (key === 'then' && typeof descriptor.value === 'function') {
        throw new Refusal(`${keyPath}: thenables cannot cross the boundary; await the value first`)
      }
      budget.bytes += key.length * 2 + 2
      entries.push([key, toWire(descriptor.value, keyPath, budget, ancestors, depth + 1)])
    }
    const record = plainRecord(entries)
    return entries.some(([key]) => key === '$') ? { $: 'object', v: record } : record
  } finally {
    ancestors.delete(object)
  }
}

function plainRecord(entries: readonly (readonly [string, WireValue])[]): { [key: string]: WireValue } {
  const record: { [key: string]: WireValue } = {}
  for (const [key, value] of entries) {
    // Define, not assign: a key named __proto__ must stay a key.
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return record
}

function errorText(object: object, key: 'name' | 'message', path: string): string {
  const value = readData(object, key, childPath(path, key))
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    throw new Refusal(`${childPath(path, key)}: an error's ${key} must be a string; pass the text itself`)
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

function sizeRefusal(path: string, limit: number): string {
  return `${path}: the value is larger than the limit of ${limit} bytes (maxValueBytes); pass less data`
}

// ---- console ---------------------------------------------------------------------------------

function formatEntry(args: readonly unknown[]): string {
  const parts: string[] = []
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]
    parts.push(typeof arg === 'string' ? arg : inspect(arg, 0, new Set(), true))
  }
  return parts.join(' ')
}

/** The console format the executor contract pins (see `describeExecutorContract`). */
function inspect(value: unknown, depth: number, ancestors: Set<object>, topLevel = false): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return `${value}n`
    case 'symbol':
      return symbolText.call(value)
    case 'undefined':
    case 'boolean':
      return String(value)
    case 'function': {
      const name = safeOwnValue(value, 'name')
      const label = typeof name === 'string' && name !== '' ? name : undefined
      let source = ''
      try {
        source = functionSource.call(value)
      } catch {
        // A revoked proxy or similar: print it as a function.
      }
      if (source.startsWith('class')) return `[class ${label ?? '(anonymous)'}]`
      return label === undefined ? '[Function (anonymous)]' : `[Function: ${label}]`
    }
  }
  if (value === null) return 'null'
  const object = value as object
  if (types.isProxy(object)) return '[Proxy]'
  if (ancestors.has(object)) return '[Circular]'
  if (types.isNativeError(object)) {
    const name = safeText(object, 'name', 'Error')
    const message = safeText(object, 'message', '')
    const text = message === '' ? name : `${name}: ${message}`
    return topLevel ? text : `[${text}]`
  }
  if (types.isDate(object)) {
    const time = dateTime.call(object)
    return Number.isNaN(time) ? 'Invalid Date' : new Date(time).toISOString()
  }
  if (types.isRegExp(object)) {
    try {
      return `/${regExpSource.call(object)}/${regExpFlags.call(object)}`
    } catch {
      return '/(regexp)/'
    }
  }
  if (depth >= MAX_LOG_DEPTH) return Array.isArray(object) ? '[Array]' : '[Object]'
  ancestors.add(object)
  try {
    const child = (entry: unknown) => inspect(entry, depth + 1, ancestors)
    if (types.isMap(object)) {
      const entries: string[] = []
      for (const [key, entry] of mapEntries.call(object as Map<unknown, unknown>)) {
        entries.push(`${child(key)} => ${child(entry)}`)
      }
      return entries.length === 0 ? 'Map(0) {}' : `Map(${entries.length}) { ${entries.join(', ')} }`
    }
    if (types.isSet(object)) {
      const entries: string[] = []
      for (const entry of setValues.call(object as Set<unknown>)) entries.push(child(entry))
      return entries.length === 0 ? 'Set(0) {}' : `Set(${entries.length}) { ${entries.join(', ')} }`
    }
    if (types.isTypedArray(object)) {
      const name = typedArrayName.call(object) as string
      const length = typedArrayLength.call(object) as number
      const items: string[] = []
      for (let index = 0; index < length; index++) {
        items.push(inspect((object as unknown as ArrayLike<unknown>)[index], depth + 1, ancestors))
      }
      return `${name}(${length}) [${items.join(', ')}]`
    }
    if (Array.isArray(object)) {
      const length = getOwnPropertyDescriptor(object, 'length')!.value as number
      const items: string[] = []
      for (let index = 0; index < length; index++) items.push(describeProperty(object, String(index), child))
      return `[${items.join(', ')}]`
    }
    const entries: string[] = []
    for (const key of getOwnPropertyNames(object)) {
      const descriptor = getOwnPropertyDescriptor(object, key)
      if (descriptor === undefined || !descriptor.enumerable) continue
      entries.push(
        `${identifier.test(key) ? key : JSON.stringify(key)}: ${describeProperty(object, key, child)}`,
      )
    }
    const body = entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`
    const prefix = classPrefix(object)
    return prefix === '' ? body : `${prefix} ${body}`
  } finally {
    ancestors.delete(object)
  }
}

function describeProperty(object: object, key: string, child: (value: unknown) => string): string {
  const descriptor = getOwnPropertyDescriptor(object, key)
  if (descriptor === undefined) return 'undefined'
  if ('value' in descriptor) return child(descriptor.value)
  if (descriptor.get && descriptor.set) return '[Getter/Setter]'
  return descriptor.get ? '[Getter]' : '[Setter]'
}

function classPrefix(object: object): string {
  const prototype = getPrototypeOf(object) as object | null
  if (isPlainPrototype(prototype)) return ''
  const constructor = safeOwnValue(prototype!, 'constructor')
  if (typeof constructor !== 'function') return ''
  const name = safeOwnValue(constructor, 'name')
  return typeof name === 'string' ? name : ''
}

function safeOwnValue(object: object, key: string): unknown {
  if (types.isProxy(object)) return undefined
  const descriptor = getOwnPropertyDescriptor(object, key)
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined
}

/** A property as text for messages, never running a getter; `fallback` when it is not readable. */
function safeText(object: object, key: string, fallback: string): string {
  try {
    const value = readData(object, key, key)
    if (value === undefined) return fallback
    return typeof value === 'object' || typeof value === 'function' ? fallback : String(value)
  } catch {
    return fallback
  }
}

/** The longest prefix of `text` that fits in `budget` UTF-8 bytes, never splitting a character. */
function cutToBytes(text: string, budget: number): string {
  let used = 0
  let end = 0
  for (const character of text) {
    const size = Buffer.byteLength(character)
    if (used + size > budget) break
    used += size
    end += character.length
  }
  return text.slice(0, end)
}

// ---- what the code calls -------------------------------------------------------------------------

function print(args: readonly unknown[]): void {
  const state = activeRun()
  if (state === undefined || state.finished || state.truncated) return
  const text = formatEntry(args)
  const limit = limitOf(setup?.maxOutputBytes)
  const bytes = Buffer.byteLength(text) + 1
  if (state.outputBytes + bytes <= limit) {
    state.outputBytes += bytes
    send({ t: 'log', run: state.run, text })
    return
  }
  state.truncated = true
  const cut = cutToBytes(text, limit - state.outputBytes - 1)
  if (cut !== '') send({ t: 'log', run: state.run, text: cut })
  send({ t: 'truncated', run: state.run })
}

function callTool(name: string, args: unknown): Promise<unknown> {
  const state = activeRun()
  if (state === undefined || state.finished) {
    if (state?.final) throw realm.sentinel
    throw realm.makeError('Error', `Tool ${name} was not called: its run has already ended.`)
  }
  const refuse = (problem: string) =>
    knownError({
      kind: 'tool',
      name: 'DataBoundaryError',
      tool: name,
      message: `Tool ${name} was called with arguments that cannot be passed to it: ${problem}.`,
    })
  const budget = { bytes: 0 }
  let wire: WireValue
  try {
    wire = toWire(args, 'args', budget, new Set(), 0)
  } catch (error) {
    if (!(error instanceof Refusal)) throw error
    throw refuse(error.message)
  }
  const limit = limitOf(setup?.maxValueBytes)
  if (budget.bytes > limit) throw refuse(sizeRefusal('args', limit))
  const call = ++nextCall
  return new Promise((resolve, reject) => {
    pending.set(call, { state, resolve, reject })
    send({ t: 'call', run: state.run, call, tool: name, args: wire }, call)
  })
}

function finalAnswer(value: unknown): never {
  const state = activeRun()
  if (state === undefined || state.finished) throw realm.sentinel
  const budget = { bytes: 0 }
  let answer: WireValue
  try {
    answer = toWire(value, 'answer', budget, new Set(), 0)
  } catch (error) {
    if (!(error instanceof Refusal)) throw error
    throw realm.makeError(
      'DataBoundaryError',
      `finalAnswer was given a value that cannot be passed on: ${error.message}.`,
    )
  }
  state.final = true
  const limit = limitOf(setup?.maxValueBytes)
  // The answer is sent now: the run ends here even if the code catches what this throws.
  finish(
    state,
    budget.bytes > limit
      ? { type: 'error', error: valueLimitError('final answer', limit) }
      : { type: 'final', answer },
  )
  throw realm.sentinel
}

function valueLimitError(what: string, limit: number): HarnessError {
  return {
    kind: 'limit',
    name: 'LimitError',
    limit: 'maxValueBytes',
    message: `The ${what} is larger than maxValueBytes (${limit} bytes); return less data, e.g. a summary or a slice.`,
  }
}

const requireModule = createRequire(import.meta.url)

function loadModule(specifier: unknown, via: 'import' | 'require'): unknown {
  const allowed = setup?.allowedModules ?? []
  const name = typeof specifier === 'string' ? specifier : undefined
  if (name === undefined || !allowed.includes(name)) {
    const shown = name === undefined ? `A module specifier of type ${typeof specifier}` : `Module "${name}"`
    const allowlist =
      allowed.length === 0
        ? 'No modules are allowed in this session (the allowlist, allowedModules, is empty).'
        : `Allowed modules: ${allowed.join(', ')}.`
    const message = `${shown} is not on the allowlist, so ${via} cannot load it. ${allowlist}`
    throw knownError({ kind: 'forbidden', name: 'ForbiddenError', message })
  }
  const rethrow = (error: unknown): never => {
    const errorName = types.isNativeError(error) ? safeText(error, 'name', 'Error') : 'Error'
    const message = types.isNativeError(error) ? safeText(error, 'message', '') : String(error)
    throw realm.makeError(errorName, `Module "${name}" could not be loaded: ${message}`)
  }
  if (via === 'require') {
    try {
      return requireModule(name)
    } catch (error) {
      return rethrow(error)
    }
  }
  return import(name).catch(rethrow)
}

realm.install({ print, finalAnswer, load: loadModule })

// ---- runs ----------------------------------------------------------------------------------------

async function execute(state: RunState, script: string, names: readonly string[]): Promise<HarnessResult> {
  let action: () => unknown
  try {
    if (names.length > 0) vm.runInContext(`var ${names.join(', ')};`, context)
    action = vm.runInContext(script, context, { filename: state.file }) as () => unknown
  } catch (error) {
    // Early errors the host's parser does not report (V8 is stricter in places) are syntax errors too.
    return { type: 'error', error: { ...describeThrown(error, state), kind: 'syntax' } }
  }
  let value: unknown
  try {
    value = await action()
  } catch (error) {
    return { type: 'error', error: describeThrown(error, state) }
  }
  const budget = { bytes: 0 }
  let wire: WireValue
  try {
    wire = toWire(value, 'value', budget, new Set(), 0)
  } catch (error) {
    if (!(error instanceof Refusal)) throw error
    return {
      type: 'error',
      error: {
        kind: 'runtime',
        name: 'DataBoundaryError',
        message: `The last value of the code cannot be returned: ${error.message}.`,
      },
    }
  }
  const limit = limitOf(setup?.maxValueBytes)
  if (budget.bytes > limit) return { type: 'error', error: valueLimitError("code's last value", limit) }
  return { type: 'value', value: wire }
}

function describeThrown(error: unknown, state: RunState): HarnessError {
  const known = typeof error === 'object' && error !== null ? knownErrors.get(error) : undefined
  const position = types.isNativeError(error) ? scriptPosition(error, state.file) : undefined
  if (known !== undefined) return { ...known, ...position }
  if (types.isNativeError(error)) {
    return {
      kind: 'runtime',
      name: safeText(error, 'name', 'Error'),
      message: safeText(error, 'message', ''),
      ...position,
    }
  }
  return { kind: 'runtime', name: 'Error', message: formatEntry([error]) }
}

/** The first stack frame in this run's script, as a 1-based line and column of the script. */
function scriptPosition(
  error: object,
  file: string,
): { line: number; column: number; inScript: true } | undefined {
  let stack: unknown
  try {
    stack = (error as { stack?: unknown }).stack
  } catch {
    return undefined
  }
  if (typeof stack !== 'string') return undefined
  const match = new RegExp(`${file.replace(/[.]/g, '\\.')}:(\\d+):(\\d+)`).exec(stack)
  if (match === null) return undefined
  return { line: Number(match[1]), column: Number(match[2]), inScript: true }
}

function startRun(run: number, script: string, names: readonly string[]): void {
  // A resent frame (the host could not confirm delivery): the run is already under way.
  if (run === lastRun) return
  lastRun = run
  buffered = []
  if (current !== undefined && !current.finished) {
    finish(current, {
      type: 'error',
      error: { kind: 'internal', name: 'Error', message: 'A new run started before this one ended.' },
    })
  }
  const state: RunState = {
    run,
    file: `airlock-run-${run}.js`,
    outputBytes: 0,
    truncated: false,
    finished: false,
    final: false,
  }
  current = state
  runs
    .run(state, () => execute(state, script, names))
    .then(
      (result) => finish(state, result),
      (error: unknown) =>
        finish(state, {
          type: 'error',
          error: { kind: 'internal', name: 'Error', message: `The harness failed: ${String(error)}` },
        }),
    )
}

function applyInit(frame: InitFrame): void {
  if (current !== undefined && !current.finished) {
    finish(current, {
      type: 'error',
      error: {
        kind: 'internal',
        name: 'Error',
        message: 'Another host attached to this sandbox while the code was running.',
      },
    })
  }
  setup = frame
  for (const name of installedTools) if (!frame.tools.includes(name)) realm.remove(name)
  for (const name of frame.tools) realm.define(name, realm.makeTool(name, callTool))
  installedTools = [...frame.tools]
  if (installedImport !== frame.importFunction) {
    if (installedImport !== undefined) realm.remove(installedImport)
    realm.installImport(frame.importFunction, loadModule)
    installedImport = frame.importFunction
  }
  if (frame.variables !== undefined) {
    for (const [name, value] of Object.entries(frame.variables)) {
      if (!identifier.test(name)) continue
      vm.runInContext(`var ${name};`, context)
      realm.declare(name, realm.fromWire(value))
    }
  }
  buffered = []
  send({ t: 'ready', init: frame.id, protocol: PROTOCOL_VERSION, node: process.version })
}

function answerCall(frame: Extract<HostFrame, { t: 'result' }>): void {
  const entry = pending.get(frame.call)
  if (entry === undefined) return
  pending.delete(frame.call)
  buffered = buffered.filter((item) => item.call !== frame.call)
  if (entry.state.finished) return
  if (frame.ok) {
    entry.resolve(realm.fromWire(frame.value))
    return
  }
  const failure: ToolFailure = frame.error
  entry.reject(
    knownError({
      kind: failure.kind,
      name: failure.name,
      message: failure.message,
      ...(failure.tool === undefined ? {} : { tool: failure.tool }),
      ...(failure.limit === undefined ? {} : { limit: failure.limit }),
    }),
  )
}

function handleFrame(frame: HostFrame): void {
  switch (frame.t) {
    case 'init':
      applyInit(frame)
      return
    case 'run':
      startRun(frame.run, frame.script, frame.names)
      return
    case 'result':
      answerCall(frame)
      return
    case 'resync':
      for (const item of buffered) if (item.seq > frame.after) writeFully(FRAME_FD, item.line)
      return
    case 'part': {
      const pieces = parts.get(frame.id) ?? Array.from<string>({ length: frame.count })
      pieces[frame.index] = frame.text
      parts.set(frame.id, pieces)
      let complete = true
      for (let index = 0; index < frame.count; index++) if (pieces[index] === undefined) complete = false
      if (complete) {
        parts.delete(frame.id)
        handleLine(pieces.join(''))
      }
      return
    }
  }
}

function handleLine(line: string): void {
  let frame: HostFrame
  try {
    frame = JSON.parse(line) as HostFrame
  } catch {
    diagnose(`ignored a line that is not JSON (${line.length} characters)`)
    return
  }
  handleFrame(frame)
}

// ---- process wiring ------------------------------------------------------------------------------

process.on('uncaughtException', (error) => {
  if (error === realm.sentinel) return
  const state = activeRun()
  if (state !== undefined && !state.finished) {
    const described = describeThrown(error, state)
    finish(state, { type: 'error', error: { ...described, message: `Uncaught ${described.message}` } })
    return
  }
  diagnose(`uncaught exception outside a run: ${safeText(error as object, 'message', String(error))}`)
})
// A floating promise that rejects is the code's business, as in a browser: it must not end the session.
process.on('unhandledRejection', () => {})

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk: string) => {
  input += chunk
  let newline = input.indexOf('\n')
  while (newline !== -1) {
    const line = input.slice(0, newline)
    input = input.slice(newline + 1)
    if (line.trim() !== '') handleLine(line)
    newline = input.indexOf('\n')
  }
})
// The host closed stdin: the session is over.
process.stdin.on('end', () => process.exit(0))
