// The side that owns isolates: it runs in the host process (`isolation: 'in-process'`) or in a
// child process (`isolation: 'process'`), driven by `HostMessage`s and answering with
// `SandboxMessage`s. It enforces the run deadline itself, so a spinning isolate is stopped even
// when nothing else in its process could notice.
import type { ThrownError } from '@airlock/core'
import ivm from 'isolated-vm'
import { BOOTSTRAP_SOURCE } from './bootstrap.js'
import type { HostMessage, ModulePlan, RunResult, SandboxMessage, SandboxSetup } from './protocol.js'

/** How long an isolate has to answer after its deadline before it is disposed as stuck. */
const PROBE_MS = 100
/** isolated-vm refuses smaller memory limits. */
const MIN_MEMORY_MB = 8
/** Time allowed for bootstrapping a session and evaluating its allowlisted modules. */
const OPEN_TIMEOUT_MS = 10_000

type ToolReply =
  | Extract<HostMessage, { type: 'tool-result' }>['outcome']
  | { readonly ok: false; readonly cancelled: true }

interface Handles {
  readonly run: ivm.Reference<
    (
      runId: number,
      script: string,
      /** Comma-separated: the names are identifiers. */
      declaredNames: string,
      filename: string,
    ) => Promise<{ result: RunResult; logLines: number } | { syntaxError: true }>
  >
  readonly stop: ivm.Reference<(runId: number) => void>
  readonly addCommonJs: ivm.Reference<
    (id: string, factory: unknown, resolutions: unknown, filename: string) => void
  >
  readonly addJson: ivm.Reference<(id: string, text: string, filename: string) => void>
  readonly registerCommonJs: ivm.Reference<(name: string, entry: string) => void>
  readonly registerModule: ivm.Reference<(name: string, namespace: unknown) => void>
}

interface ActiveRun {
  readonly runId: number
  settled: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  nextCallId: number
  readonly pending: Map<number, (reply: ToolReply) => void>
  /** Console entries of the run that reached this side. */
  logLines: number
  /** The sandbox's result, held until the `lines` console entries it says it sent have arrived. */
  ending: { readonly result: RunResult; readonly lines: number } | undefined
}

interface LiveSession {
  readonly key: number
  readonly isolate: ivm.Isolate
  readonly context: ivm.Context
  readonly handles: Handles
  run: ActiveRun | undefined
}

export interface SandboxHostOptions {
  /** Called on a fatal V8 error (out of memory that isolated-vm cannot contain). */
  readonly onCatastrophicError?: (message: string) => void
}

/** Compiled code of module files by content hash, shared by every isolate of this process. */
const compiledCache = new Map<string, ivm.ExternalCopy<ArrayBuffer>>()
/**
 * Compiled code of the bootstrap script for the isolates of this process, made once an isolate
 * finished a run, so it holds every function of the bootstrap that setting up a session and a run
 * call, not only those V8 compiles up front.
 */
let bootstrapCache: ivm.ExternalCopy<ArrayBuffer> | undefined

export class SandboxHost {
  readonly #send: (message: SandboxMessage) => void
  readonly #options: SandboxHostOptions
  readonly #sessions = new Map<number, LiveSession>()
  /** Sessions being opened, so a close that arrives meanwhile is not lost. */
  readonly #closing = new Set<number>()

  constructor(send: (message: SandboxMessage) => void, options: SandboxHostOptions = {}) {
    this.#send = send
    this.#options = options
  }

  /** Live isolates, for tests and the pool's bookkeeping. */
  get size(): number {
    return this.#sessions.size
  }

  receive(message: HostMessage): void {
    switch (message.type) {
      case 'open':
        void this.#open(message.key, message.setup)
        return
      case 'run':
        void this.#run(message)
        return
      case 'tool-result': {
        const run = this.#sessions.get(message.key)?.run
        if (run === undefined || run.runId !== message.runId) return
        const resolve = run.pending.get(message.callId)
        run.pending.delete(message.callId)
        resolve?.(message.outcome)
        return
      }
      case 'stop': {
        const session = this.#sessions.get(message.key)
        const run = session?.run
        if (session !== undefined && run !== undefined && run.runId === message.runId) {
          void this.#stop(session, run, 'stop')
        }
        return
      }
      case 'close':
        this.#close(message.key)
        return
    }
  }

