// The worker side of the test executor: one node:vm realm per worker, driven by the host over
// postMessage. Node runs this file directly (type stripping), so it imports only node builtins and
// types, and uses erasable TypeScript only.
import { types } from 'node:util'
import vm from 'node:vm'
import { parentPort, workerData } from 'node:worker_threads'
import type { RunError } from '../../src/executor.js'

export interface WorkerSetup {
  readonly toolNames: readonly string[]
  readonly allowedModules: readonly string[]
  /** Host data (already checked with `toData`), structured-cloned. */
  readonly variables: Readonly<Record<string, unknown>>
  readonly maxOutputBytes: number
  readonly importFunction: string
}

export type HostMessage =
  | {
      readonly type: 'run'
      readonly runId: number
      readonly script: string
      readonly declaredNames: readonly string[]
    }
  | {
      readonly type: 'tool-result'
      readonly runId: number
      readonly callId: number
      readonly ok: true
      readonly value: unknown
    }
  | {
      readonly type: 'tool-result'
      readonly runId: number
      readonly callId: number
      readonly ok: false
      readonly error: RunError
    }

/** An error as the worker saw it; `line`/`column` are positions in the script, not the code. */
export interface ThrownError extends RunError {
  readonly inScript?: boolean
}

export type RunResult =
  | { readonly type: 'value'; readonly value: unknown }
  | { readonly type: 'final'; readonly answer: unknown }
  | { readonly type: 'error'; readonly error: ThrownError }

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'log'; readonly runId: number; readonly line: string }
  | {
      readonly type: 'tool'
      readonly runId: number
      readonly callId: number
      readonly name: string
      readonly args: unknown
    }
  | { readonly type: 'done'; readonly runId: number; readonly result: RunResult }

/** Objects nested this deep below a console argument print as `[Object]` / `[Array]`. */
const MAX_LOG_DEPTH = 6
/** Built-in modules this executor can load when allowlisted; their exports are made in the sandbox realm. */
const FIXTURE_MODULES: Readonly<Record<string, string>> = {
  'airlock-test-fixture':
    "({ answer: 42, add: (a, b) => a + b, greet: (name) => 'hello ' + name, version: '1.0.0' })",
}

const port = parentPort!
const setup = workerData as WorkerSetup
const send = (message: WorkerMessage) => port.postMessage(message)

const context = vm.createContext(vm.constants.DONT_CONTEXTIFY, {
  name: 'airlock test sandbox',
  codeGeneration: { strings: false, wasm: false },
})

// The sandbox realm's intrinsics, captured before any sandbox code can replace them.
interface Intrinsics {
  readonly ObjectPrototype: object
  readonly Error: ErrorConstructor
  readonly errors: Readonly<Record<string, ErrorConstructor>>
  readonly makeObject: () => Record<string, unknown>
  readonly makeArray: () => unknown[]
  readonly makeDate: (time: number) => Date
  readonly makeBytes: (bytes: Uint8Array) => Uint8Array
  readonly makeMap: () => Map<unknown, unknown>
  readonly makeSet: () => Set<unknown>
  readonly mapSet: (map: Map<unknown, unknown>, key: unknown, value: unknown) => void
  readonly setAdd: (set: Set<unknown>, value: unknown) => void
  readonly freezeNullObject: (entries: object) => object
}
const sandbox = vm.runInContext(
  `(() => {
    const { apply } = Reflect
    const mapSet = Map.prototype.set
    const setAdd = Set.prototype.add
    return {
      ObjectPrototype: Object.prototype,
      Error,
      errors: { Error, TypeError, RangeError, SyntaxError, ReferenceError },
      makeObject: () => ({}),
      makeArray: () => [],
      makeDate: (time) => new Date(time),
      makeBytes: (bytes) => { const copy = new Uint8Array(bytes.length); for (let i = 0; i < bytes.length; i++) copy[i] = bytes[i]; return copy },
      makeMap: () => new Map(),
      makeSet: () => new Set(),
      mapSet: (map, key, value) => { apply(mapSet, map, [key, value]) },
      setAdd: (set, value) => { apply(setAdd, set, [value]) },
      freezeNullObject: (entries) => Object.freeze(Object.assign(Object.create(null), entries)),
    }
  })()`,
  context,
) as Intrinsics

// ---- per-run state ---------------------------------------------------------------------------

