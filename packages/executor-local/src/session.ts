import { randomUUID } from 'node:crypto'
import { types } from 'node:util'
import {
  CodeSyntaxError,
  type Data,
  DataBoundaryError,
  type ExecutorSession,
  type Limits,
  type RunError,
  type RunOptions,
  type RunOutcome,
  type SessionOptions,
  type ToolCaller,
  type ToolCallerOptions,
  LogCollector,
  abortedRunError,
  assertUniqueToolNames,
  codeFrame,
  copySessionVariables,
  createToolCaller,
  mayReadAsTypeScript,
  resolveLimits,
  sessionDisposedError,
  stripTypeScript,
  syntaxRunError,
  toData,
} from '@airlock/core'
import type { Location, Source } from './compiler/engine.js'
import { formatConsoleArguments } from './console-format.js'
import { CompileError, type Interpreter, lineColumn, parseCode } from './interpreter.js'
import { ModuleError, ModuleLoader } from './module-loader.js'
import type { Value } from './realm.js'

/** State of the run in progress. */
interface RunState {
  readonly code: string
  source: Source | undefined
  readonly caller: ToolCaller
  readonly log: LogCollector
  finished: boolean
  final: { readonly answer: Data } | undefined
  /** Set when the run must end with this error whatever the code does next. */
  failure: RunError | undefined
}

/**
 * Where a session's tools run. In the thread that runs the session by default; a session in a
 * worker thread (`worker-thread.ts`) reaches the tools in the main thread through messages.
 */
export interface SessionEnvironment {
  /** The directory allowlisted packages are resolved from. */
  readonly moduleDirectory: string
  /** The tools' names, installed as global functions. */
  readonly toolNames: readonly string[]
  /** Makes the tool caller of one run. */
  readonly toolCaller: (options: Omit<ToolCallerOptions, 'tools'>) => ToolCaller
  /**
   * Set to non-zero by another thread to abort the run in progress: the interpreter reads it at
   * its limit checks, so it also ends code that runs synchronously and never yields.
   */
  readonly abortFlag?: Int32Array
}

/** The environment of a session whose tools run in its own thread. */
export function sameThreadEnvironment(options: SessionOptions, moduleDirectory: string): SessionEnvironment {
  const tools = options.tools ?? []
  assertUniqueToolNames(tools)
  return {
    moduleDirectory,
    toolNames: tools.map((tool) => tool.name),
    toolCaller: (callerOptions) => createToolCaller({ tools, ...callerOptions }),
  }
}

/**
 * One sandbox: a realm with its global lexical scope, kept across runs. Runs are serialized.
 */
export class LocalSession implements ExecutorSession {
  readonly id: string
  readonly #interpreter: Interpreter
  readonly #limits: Limits
  readonly #environment: SessionEnvironment
  readonly #allowedModules: readonly string[]
  readonly #plainPrototypes: ReadonlySet<object>
  /** Errors made for the sandbox that stand for a run error (tool failures, refused imports). */
  readonly #knownErrors = new WeakMap<object, RunError>()
  readonly #modules: ModuleLoader
  #current: RunState | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #disposed = false
  /** Ends the wait of the run in progress (dispose). */
  #interrupt: ((error: RunError) => void) | undefined

  constructor(options: SessionOptions, environment: SessionEnvironment, interpreter: Interpreter) {
    this.#interpreter = interpreter
    this.id = options.sessionId ?? randomUUID()
    this.#limits = resolveLimits(options.limits)
    this.#environment = environment
    this.#allowedModules = [...(options.allowedModules ?? [])]
    this.#modules = new ModuleLoader(this.#interpreter, environment.moduleDirectory)
    const engine = this.#interpreter.engine
    this.#plainPrototypes = new Set([engine.intrinsics.ObjectPrototype])
    this.#installGlobals()
    for (const [name, value] of Object.entries(copySessionVariables(options.variables))) {
      const copy = this.#toSandbox(value)
      const slot = engine.lexicals.length
      engine.lexicals.push(copy)
      engine.lexicalNames.set(name, { slot, kind: 'let' })
      engine.lexicalVersion++
    }
    installRejectionFilter()
    sandboxPromisePrototypes.add(engine.intrinsics.PromisePrototype)
  }