  /** Disposes every isolate (the process is shutting down). */
  closeAll(): void {
    for (const key of this.#sessions.keys()) this.#close(key)
  }

  async #open(key: number, setup: SandboxSetup): Promise<void> {
    let isolate: ivm.Isolate | undefined
    try {
      isolate = new ivm.Isolate({
        memoryLimit: Math.max(MIN_MEMORY_MB, Number.isFinite(setup.memoryMb) ? setup.memoryMb : 4096),
        ...(this.#options.onCatastrophicError === undefined
          ? {}
          : { onCatastrophicError: this.#options.onCatastrophicError }),
      })
      // Session setup runs only airlock's own code, for a bounded time, so it is done with
      // synchronous calls: each asynchronous one would wait for a thread switch, twice.
      const context = isolate.createContextSync()
      const session: LiveSession = {
        key,
        isolate,
        context,
        handles: undefined as unknown as Handles,
        run: undefined,
      }
      // `line` is null when the run's output crossed maxOutputBytes and the rest is dropped.
      const log = (runId: number, line: string | null) => {
        const run = session.run
        if (run === undefined || run.runId !== runId || run.settled) return
        this.#send(line === null ? { type: 'truncated', key, runId } : { type: 'log', key, runId, line })
        run.logLines++
        if (run.ending !== undefined && run.logLines >= run.ending.lines) {
          this.#finish(session, run, run.ending.result)
        }
      }
      const callTool = (runId: number, name: string, args: unknown) =>
        new Promise<ToolReply>((resolve) => {
          const run = session.run
          if (run === undefined || run.runId !== runId || run.settled) {
            resolve({ ok: false, cancelled: true })
            return
          }
          const callId = run.nextCallId++
          run.pending.set(callId, resolve)
          this.#send({ type: 'tool', key, runId, callId, name, args })
        })
      const { modules, ...sandboxSetup } = setup
      // No filename: sandbox code that inspects stack frames sees isolated-vm's default one.
      const bootstrap = isolate
        .compileScriptSync(
          BOOTSTRAP_SOURCE,
          bootstrapCache === undefined ? {} : { cachedData: bootstrapCache },
        )
        .runSync(context, { reference: true, timeout: OPEN_TIMEOUT_MS })
      const root = bootstrap.applySync(
        undefined,
        [
          new ivm.Reference(log),
          new ivm.Reference(callTool),
          new ivm.ExternalCopy({
            ...sandboxSetup,
            modules: modules.map(({ name }) => ({ name })),
          }).copyInto(),
        ],
        { result: { reference: true }, timeout: OPEN_TIMEOUT_MS },
      ) as ivm.Reference<Record<keyof Handles, unknown>>
      bootstrap.release()
      const handle = (name: keyof Handles) => root.getSync(name, { reference: true }) as never
      const handles: Handles = {
        run: handle('run'),
        stop: handle('stop'),
        addCommonJs: handle('addCommonJs'),
        addJson: handle('addJson'),
        registerCommonJs: handle('registerCommonJs'),
        registerModule: handle('registerModule'),
      }
      root.release()
      ;(session as { handles: Handles }).handles = handles
      for (const plan of modules) await loadModule(isolate, context, handles, plan)
      if (this.#closing.delete(key)) {
        isolate.dispose()
        return
      }
      this.#sessions.set(key, session)
      this.#send({ type: 'opened', key })
    } catch (error) {
      if (isolate !== undefined && !isolate.isDisposed) isolate.dispose()
      this.#closing.delete(key)
      this.#send({ type: 'open-failed', key, message: errorMessage(error) })
    }
  }

  async #run(message: Extract<HostMessage, { type: 'run' }>): Promise<void> {
    const { key, runId, script, declaredNames, timeoutMs } = message
    const session = this.#sessions.get(key)
    if (session === undefined) {
      this.#send({
        type: 'done',
        key,
        runId,
        lost: true,
        result: {
          type: 'error',
          error: { kind: 'internal', name: 'Error', message: 'The session has no isolate.' },
        },
      })
      return
    }
    const run: ActiveRun = {
      runId,
      settled: false,
      timer: undefined,
      nextCallId: 1,
      pending: new Map(),
      logLines: 0,
      ending: undefined,
    }
    session.run = run
    const started = performance.now()
    const deadline = Number.isFinite(timeoutMs)
    // isolated-vm's own timeout covers synchronous work and leaves the isolate usable; this timer
    // covers the rest (work after an await, promises that never settle).
    if (deadline) run.timer = setTimeout(() => void this.#stop(session, run, 'timeout'), timeoutMs)
    const remaining = () =>
      deadline ? { timeout: Math.max(1, Math.ceil(timeoutMs - (performance.now() - started))) } : {}
    const { isolate, handles } = session
    const filename = `airlock-run-${runId}.js`
    try {
      // Only primitives go in, which isolated-vm passes as they are; copying each argument (an
      // array of names most of all) cost a third of a trivial run.
      const ended = await handles.run.apply(undefined, [runId, script, declaredNames.join(','), filename], {
        result: { promise: true, copy: true },
        ...remaining(),
      })
      if ('syntaxError' in ended) {
        // Nothing ran. Compiling the script again (compiling runs no code) gives the error with
        // its position; acorn lets through a few early errors that V8 reports.
        return this.#finish(
          session,
          run,
          message.quick
            ? { type: 'uncompiled' }
            : { type: 'error', error: syntaxError(isolate, script, filename) },
        )
      }
      const { result, logLines } = ended
      if (run.logLines < logLines) run.ending = { result, lines: logLines }
      else this.#finish(session, run, result)
      if (bootstrapCache === undefined && !isolate.isDisposed) {
        // Compiled again, the bootstrap is found in this isolate's compilation cache together with
        // the functions that setup and the run compiled on first use. Compiling runs no code.
        const recompiled = isolate.compileScriptSync(BOOTSTRAP_SOURCE, { produceCachedData: true })
        bootstrapCache = (recompiled as ivm.Script & ivm.CachedDataResult).cachedData
      }
    } catch (error) {
      this.#fail(session, run, error)
    }
  }

  #fail(session: LiveSession, run: ActiveRun, error: unknown): void {
    if (run.settled) return
    if (session.isolate.isDisposed) {
      const message = errorMessage(error)
      if (/memory limit/i.test(message)) {
        this.#finish(session, run, { type: 'memory', message }, true)
      } else {
        this.#finish(session, run, { type: 'stopped', reason: 'timeout' }, true)
      }
      return
    }
    if (isTimeout(error)) {
      this.#finish(session, run, { type: 'stopped', reason: 'timeout' })
      return
    }
    this.#finish(session, run, {
      type: 'error',
      error: { kind: 'internal', name: 'Error', message: `The isolate failed: ${errorMessage(error)}` },
    })
  }

  /** Ends a run early: the sandbox is told so, and disposed if it does not answer in time. */
  async #stop(session: LiveSession, run: ActiveRun, reason: 'timeout' | 'stop'): Promise<void> {
    if (run.settled) return
    const settle = this.#settle(session, run)
    let answered = false
    if (!session.isolate.isDisposed) {
      const probe = session.handles.stop
        .apply(undefined, [run.runId], { timeout: PROBE_MS })
        .then(() => (answered = true))
        .catch(() => {})
      await Promise.race([probe, delay(PROBE_MS)])
    }
    const lost = !answered
    if (lost) this.#dispose(session)
    settle({ type: 'stopped', reason }, lost)
  }

  #finish(session: LiveSession, run: ActiveRun, result: RunResult, lost = false): void {
    if (run.settled) return
    if (lost) this.#dispose(session)
    this.#settle(session, run)(result, lost)
  }

  /** Marks the run settled at once and returns how to report it. */
  #settle(session: LiveSession, run: ActiveRun): (result: RunResult, lost: boolean) => void {
    run.settled = true
    clearTimeout(run.timer)
    // Pending tool calls resolve as cancelled; the sandbox side never resumes a finished run.
    for (const resolve of run.pending.values()) resolve({ ok: false, cancelled: true })
    run.pending.clear()
    return (result, lost) => this.#send({ type: 'done', key: session.key, runId: run.runId, result, lost })
  }

  #dispose(session: LiveSession): void {
    this.#sessions.delete(session.key)
    if (!session.isolate.isDisposed) session.isolate.dispose()
  }

  #close(key: number): void {
    const session = this.#sessions.get(key)
    if (session === undefined) {
      this.#closing.add(key)
      return
    }
    if (session.run !== undefined && !session.run.settled) this.#settle(session, session.run)
    this.#dispose(session)
  }
}