interface RunState {
  readonly runId: number
  readonly scriptFile: string
  outputBytes: number
  truncated: boolean
  finished: boolean
  final: { readonly answer: unknown } | undefined
}
let current: RunState | undefined
let nextCallId = 1
const pendingCalls = new Map<
  number,
  { resolve: (value: unknown) => void; reject: (error: unknown) => void }
>()
/** Errors this worker made for the sandbox, with the run error they stand for if left uncaught. */
const knownErrors = new WeakMap<object, RunError>()
/** Thrown by `finalAnswer`, and by console, tools and `finalAnswer` once the run has its answer. */
const finalSentinel = vm.runInContext('Object.freeze(Object.create(null))', context) as object

// ---- the data boundary -----------------------------------------------------------------------

class Refusal extends Error {}

const { getPrototypeOf, getOwnPropertyDescriptor, getOwnPropertyNames, getOwnPropertySymbols } = Object
const identifier = /^[A-Za-z_$][\w$]*$/
const childPath = (path: string, key: string | number) =>
  typeof key === 'number'
    ? `${path}[${key}]`
    : identifier.test(key)
      ? `${path}.${key}`
      : `${path}[${JSON.stringify(key)}]`

/**
 * Copies a sandbox value into plain worker-realm data the host can receive, refusing whatever is
 * not data. Reads through descriptors only, so no getter, proxy trap or `then` runs.
 */
