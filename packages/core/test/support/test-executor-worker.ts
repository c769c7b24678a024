// The worker side of the test executor: one node:vm realm per worker, driven by the host over
// postMessage. Node runs this file directly (type stripping), so it imports only node builtins and
// types, and uses erasable TypeScript only; core's sandbox runtime comes from the host as source
// text and runs inside the realm, as it does in every other executor's sandbox.
import { types } from 'node:util'
import vm from 'node:vm'
import { parentPort, workerData } from 'node:worker_threads'
import type { RunError } from '../../src/executor.js'
import type { SandboxRunResult, SandboxRuntime, SandboxRuntimeHooks } from '../../src/sandbox-runtime.js'

export interface WorkerSetup {
  readonly toolNames: readonly string[]
  readonly allowedModules: readonly string[]
  /** Host data (already checked with `toData`), structured-cloned. */
  readonly variables: Readonly<Record<string, unknown>>
  readonly maxOutputBytes: number
  readonly maxValueBytes: number
  readonly importFunction: string
  /** `sandboxRuntimeSource()`. */
  readonly runtimeSource: string
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

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'log'; readonly runId: number; readonly line: string }
  /** Output past `maxOutputBytes` was dropped from here on. */
  | { readonly type: 'truncated'; readonly runId: number }
  | {
      readonly type: 'tool'
      readonly runId: number
      readonly callId: number
      readonly name: string
      readonly args: unknown
    }
  | { readonly type: 'done'; readonly runId: number; readonly result: SandboxRunResult }

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
// The console format and the data boundary, made in the sandbox realm from its own intrinsics;
// Node's checks tell proxies apart (and the rest faster than brand checks).
const runtime = (
  vm.runInContext(setup.runtimeSource, context) as (hooks: SandboxRuntimeHooks) => SandboxRuntime
)(types)

// ---- per-run state ---------------------------------------------------------------------------

interface RunState {
  readonly runId: number
  readonly scriptFile: string
  readonly print: (args: readonly unknown[]) => void
  finished: boolean
  final: Extract<SandboxRunResult, { type: 'final' } | { type: 'oversized' }> | undefined
}
let current: RunState | undefined
let nextCallId = 1
const pendingCalls = new Map<
  number,
  { resolve: (value: unknown) => void; reject: (error: unknown) => void }
>()
/** Thrown by `finalAnswer`, and by console, tools and `finalAnswer` once the run has its answer. */
const finalSentinel = vm.runInContext('Object.freeze(Object.create(null))', context) as object

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

// ---- sandbox globals -------------------------------------------------------------------------

function print(args: readonly unknown[]): void {
  const run = current
  if (run === undefined || run.finished || run.final !== undefined) return
  run.print(args)
}

function callTool(name: string, args: unknown): Promise<unknown> {
  const run = current
  if (run === undefined || run.finished || run.final !== undefined) throw finalSentinel
  const copied = runtime.copyToolArgs(name, args, setup.maxValueBytes)
  const callId = nextCallId++
  send({ type: 'tool', runId: run.runId, callId, name, args: copied })
  return new Promise((resolve, reject) => pendingCalls.set(callId, { resolve, reject }))
}

function finalAnswer(value: unknown): never {
  const run = current
  if (run === undefined || run.finished || run.final !== undefined) throw finalSentinel
  run.final = runtime.copyFinalAnswer(value, setup.maxValueBytes)
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
    throw runtime.makeError('ForbiddenError', message, { kind: 'forbidden', name: 'ForbiddenError', message })
  }
  const source = FIXTURE_MODULES[name]
  if (source === undefined) {
    throw runtime.makeError(
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

async function run(
  runId: number,
  script: string,
  declaredNames: readonly string[],
): Promise<SandboxRunResult> {
  const state: RunState = {
    runId,
    scriptFile: `airlock-run-${runId}.js`,
    print: runtime.createLogWriter(
      setup.maxOutputBytes,
      (line) => send({ type: 'log', runId, line }),
      () => send({ type: 'truncated', runId }),
    ),
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
    return { type: 'error', error: { ...runtime.describeThrown(error, state.scriptFile), kind: 'syntax' } }
  }
  try {
    const value = await action()
    return state.final ?? runtime.valueResult(value, setup.maxValueBytes)
  } catch (error) {
    return state.final ?? { type: 'error', error: runtime.describeThrown(error, state.scriptFile) }
  } finally {
    state.finished = true
  }
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
      else pending.reject(runtime.makeError(message.error.name, message.error.message, message.error))
      break
    }
  }
})

send({ type: 'ready' })