async function loadModule(isolate: ivm.Isolate, context: ivm.Context, handles: Handles, plan: ModulePlan) {
  const entry = plan.files[plan.entry]
  if (entry === undefined) throw new Error(`Module "${plan.name}": its entry file is missing from the plan.`)
  const timeout = OPEN_TIMEOUT_MS
  if (entry.format === 'esm') {
    const modules = new Map<string, ivm.Module>()
    const ids = new Map<ivm.Module, string>()
    for (const [id, file] of Object.entries(plan.files)) {
      if (file.format !== 'esm') continue
      const cached = compiledCache.get(file.hash)
      const module = await isolate.compileModule(file.source, {
        filename: file.filename,
        ...(cached === undefined ? { produceCachedData: true } : { cachedData: cached }),
      })
      const produced = (module as ivm.Module & ivm.CachedDataResult).cachedData
      if (cached === undefined && produced !== undefined) compiledCache.set(file.hash, produced)
      modules.set(id, module)
      ids.set(module, id)
    }
    const root = modules.get(plan.entry)!
    await root.instantiate(context, (specifier, referrer) => {
      const from = plan.files[ids.get(referrer) ?? '']
      const target =
        from !== undefined && Object.hasOwn(from.resolutions, specifier)
          ? from.resolutions[specifier]
          : undefined
      const module = target === undefined ? undefined : modules.get(target)
      if (module === undefined) {
        throw new Error(
          target === undefined
            ? `Module "${plan.name}": ${from?.filename ?? 'a file'} imports "${specifier}", which is not a file or pure-JS dependency of the package.`
            : `Module "${plan.name}": ${from?.filename ?? 'a file'} imports "${specifier}", a CommonJS or JSON file; importing those from ES modules is not supported.`,
        )
      }
      return module
    })
    await root.evaluate({ timeout })
    await handles.registerModule.apply(undefined, [plan.name, root.namespace.derefInto()], { timeout })
    return
  }
  for (const [id, file] of Object.entries(plan.files)) {
    if (file.format === 'json') {
      await handles.addJson.apply(undefined, [id, file.source, file.filename], { timeout })
      continue
    }
    if (file.format !== 'cjs') continue
    const cached = compiledCache.get(file.hash)
    // One line of wrapper, so line numbers in stack traces match the file's.
    const script = await isolate.compileScript(
      `(function (exports, require, module, __filename, __dirname) {${file.source}\n})`,
      {
        filename: file.filename,
        ...(cached === undefined ? { produceCachedData: true } : { cachedData: cached }),
      },
    )
    const produced = (script as ivm.Script & ivm.CachedDataResult).cachedData
    if (cached === undefined && produced !== undefined) compiledCache.set(file.hash, produced)
    const factory = await script.run(context, { reference: true, timeout })
    await handles.addCommonJs.apply(
      undefined,
      [id, factory.derefInto(), new ivm.ExternalCopy(file.resolutions).copyInto(), file.filename],
      { timeout },
    )
  }
  await handles.registerCommonJs.apply(undefined, [plan.name, plan.entry], { timeout })
}

function isTimeout(error: unknown): boolean {
  return /execution timed out/i.test(errorMessage(error))
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error'
}

/** The error V8 reports for a script that does not compile, with its position in the script. */
function syntaxError(isolate: ivm.Isolate, script: string, filename: string): ThrownError {
  try {
    isolate.compileScriptSync(script, { filename })
  } catch (error) {
    return {
      kind: 'syntax',
      name: errorName(error),
      message: errorMessage(error),
      ...scriptPosition(error, filename),
    }
  }
  return { kind: 'syntax', name: 'SyntaxError', message: 'The code does not compile.' }
}

function scriptPosition(
  error: unknown,
  filename: string,
): { line: number; column: number; inScript: true } | object {
  const stack = error instanceof Error ? error.stack : undefined
  const match =
    stack === undefined
      ? null
      : new RegExp(`${filename.replace(/[.]/g, '\\.')}:(\\d+)(?::(\\d+))?`).exec(stack)
  if (match === null) return {}
  return { line: Number(match[1]), column: Number(match[2] ?? 1), inScript: true }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