function toHostData(value: unknown, path: string, ancestors = new Set<object>()): unknown {
  switch (typeof value) {
    case 'undefined':
    case 'boolean':
    case 'number':
    case 'string':
    case 'bigint':
      return value
    case 'symbol':
      throw new Refusal(`${path}: symbols cannot cross the boundary; use a string`)
    case 'function':
      throw new Refusal(`${path}: functions cannot cross the boundary; pass data instead`)
  }
  if (value === null) return null
  const object = value as object
  if (types.isProxy(object))
    throw new Refusal(`${path}: proxies cannot cross the boundary; pass a plain copy`)
  if (ancestors.has(object)) throw new Refusal(`${path}: the value contains a cycle; pass a tree`)
  if (types.isDate(object)) return new Date(Date.prototype.getTime.call(object))
  if (types.isUint8Array(object)) return new Uint8Array(object as Uint8Array)
  if (types.isNativeError(object)) {
    return {
      name: String(readThroughChain(object, 'name', path)),
      message: String(readThroughChain(object, 'message', path)),
    }
  }
  if (types.isPromise(object))
    throw new Refusal(`${path}: promises cannot cross the boundary; await the value first`)
  ancestors.add(object)
  try {
    if (types.isMap(object)) {
      const copy = new Map<unknown, unknown>()
      let index = 0
      for (const [key, entry] of Map.prototype.entries.call(object) as IterableIterator<[unknown, unknown]>) {
        copy.set(
          toHostData(key, `${path}.<key ${index}>`, ancestors),
          toHostData(entry, `${path}.<value ${index}>`, ancestors),
        )
        index++
      }
      return copy
    }
    if (types.isSet(object)) {
      const copy = new Set<unknown>()
      let index = 0
      for (const entry of Set.prototype.values.call(object) as IterableIterator<unknown>) {
        copy.add(toHostData(entry, `${path}.<entry ${index++}>`, ancestors))
      }
      return copy
    }
    if (Array.isArray(object)) {
      const length = getOwnPropertyDescriptor(object, 'length')!.value as number
      const copy: unknown[] = []
      for (let index = 0; index < length; index++) {
        copy.push(
          toHostData(
            readOwn(object, String(index), childPath(path, index)),
            childPath(path, index),
            ancestors,
          ),
        )
      }
      return copy
    }
    const prototype = getPrototypeOf(object)
    if (prototype !== null && prototype !== sandbox.ObjectPrototype && prototype !== Object.prototype) {
      throw new Refusal(
        `${path}: a class instance cannot cross the boundary; convert it to a plain object, array or string`,
      )
    }
    if (getOwnPropertySymbols(object).length > 0) {
      throw new Refusal(`${path}: symbol-keyed properties cannot cross the boundary`)
    }
    const copy: Record<string, unknown> = {}
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
      Object.defineProperty(copy, key, {
        value: toHostData(descriptor.value, keyPath, ancestors),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return copy
  } finally {
    ancestors.delete(object)
  }
}

function readOwn(object: object, key: string, path: string): unknown {
  const descriptor = getOwnPropertyDescriptor(object, key)
  if (descriptor === undefined) return undefined
  if (!('value' in descriptor)) {
    throw new Refusal(`${path}: getters and setters cannot cross the boundary; pass the value itself`)
  }
  return descriptor.value
}

function readThroughChain(object: object, key: string, path: string): unknown {
  for (let target: object | null = object; target !== null; target = getPrototypeOf(target)) {
    if (types.isProxy(target)) throw new Refusal(`${path}: proxies cannot cross the boundary`)
    const descriptor = getOwnPropertyDescriptor(target, key)
    if (descriptor === undefined) continue
    if (!('value' in descriptor)) {
      throw new Refusal(`${path}: getters and setters cannot cross the boundary; pass the value itself`)
    }
    return descriptor.value
  }
  return undefined
}

/** Rebuilds host data (structured-cloned into this realm) from the sandbox realm's constructors. */
function toSandboxData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date) return sandbox.makeDate(value.getTime())
  if (value instanceof Uint8Array) return sandbox.makeBytes(value)
  if (value instanceof Map) {
    const copy = sandbox.makeMap()
    for (const [key, entry] of value) sandbox.mapSet(copy, toSandboxData(key), toSandboxData(entry))
    return copy
  }
  if (value instanceof Set) {
    const copy = sandbox.makeSet()
    for (const entry of value) sandbox.setAdd(copy, toSandboxData(entry))
    return copy
  }
  if (Array.isArray(value)) {
    const copy = sandbox.makeArray()
    for (const entry of value) copy.push(toSandboxData(entry))
    return copy
  }
  const copy = sandbox.makeObject()
  for (const [key, entry] of Object.entries(value)) {
    Object.defineProperty(copy, key, {
      value: toSandboxData(entry),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return copy
}

/** An Error of the sandbox realm, so sandbox code sees an ordinary `Error`, never a host object. */
function sandboxError(name: string, message: string, runError?: RunError): Error {
  const constructor = sandbox.errors[name] ?? sandbox.Error
  const error = new constructor(message)
  if (error.name !== name) {
    Object.defineProperty(error, 'name', {
      value: name,
      writable: true,
      configurable: true,
      enumerable: false,
    })
  }
  if (runError !== undefined) knownErrors.set(error, runError)
  return error
}

// ---- console ---------------------------------------------------------------------------------

function formatArguments(args: readonly unknown[]): string {
  return args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, 0, new Set(), true))).join(' ')
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
      return value.toString()
    case 'undefined':
    case 'boolean':
      return String(value)
    case 'function': {
      const name = getOwnPropertyDescriptor(value, 'name')?.value
      const label = typeof name === 'string' && name !== '' ? name : '(anonymous)'
      const isClass = Function.prototype.toString.call(value).startsWith('class')
      return isClass ? `[class ${label}]` : `[Function${label === '(anonymous)' ? ' ' : ': '}${label}]`
    }
  }
  if (value === null) return 'null'
  const object = value as object
  if (types.isProxy(object)) return '[Proxy]'
  if (ancestors.has(object)) return '[Circular]'
  if (types.isNativeError(object)) {
    const name = String(safeRead(object, 'name') ?? 'Error')
    const message = String(safeRead(object, 'message') ?? '')
    const text = message === '' ? name : `${name}: ${message}`
    return topLevel ? text : `[${text}]`
  }
  if (types.isDate(object)) {
    const time = Date.prototype.getTime.call(object)
    return Number.isNaN(time) ? 'Invalid Date' : new Date(time).toISOString()
  }
  if (types.isRegExp(object)) return RegExp.prototype.toString.call(object)
  if (depth >= MAX_LOG_DEPTH) return Array.isArray(object) ? '[Array]' : '[Object]'
  ancestors.add(object)
  try {
    const child = (entry: unknown) => inspect(entry, depth + 1, ancestors)
    if (types.isMap(object)) {
      const entries = Array.from(
        Map.prototype.entries.call(object) as IterableIterator<[unknown, unknown]>,
        ([key, entry]) => `${child(key)} => ${child(entry)}`,
      )
      return entries.length === 0 ? `Map(0) {}` : `Map(${entries.length}) { ${entries.join(', ')} }`
    }
    if (types.isSet(object)) {
      const entries = Array.from(Set.prototype.values.call(object) as IterableIterator<unknown>, child)
      return entries.length === 0 ? `Set(0) {}` : `Set(${entries.length}) { ${entries.join(', ')} }`
    }
    if (types.isTypedArray(object)) {
      const name = Object.prototype.toString.call(object).slice(8, -1)
      const items = Array.from(object as unknown as ArrayLike<number | bigint>, (item) =>
        inspect(item, depth + 1, ancestors),
      )
      return `${name}(${items.length}) [${items.join(', ')}]`
    }
    if (Array.isArray(object)) {
      const items: string[] = []
      for (let index = 0; index < object.length; index++)
        items.push(describeProperty(object, String(index), child))
      return `[${items.join(', ')}]`
    }
    const entries = Object.keys(object).map(
      (key) => `${identifier.test(key) ? key : JSON.stringify(key)}: ${describeProperty(object, key, child)}`,
    )
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
  const prototype = getPrototypeOf(object)
  if (prototype === null || prototype === sandbox.ObjectPrototype || prototype === Object.prototype) return ''
  const constructor = getOwnPropertyDescriptor(prototype, 'constructor')?.value
  if (typeof constructor !== 'function') return ''
  const name = getOwnPropertyDescriptor(constructor, 'name')?.value
  return typeof name === 'string' ? name : ''
}