  run(code: string, options: RunOptions = {}): Promise<RunOutcome> {
    const outcome = this.#queue.then(() => this.#run(code, options))
    this.#queue = outcome.catch(() => {})
    return outcome
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    this.#interpreter.engine.meter.stop({ limit: 'dead', message: 'The session was disposed.' })
    this.#interrupt?.({
      kind: 'internal',
      name: 'SessionDisposedError',
      message: 'The session was disposed while the code was running.',
      sessionLost: true,
    })
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose()
  }

  // ---- sandbox globals ---------------------------------------------------------------------------

  /** Host functions the sandbox calls, wrapped as realm functions that never expose them. */
  #hostFunction(name: string, impl: (args: Value[]) => Value): Value {
    const engine = this.#interpreter.engine
    const fn = engine.realm.factories.method((_self: Value, args: Value[]) => {
      const meter = engine.meter
      if (++meter.ops >= meter.nextCheck) meter.check()
      try {
        return impl(args)
      } catch (error) {
        throw engine.toSandbox(error)
      }
    })
    engine.setName(fn, name)
    return fn
  }

  #installGlobals(): void {
    const engine = this.#interpreter.engine
    const global = engine.global
    const define = (name: string, value: Value) =>
      Object.defineProperty(global, name, { value, writable: true, configurable: true, enumerable: false })
    const log = (args: Value[]) => {
      this.#print(args)
      return undefined
    }
    const console = engine.helpers.newObject()
    for (const method of ['log', 'info', 'warn', 'error', 'debug']) {
      Object.defineProperty(console, method, {
        value: this.#hostFunction(method, log),
        writable: true,
        configurable: true,
        enumerable: true,
      })
    }
    define('console', console)
    define(
      'finalAnswer',
      this.#hostFunction('finalAnswer', (args) => this.#finalAnswer(args[0])),
    )
    define(
      'require',
      this.#hostFunction('require', (args) => this.#loadModule(args[0], 'require', undefined)),
    )
    for (const name of this.#environment.toolNames) {
      define(
        name,
        this.#hostFunction(name, (args) => this.#callTool(name, args[0])),
      )
    }
    engine.importModule = (specifier, loc) => this.#loadModule(specifier, 'import', loc)
  }

  #print(args: Value[]): void {
    const run = this.#current
    if (run === undefined || run.finished || run.final !== undefined || run.log.truncated) return
    run.log.add(formatConsoleArguments(args, this.#plainPrototypes))
  }

  #finalAnswer(value: Value): never {
    const run = this.#current
    const meter = this.#interpreter.engine.meter
    if (run === undefined || run.finished || run.final !== undefined) throw meter.signalValue
    try {
      run.final = {
        answer: toData(value, {
          maxBytes: this.#limits.maxValueBytes,
          plainObjectPrototypes: [...this.#plainPrototypes],
          rootName: 'answer',
        }),
      }
    } catch (error) {
      if (!DataBoundaryError.isInstance(error)) throw error
      run.failure = this.#boundaryFailure(value, 'answer', error)
      return meter.trip({ limit: 'failed', message: run.failure.message })
    }
    return meter.trip({ limit: 'final', message: 'finalAnswer was called.' })
  }

  #callTool(name: string, args: Value): Value {
    const engine = this.#interpreter.engine
    const run = this.#current
    if (run === undefined || run.finished || run.final !== undefined) throw engine.meter.signalValue
    const capability = engine.helpers.newPromise()
    void run.caller.call(name, args).then((outcome) => {
      if (run.finished || this.#current !== run) return
      if (run.caller.limitError !== undefined) {
        run.failure ??= run.caller.limitError
        engine.meter.stop({ limit: 'maxToolCalls', message: run.caller.limitError.message })
      }
      if (outcome.ok) {
        capability.resolve(this.#toSandbox(outcome.value))
      } else {
        const error = engine.error('Error', outcome.error.message)
        Object.defineProperty(error, 'name', {
          value: outcome.error.name,
          writable: true,
          configurable: true,
          enumerable: false,
        })
        this.#knownErrors.set(error, outcome.error)
        capability.reject(error)
      }
    })
    return capability.promise
  }

  #loadModule(specifier: Value, via: 'import' | 'require', loc: Location | undefined): Value {
    const engine = this.#interpreter.engine
    const name = typeof specifier === 'string' ? specifier : String(specifier)
    const allowed = this.#allowedModules
    // `import()` in a package's own code resolves from that package, as its static imports do.
    const source = via === 'import' && loc !== undefined ? loc.source : undefined
    const inPackage = source !== undefined && this.#modules.isPackageCode(source)
    if (!inPackage && !allowed.includes(name)) {
      const allowlist =
        allowed.length === 0
          ? 'No modules are allowed in this session (the allowlist is empty).'
          : `Allowed modules: ${allowed.join(', ')}.`
      const message = `Module "${name}" is not on the allowlist, so ${via} cannot load it. ${allowlist}`
      const error = engine.error('Error', message, loc)
      Object.defineProperty(error, 'name', {
        value: 'ForbiddenError',
        writable: true,
        configurable: true,
        enumerable: false,
      })
      this.#knownErrors.set(error, { kind: 'forbidden', name: 'ForbiddenError', message })
      throw error
    }
    try {
      if (inPackage) return this.#modules.importFrom(source, name)
      return via === 'import' ? this.#modules.importPackage(name) : this.#modules.requirePackage(name)
    } catch (error) {
      if (error instanceof ModuleError) throw engine.error('Error', error.message, loc)
      throw error
    }
  }

  // ---- the data boundary ---------------------------------------------------------------------------

  /** Copies host data into realm values built from the realm's own constructors. */
  #toSandbox(value: Data): Value {
    const { helpers } = this.#interpreter.engine
    const copy = (input: Value): Value => {
      if (typeof input !== 'object' || input === null) return input
      if (input instanceof Date) return helpers.newDate(input.getTime())
      if (input instanceof Uint8Array) {
        const bytes = helpers.newBytes(input.length)
        for (let i = 0; i < input.length; i++) bytes[i] = input[i]
        return bytes
      }
      if (input instanceof Map) {
        const map = helpers.newMap()
        for (const [key, entry] of input) helpers.mapSet(map, copy(key), copy(entry))
        return map
      }
      if (input instanceof Set) {
        const set = helpers.newSet()
        for (const entry of input) helpers.setAdd(set, copy(entry))
        return set
      }
      if (Array.isArray(input)) return helpers.toArray(input.map(copy))
      const object = helpers.newObject()
      for (const [key, entry] of Object.entries(input)) {
        Object.defineProperty(object, key, {
          value: copy(entry),
          writable: true,
          enumerable: true,
          configurable: true,
        })
      }
      return object
    }
    return copy(value)
  }

  #boundaryFailure(raw: Value, rootName: 'value' | 'answer', error: DataBoundaryError): RunError {
    let fitsWithoutLimit = true
    try {
      toData(raw, { plainObjectPrototypes: [...this.#plainPrototypes] })
    } catch {
      fitsWithoutLimit = false
    }
    if (fitsWithoutLimit) {
      return {
        kind: 'limit',
        name: 'LimitError',
        limit: 'maxValueBytes',
        message: `The ${rootName === 'value' ? "code's last value" : 'final answer'} is larger than maxValueBytes (${this.#limits.maxValueBytes} bytes); return less data, e.g. a summary or a slice.`,
      }
    }
    return {
      kind: 'runtime',
      name: 'DataBoundaryError',
      message:
        rootName === 'value'
          ? `The last value of the code cannot be returned: ${error.message}.`
          : `finalAnswer was given a value that cannot be passed on: ${error.message}.`,
    }
  }

  // ---- runs ----------------------------------------------------------------------------------------

  async #run(code: string, options: RunOptions): Promise<RunOutcome> {
    const { signal, onLog } = options
    const started = performance.now()
    const controller = new AbortController()
    const caller = this.#environment.toolCaller({
      sessionId: this.id,
      limits: this.#limits,
      signal: controller.signal,
      plainObjectPrototypes: [...this.#plainPrototypes],
    })
    const run: RunState = {
      code,
      source: undefined,
      caller,
      log: new LogCollector(this.#limits.maxOutputBytes, onLog),
      finished: false,
      final: undefined,
      failure: undefined,
    }
    const engine = this.#interpreter.engine
    const meter = engine.meter
    const finish = (
      result:
        | { type: 'value'; value: Data }
        | { type: 'final'; answer: Data }
        | { type: 'error'; error: RunError },
    ): RunOutcome => {
      run.finished = true
      if (this.#current === run) this.#current = undefined
      meter.stop()
      controller.abort(RUN_ENDED)
      const stats = {
        durationMs: performance.now() - started,
        toolCalls: [...caller.records],
        operations: meter.ops,
      }
      const limitError = caller.limitError
      if (limitError !== undefined && !(result.type === 'error' && result.error.kind === 'limit')) {
        return { type: 'error', error: limitError, logs: run.log.text, stats }
      }
      return { ...result, logs: run.log.text, stats }
    }

    if (this.#disposed) {
      return finish({ type: 'error', error: sessionDisposedError(false) })
    }
    if (signal?.aborted) return finish({ type: 'error', error: abortedRunError(false) })

    let compiled: ReturnType<Interpreter['compile']>
    try {
      compiled = this.#compile(code)
      run.source = compiled.source
    } catch (error) {
      if (CodeSyntaxError.isInstance(error)) {
        return finish({ type: 'error', error: syntaxRunError(error, code) })
      }
      if (error instanceof CompileError) {
        const { line, column } = lineColumn({ text: code }, error.offset)
        return finish({
          type: 'error',
          error: {
            kind: 'syntax',
            name: error.name,
            message: error.message,
            line,
            column,
            codeFrame: codeFrame(code, line, column),
          },
        })
      }
      // Deep nesting can overflow the stack of the TypeScript stripper before acorn sees it.
      if (error instanceof RangeError) {
        return finish({
          type: 'error',
          error: {
            kind: 'syntax',
            name: 'SyntaxError',
            message: 'The code is nested too deeply to parse; split it into smaller parts.',
          },
        })
      }
      throw error
    }

    this.#current = run
    meter.start(this.#limits, signal, this.#environment.abortFlag)
    engine.lastPrimitiveThrow = undefined
    let value: Value
    let ok = true
    try {
      value = compiled.run()
    } catch (error) {
      ok = false
      value = error
    }
    if (ok && (compiled.async || types.isPromise(value))) {
      const settled = await this.#settle(value, run)
      if ('error' in settled) return finish({ type: 'error', error: settled.error })
      ok = settled.ok
      value = settled.value
    }
    if (run.failure !== undefined) return finish({ type: 'error', error: run.failure })
    if (run.final !== undefined) return finish({ type: 'final', answer: run.final.answer })
    if (meter.tripped !== undefined && meter.tripped.limit !== 'dead') {
      return finish({ type: 'error', error: this.#tripError(meter.tripped) })
    }
    if (!ok) return finish({ type: 'error', error: this.#describeThrown(value, run) })
    try {
      return finish({
        type: 'value',
        value: toData(value, {
          maxBytes: this.#limits.maxValueBytes,
          plainObjectPrototypes: [...this.#plainPrototypes],
          rootName: 'value',
        }),
      })
    } catch (error) {
      if (!DataBoundaryError.isInstance(error)) throw error
      return finish({ type: 'error', error: this.#boundaryFailure(value, 'value', error) })
    }
  }

  /**
   * Compiles a code action, JavaScript or TypeScript. It is parsed as JavaScript first: most code
   * actions are, and the TypeScript strip (swc, in WebAssembly) costs more than the parse. Code
   * that is not JavaScript, or that TypeScript could read differently (`f<T>(x)`), goes through
   * the strip, which gives the same result as stripping everything (see `mayReadAsTypeScript`).
   */
  #compile(code: string): ReturnType<Interpreter['compile']> {
    let program: Value
    try {
      program = parseCode(code)
    } catch (error) {
      if (!(error instanceof CompileError)) throw error
    }
    if (program !== undefined && !readsAsTypeScript(program, code)) {
      return this.#interpreter.compileParsed(program, { text: code })
    }
    return this.#interpreter.compile(stripTypeScript(code))
  }

  /**
   * Waits for a sandbox promise with the realm's own `await`, within the run's deadline and
   * abort signal (a promise that never settles ends at the deadline).
   */
  #settle(value: Value, run: RunState): Promise<{ ok: boolean; value: Value } | { error: RunError }> {
    const engine = this.#interpreter.engine
    const meter = engine.meter
    const signal = meter.signal
    return new Promise((resolve) => {
      let done = false
      const end = (result: { ok: boolean; value: Value } | { error: RunError }) => {
        if (done) return
        done = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.#interrupt = undefined
        meter.onTrip = undefined
        resolve(result)
      }
      // A limit tripped in a promise job: the awaited promise may never settle now.
      meter.onTrip = () => {
        const trip = meter.tripped
        if (trip === undefined || trip.limit === 'final' || trip.limit === 'failed') {
          return end({ ok: true, value: undefined })
        }
        end({ error: this.#tripError(trip) })
      }
      const remaining = meter.deadline - performance.now()
      const timer = Number.isFinite(remaining)
        ? setTimeout(
            () => {
              if (run.final !== undefined || run.failure !== undefined)
                return end({ ok: true, value: undefined })
              meter.stop({ limit: 'timeoutMs', message: '' })
              end({ error: this.#tripError({ limit: 'timeoutMs', message: '' }) })
            },
            Math.max(0, remaining),
          )
        : undefined
      const onAbort = () => {
        meter.stop({ limit: 'aborted', message: '' })
        end({ error: abortedRunError(false) })
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#interrupt = (error) => end({ error })
      engine.helpers.settle(value, (ok: boolean, result: Value) => end({ ok, value: result }))
    })
  }

  #tripError(trip: { limit: string; message: string }): RunError {
    const limits = this.#limits
    switch (trip.limit) {
      case 'aborted':
        return abortedRunError(false)
      case 'timeoutMs':
        return {
          kind: 'limit',
          name: 'LimitError',
          limit: 'timeoutMs',
          message: `The code ran longer than timeoutMs (${limits.timeoutMs} ms) and was stopped. Do less per step, or avoid loops that never end.`,
        }
      case 'maxOperations':
      case 'maxCallDepth':
      case 'maxToolCalls':
      case 'memoryMb':
        return { kind: 'limit', name: 'LimitError', limit: trip.limit, message: trip.message }
      default:
        return { kind: 'internal', name: 'Error', message: trip.message }
    }
  }

  #describeThrown(thrown: Value, run: RunState): RunError {
    const engine = this.#interpreter.engine
    if (engine.isSignal(thrown)) {
      return this.#tripError(engine.meter.tripped ?? { limit: 'internal', message: 'The run was stopped.' })
    }
    const position = this.#position(thrown, run)
    const known = typeof thrown === 'object' && thrown !== null ? this.#knownErrors.get(thrown) : undefined
    if (known !== undefined) return { ...known, ...position }
    if (types.isNativeError(thrown)) {
      const name = readText(thrown, 'name', 'Error')
      const message = readText(thrown, 'message', '')
      return { kind: 'runtime', name, message, ...position }
    }
    return {
      kind: 'runtime',
      name: 'Error',
      message: formatConsoleArguments([thrown], this.#plainPrototypes),
      ...position,
    }
  }

  #position(thrown: Value, run: RunState): { line?: number; column?: number; codeFrame?: string } {
    const loc = this.#interpreter.positionOf(thrown)
    if (loc === undefined || loc.source !== run.source) return {}
    const { line, column } = lineColumn(loc.source, loc.offset)
    return { line, column, codeFrame: codeFrame(run.code, line, column) }
  }
}

/**
 * Why a run's signal aborts when the run ends: the AbortError `abort()` would create, made once
 * (a DOMException captures a stack trace, which costs more than a short run).
 */
const RUN_ENDED = new DOMException('This operation was aborted', 'AbortError')

/** `mayReadAsTypeScript`, where code nested too deeply for its walk goes to the strip, as before. */
function readsAsTypeScript(program: Value, code: string): boolean {
  try {
    return mayReadAsTypeScript(program, code)
  } catch (error) {
    if (error instanceof RangeError) return true
    throw error
  }
}

function readText(error: object, key: string, fallback: string): string {
  for (let target: object | null = error; target !== null; target = Object.getPrototypeOf(target)) {
    const descriptor = Object.getOwnPropertyDescriptor(target, key)
    if (descriptor === undefined) continue
    const value = 'value' in descriptor ? descriptor.value : undefined
    return typeof value === 'string' ? value : value === undefined ? fallback : String(value)
  }
  return fallback
}

// ---- unhandled rejections ------------------------------------------------------------------------

/**
 * Sandbox promises share the host's microtask queue, so a promise the sandbox rejects without a
 * handler would reach Node's `unhandledRejection` and, by default, end the host process. One
 * process-wide listener swallows rejections of sandbox promises; any other rejection is rethrown
 * (Node's default) when no other listener is installed.
 */
const sandboxPromisePrototypes = new WeakSet<object>()
let rejectionFilterInstalled = false

function installRejectionFilter(): void {
  if (rejectionFilterInstalled) return
  rejectionFilterInstalled = true
  process.on('unhandledRejection', (reason, promise) => {
    let proto: object | null = promise
    for (let i = 0; i < 50 && proto !== null; i++) {
      if (types.isProxy(proto)) return
      proto = Object.getPrototypeOf(proto)
      if (proto !== null && sandboxPromisePrototypes.has(proto)) return
    }
    if (process.listenerCount('unhandledRejection') === 1) throw reason
  })
}