function safeRead(object: object, key: string): unknown {
  try {
    return readThroughChain(object, key, key)
  } catch {
    return undefined
  }
}

function print(args: readonly unknown[]): void {
  const run = current
  if (run === undefined || run.finished || run.final !== undefined || run.truncated) return
  const line = formatArguments(args)
  const limit = setup.maxOutputBytes
  const bytes = Buffer.byteLength(line) + 1
  if (run.outputBytes + bytes <= limit) {
    run.outputBytes += bytes
    send({ type: 'log', runId: run.runId, line })
    return
  }
  run.truncated = true
  const cut = cutToBytes(line, limit - run.outputBytes - 1)
  if (cut !== '') send({ type: 'log', runId: run.runId, line: cut })
  send({
    type: 'log',
    runId: run.runId,
    line: `[output truncated: the code printed more than maxOutputBytes (${limit} bytes); print less, e.g. a summary or a slice]`,
  })
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

// ---- sandbox globals -------------------------------------------------------------------------

function callTool(name: string, args: unknown): Promise<unknown> {
  const run = current
  if (run === undefined || run.finished || run.final !== undefined) throw finalSentinel
  let copied: unknown
  try {
    copied = toHostData(args, 'args')
  } catch (error) {
    if (!(error instanceof Refusal)) throw error
    const message = `Tool ${name} was called with arguments that cannot be passed to it: ${error.message}.`
    throw sandboxError('DataBoundaryError', message, {
      kind: 'tool',
      name: 'DataBoundaryError',
      tool: name,
      message,
    })
  }
  const callId = nextCallId++
  send({ type: 'tool', runId: run.runId, callId, name, args: copied })
  return new Promise((resolve, reject) => pendingCalls.set(callId, { resolve, reject }))
}

function finalAnswer(value: unknown): never {
  const run = current
  if (run === undefined || run.finished || run.final !== undefined) throw finalSentinel
  let answer: unknown
  try {
    answer = toHostData(value, 'answer')
  } catch (error) {
    if (!(error instanceof Refusal)) throw error
    throw sandboxError(
      'DataBoundaryError',
      `finalAnswer was given a value that cannot be passed on: ${error.message}.`,
    )
  }
  run.final = { answer }
  throw finalSentinel
}

function loadModule(specifier: unknown, via: 'import' | 'require'): unknown {
  const name = String(specifier)
  const { allowedModules } = setup
  if (!allowedModules.includes(name)) {
    const allowlist =
      allowedModules.length === 0
        ? 'No modules are allowed in this session (the allowlist is empty).'
        : `Allowed modules: ${allowedModules.join(', ')}.`
    const message = `Module "${name}" is not on the allowlist, so ${via} cannot load it. ${allowlist}`
    throw sandboxError('ForbiddenError', message, { kind: 'forbidden', name: 'ForbiddenError', message })
  }
  const source = FIXTURE_MODULES[name]
  if (source === undefined) {
    throw sandboxError(
      'Error',
      `Module "${name}" is allowlisted, but the test executor only provides: ${Object.keys(FIXTURE_MODULES).join(', ')}.`,
    )
  }
  const exports = vm.runInContext(source, context) as object
  return via === 'require'
    ? sandbox.freezeNullObject(exports)
    : sandbox.freezeNullObject({ ...exports, default: exports })
}

const installGlobals = vm.runInContext(
  `(function (print, callTool, finalAnswerBridge, loadModule, toolNames, importFunction) {
    const define = (name, value) =>
      Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false })
    const log = function (...args) { print(args) }
    define('console', { log, info: log, warn: log, error: log, debug: log })
    for (const name of toolNames) {
      define(name, { async [name](args) { return await callTool(name, args) } }[name])
    }
    define('finalAnswer', function finalAnswer(value) { finalAnswerBridge(value) })
    define('require', function require(specifier) { return loadModule(specifier, 'require') })
    define(importFunction, function (specifier) {
      try {
        return Promise.resolve(loadModule(specifier, 'import'))
      } catch (error) {
        return Promise.reject(error)
      }
    })
  })`,
  context,
) as (...args: unknown[]) => void
installGlobals(print, callTool, finalAnswer, loadModule, [...setup.toolNames], setup.importFunction)

for (const [name, value] of Object.entries(setup.variables)) {
  vm.runInContext(`var ${name};`, context)
  ;(context as Record<string, unknown>)[name] = toSandboxData(value)
}

// ---- runs ------------------------------------------------------------------------------------

async function run(runId: number, script: string, declaredNames: readonly string[]): Promise<RunResult> {
  const state: RunState = {
    runId,
    scriptFile: `airlock-run-${runId}.js`,
    outputBytes: 0,
    truncated: false,
    finished: false,
    final: undefined,
  }
  current = state
  let action: () => Promise<unknown>
  try {
    if (declaredNames.length > 0) vm.runInContext(`var ${declaredNames.join(', ')};`, context)
    action = vm.runInContext(script, context, { filename: state.scriptFile }) as () => Promise<unknown>
  } catch (error) {
    // Early errors acorn does not report (V8 is stricter in places) still are syntax errors.
    return { type: 'error', error: { ...describeThrown(error, state), kind: 'syntax' } }
  }
  try {
    const value = await action()
    if (state.final !== undefined) return { type: 'final', answer: state.final.answer }
    try {
      return { type: 'value', value: toHostData(value, 'value') }
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
  } catch (error) {
    if (state.final !== undefined) return { type: 'final', answer: state.final.answer }
    return { type: 'error', error: describeThrown(error, state) }
  } finally {
    state.finished = true
  }
}

function describeThrown(error: unknown, state: RunState): ThrownError {
  const known = typeof error === 'object' && error !== null ? knownErrors.get(error) : undefined
  const position = types.isNativeError(error) ? scriptPosition(error, state.scriptFile) : undefined
  if (known !== undefined) return { ...known, ...position }
  if (types.isNativeError(error)) {
    return {
      kind: 'runtime',
      name: String(safeRead(error, 'name') ?? 'Error'),
      message: String(safeRead(error, 'message') ?? ''),
      ...position,
    }
  }
  return { kind: 'runtime', name: 'Error', message: formatArguments([error]) }
}

/** The first frame of the stack that lies in this run's script, as 1-based line and column. */
function scriptPosition(
  error: Error,
  scriptFile: string,
): { line: number; column: number; inScript: true } | undefined {
  let stack: unknown
  try {
    stack = error.stack
  } catch {
    return undefined
  }
  if (typeof stack !== 'string') return undefined
  const match = new RegExp(`${scriptFile.replace(/[.]/g, '\\.')}:(\\d+):(\\d+)`).exec(stack)
  if (match === null) return undefined
  return { line: Number(match[1]), column: Number(match[2]), inScript: true }
}

port.on('message', (message: HostMessage) => {
  switch (message.type) {
    case 'run':
      void run(message.runId, message.script, message.declaredNames).then(
        (result) => send({ type: 'done', runId: message.runId, result }),
        (error: unknown) =>
          send({
            type: 'done',
            runId: message.runId,
            result: {
              type: 'error',
              error: {
                kind: 'internal',
                name: 'Error',
                message: `The test executor failed: ${String(error)}`,
              },
            },
          }),
      )
      break
    case 'tool-result': {
      const pending = pendingCalls.get(message.callId)
      pendingCalls.delete(message.callId)
      if (pending === undefined || current?.runId !== message.runId || current.finished) break
      if (message.ok) pending.resolve(toSandboxData(message.value))
      else pending.reject(sandboxError(message.error.name, message.error.message, message.error))
      break
    }
  }
})

send({ type: 'ready' })
