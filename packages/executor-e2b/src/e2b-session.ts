import {
  abortable,
  abortedRunError,
  type Data,
  type ExecutorSession,
  type Limits,
  prepareRun,
  type RunEnding,
  type RunError,
  type RunErrorKind,
  type RunOptions,
  type RunOutcome,
  type RunRecorder,
  type SandboxRunResult,
  SessionRuns,
  type Tool,
  toRunEnding,
} from '@airlock/core'
import type { Sandbox } from '@e2b/code-interpreter'
import { E2BUnavailableError, isNotFoundError, toE2BError } from './errors.js'
import {
  type HarnessExit,
  type HarnessListener,
  HarnessProcess,
  type HarnessProcessOptions,
  describeExit,
  harnessCommand,
  harnessPath,
  loadHarnessSource,
} from './harness-process.js'
import { liveSandboxes } from './live-sandboxes.js'
import type { HarnessError, HarnessFrame, HarnessResult, InitFrame } from './protocol.js'
import { WireFormatError, decodeData, encodeData } from './wire-data.js'

const IMPORT_FUNCTION = '__airlock_import'
/** How long a starting harness may take to answer `init` (node start-up plus the variables). */
const HARNESS_READY_TIMEOUT_MS = 30_000

/** Everything a session needs from its executor; built by `E2BExecutor`. */
export interface E2BSessionContext {
  readonly id: string
  readonly tools: readonly Tool[]
  readonly allowedModules: readonly string[]
  readonly limits: Limits
  readonly variables: Readonly<Record<string, Data>>
  readonly workdir: string
  readonly sandboxTimeoutMs: number
  readonly requestTimeoutMs: number | undefined
  /** Creates a fresh sandbox for this session (used again when the sandbox is lost). */
  readonly createSandbox: () => Promise<Sandbox>
}

interface ActiveRun {
  readonly run: number
  frame(frame: HarnessFrame): void
  /** Ends the run because the harness or the sandbox went away. */
  lose(error: RunError): void
}

const runErrorKinds = new Set<RunErrorKind>([
  'syntax',
  'runtime',
  'tool',
  'limit',
  'forbidden',
  'aborted',
  'internal',
])
const limitNames = new Set<keyof Limits>([
  'timeoutMs',
  'maxOperations',
  'memoryMb',
  'maxOutputBytes',
  'maxToolCalls',
  'maxCallDepth',
  'maxValueBytes',
])

/**
 * One E2B sandbox with a harness process that keeps the session's JavaScript state. Created by
 * `E2BExecutor.createSession` or `connectSession`.
 *
 * @example
 * await using session = await createE2BExecutor().createSession({ tools: [weather] })
 * const outcome = await session.run('const w = await get_weather({ city: "Oslo" })\nw.tempC')
 * await session.sandbox.files.write('/home/user/data.csv', csv) // the sandbox itself, for setup
 */
export class E2BSession implements ExecutorSession {
  readonly id: string
  readonly #context: E2BSessionContext
  #sandbox: Sandbox
  #uploaded = false
  #sandboxGone = false
  #harness: HarnessProcess | undefined
  #starting: Promise<HarnessProcess> | undefined
  /** A loss found between runs, reported by the next run. */
  #lost: RunError | undefined
  #active: ActiveRun | undefined
  readonly #runs: SessionRuns
  #nextRun: number
  #nextInit = 1
  #expiresAt: number
  #reattached = false

  /** @internal Use `E2BExecutor.createSession` or `connectSession`. */
  constructor(context: E2BSessionContext, sandbox: Sandbox) {
    this.id = context.id
    this.#context = context
    this.#sandbox = sandbox
    this.#runs = new SessionRuns({ tools: context.tools, sessionId: context.id, limits: context.limits })
    // Run ids only need to differ from those of a harness this session may attach to.
    this.#nextRun = 1 + Math.floor(Math.random() * 2 ** 30)
    this.#expiresAt = Date.now() + context.sandboxTimeoutMs
    liveSandboxes.add(sandbox.sandboxId)
  }

  /**
   * The E2B sandbox behind this session, for setup the code should not do itself: uploading files,
   * `npm install` of packages to allowlist, reading results. It changes when a lost sandbox is
   * replaced.
   */
  get sandbox(): Sandbox {
    return this.#sandbox
  }

  get sandboxId(): string {
    return this.#sandbox.sandboxId
  }

  /** True when `connectSession` found the previous harness running and kept its JavaScript state. */
  get reattached(): boolean {
    return this.#reattached
  }

  /**
   * @internal Starts the harness, so a broken setup fails `createSession`. With `attachTo`, first
   * tries to take over the harness with that pid (a reconnect), keeping its state.
   */
  async start(options: { readonly attachTo?: number } = {}): Promise<void> {
    const { attachTo } = options
    if (attachTo !== undefined) {
      try {
        // No variables: the harness keeps the state it has.
        await this.#openHarness((listener) =>
          HarnessProcess.attach(this.#sandbox, attachTo, this.#processOptions(listener)),
        )
        this.#uploaded = true
        this.#reattached = true
        return
      } catch {
        // It did not answer as a harness of this version should (#openHarness killed it): start anew.
      }
    }
    await this.#ensureHarness()
  }

  run(code: string, options: RunOptions = {}): Promise<RunOutcome> {
    return this.#runs.add(options, (run) => this.#run(code, run, options.signal))
  }

  /** Kills the sandbox. Runs after it fail with an `internal` error. Safe to call twice. */
  async dispose(): Promise<void> {
    if (!this.#runs.close()) return
    this.#harness?.close()
    this.#harness = undefined
    const sandbox = this.#sandbox
    liveSandboxes.delete(sandbox.sandboxId)
    try {
      await sandbox.kill(this.#requestOptions())
    } catch {
      // The sandbox ends at its lifetime anyway; killOrphanedSandboxes() finds it before that.
    }
  }

  /** @internal Lets go of the sandbox without killing it (a reconnect that failed). */
  release(): void {
    this.#runs.close()
    this.#harness?.close()
    this.#harness = undefined
    liveSandboxes.delete(this.#sandbox.sandboxId)
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose()
  }

  // ---- harness lifecycle ---------------------------------------------------------------------

  #requestOptions(): { requestTimeoutMs?: number } {
    const { requestTimeoutMs } = this.#context
    return requestTimeoutMs === undefined ? {} : { requestTimeoutMs }
  }

  #processOptions(listener: HarnessListener): HarnessProcessOptions {
    const { maxValueBytes, maxOutputBytes } = this.#context.limits
    const biggest = Math.max(maxValueBytes, maxOutputBytes)
    return {
      listener,
      requestTimeoutMs: this.#context.requestTimeoutMs,
      // JSON escapes can make a value's text up to six times its estimated size.
      maxLineLength: Number.isFinite(biggest) ? biggest * 6 + 1024 * 1024 : 512 * 1024 * 1024,
    }
  }

  #ensureHarness(): Promise<HarnessProcess> {
    if (this.#harness?.open) return Promise.resolve(this.#harness)
    this.#starting ??= this.#startHarness().finally(() => {
      this.#starting = undefined
    })
    return this.#starting
  }

  async #startHarness(): Promise<HarnessProcess> {
    if (this.#sandboxGone) await this.#replaceSandbox()
    const { source, hash } = await loadHarnessSource()
    const { workdir, limits } = this.#context
    if (!this.#uploaded) {
      try {
        await this.#sandbox.files.write(`${workdir}/${harnessPath(hash)}`, source, this.#requestOptions())
      } catch (error) {
        throw toE2BError(error, 'Uploading the harness to the sandbox')
      }
      this.#uploaded = true
    }
    return await this.#openHarness(async (listener) => {
      try {
        return await HarnessProcess.start(
          this.#sandbox,
          { cmd: harnessCommand(hash, limits.memoryMb), cwd: workdir },
          this.#processOptions(listener),
        )
      } catch (error) {
        throw toE2BError(error, 'Starting the harness in the sandbox')
      }
    }, this.#context.variables)
  }

  /**
   * Opens a harness (started or attached), sends `init` and makes it the session's harness. With
   * `variables`, the harness gets them as its initial state; without, it keeps what it has.
   */
  async #openHarness(
    open: (listener: HarnessListener) => Promise<HarnessProcess>,
    variables?: Readonly<Record<string, Data>>,
  ): Promise<HarnessProcess> {
    const owner: { process?: HarnessProcess } = {}
    const harness = await open({
      frame: (frame) => {
        if (owner.process === this.#harness) this.#frame(frame)
      },
      exit: (exit) => this.#harnessExited(owner.process, exit),
    })
    owner.process = harness
    try {
      const { tools, allowedModules, limits } = this.#context
      const init: InitFrame = {
        t: 'init',
        id: this.#nextInit++,
        tools: tools.map((tool) => tool.name),
        allowedModules: [...allowedModules],
        maxOutputBytes: Number.isFinite(limits.maxOutputBytes) ? limits.maxOutputBytes : null,
        maxValueBytes: Number.isFinite(limits.maxValueBytes) ? limits.maxValueBytes : null,
        importFunction: IMPORT_FUNCTION,
        ...(variables === undefined
          ? {}
          : {
              variables: Object.fromEntries(
                Object.entries(variables).map(([name, value]) => [name, encodeData(value)]),
              ),
            }),
      }
      await harness.initialize(init, HARNESS_READY_TIMEOUT_MS)
    } catch (error) {
      await harness.kill()
      throw error
    }
    if (this.#runs.closed) {
      harness.close()
      throw new E2BUnavailableError('The session was disposed while its harness was starting.')
    }
    this.#harness = harness
    return harness
  }

  async #replaceSandbox(): Promise<void> {
    const previous = this.#sandbox
    liveSandboxes.delete(previous.sandboxId)
    const sandbox = await this.#context.createSandbox()
    if (this.#runs.closed) {
      await sandbox.kill(this.#requestOptions()).catch(() => {})
      throw new E2BUnavailableError('The session was disposed while its sandbox was being replaced.')
    }
    this.#sandbox = sandbox
    this.#sandboxGone = false
    this.#uploaded = false
    this.#expiresAt = Date.now() + this.#context.sandboxTimeoutMs
    liveSandboxes.add(sandbox.sandboxId)
  }

  #harnessExited(process: HarnessProcess | undefined, exit: HarnessExit): void {
    if (process === undefined || process !== this.#harness) return
    this.#harness = undefined
    if (exit.reason === 'sandbox-gone') this.#sandboxGone = true
    if (exit.reason === 'unreachable' || exit.reason === 'protocol') void process.kill()
    const error = this.#lossError(exit)
    if (this.#active !== undefined) this.#active.lose(error)
    else this.#lost = error
    this.#restartSoon()
  }

  /** Starts the next harness right away, so the next run does not wait for node to boot. */
  #restartSoon(): void {
    if (this.#runs.closed || this.#sandboxGone) return
    void this.#ensureHarness().catch(() => {})
  }

  /** Kills a harness that cannot finish its run (deadline, abort) and starts the next one. */
  #discard(harness: HarnessProcess): void {
    if (this.#harness === harness) this.#harness = undefined
    void harness.kill()
    this.#restartSoon()
  }

  #lossError(exit: HarnessExit): RunError {
    const { limits, sandboxTimeoutMs } = this.#context
    const sandboxId = this.#sandbox.sandboxId
    if (exit.reason === 'exited' && exit.outOfMemory) {
      return {
        kind: 'limit',
        name: 'LimitError',
        limit: 'memoryMb',
        message: `The code used more than memoryMb (${limits.memoryMb} MB) of heap; the process running it was stopped and the session's state was lost. Work on less data at a time.`,
        sessionLost: true,
      }
    }
    if (exit.reason === 'sandbox-gone') {
      return {
        kind: 'internal',
        name: 'E2BSandboxGoneError',
        message: `The E2B sandbox ${sandboxId} is gone: its lifetime ended (sandboxTimeoutMs, ${sandboxTimeoutMs} ms since its last run) or it was killed. Its state and files were lost; the next run starts in a new sandbox.`,
        sessionLost: true,
      }
    }
    if (exit.reason === 'unreachable') {
      return {
        kind: 'internal',
        name: 'E2BUnavailableError',
        message: `The connection to the E2B sandbox ${sandboxId} broke and could not be restored (${exit.detail ?? 'no detail'}). The session's state was lost; the next run starts fresh.`,
        sessionLost: true,
      }
    }
    const stderr = exit.stderr.trim()
    return {
      kind: 'internal',
      name: 'E2BHarnessError',
      message: `The process running the code in the sandbox stopped: ${describeExit(exit)}.${stderr === '' ? '' : ` Its last output: ${stderr.slice(-1_000)}`} The session's state was lost; the next run starts fresh.`,
      sessionLost: true,
    }
  }

  #frame(frame: HarnessFrame): void {
    const active = this.#active
    if (active !== undefined && 'run' in frame && frame.run === active.run) active.frame(frame)
  }

  /** Extends the sandbox's lifetime when less than half of it (or less than one run) is left. */
  async #keepAlive(): Promise<void> {
    const { sandboxTimeoutMs, limits } = this.#context
    const runMs = Number.isFinite(limits.timeoutMs) ? limits.timeoutMs : 0
    const needed = Math.max(sandboxTimeoutMs / 2, runMs + 30_000)
    if (this.#expiresAt - Date.now() >= needed) return
    const lifetime = Math.max(sandboxTimeoutMs, runMs + 60_000)
    try {
      await this.#sandbox.setTimeout(lifetime, this.#requestOptions())
      this.#expiresAt = Date.now() + lifetime
    } catch (error) {
      if (
        isNotFoundError(error) ||
        (await this.#sandbox.isRunning(this.#requestOptions()).catch(() => true)) === false
      ) {
        this.#sandboxGone = true
        this.#harness?.close()
        this.#harness = undefined
        throw error
      }
      // A passing failure: the sandbox still has some lifetime left; the next run tries again.
    }
  }

  // ---- runs ----------------------------------------------------------------------------------

  async #run(code: string, run: RunRecorder, signal: AbortSignal | undefined): Promise<RunOutcome> {
    const { limits } = this.#context
    if (this.#lost !== undefined) {
      const lost = this.#lost
      this.#lost = undefined
      return run.fail(lost)
    }

    const preparation = prepareRun(code, {
      importFunction: IMPORT_FUNCTION,
      maxValueBytes: limits.maxValueBytes,
    })
    if ('error' in preparation) return run.fail(preparation.error)
    const { context } = preparation

    let harness: HarnessProcess
    try {
      harness = await abortable(this.#ensureHarness(), signal)
      await abortable(this.#keepAlive(), signal)
    } catch (error) {
      if (signal?.aborted) return run.fail(abortedRunError(false))
      if (this.#sandboxGone) {
        return run.fail(this.#lossError({ reason: 'sandbox-gone', outOfMemory: false, stderr: '' }))
      }
      const mapped = toE2BError(error, 'Preparing the sandbox for this run')
      return run.fail({
        kind: 'internal',
        name: mapped.name,
        message: `${mapped.message} The run did not start; run it again.`,
        sessionLost: true,
      })
    }
    // Disposed meanwhile: dispose ended the run.
    if (run.finished) return run.outcome

    const id = this.#nextRun++
    /** The harness cannot finish this run (deadline, abort, broken frame): kill it, lose state. */
    const stop = (error: RunError) => {
      if (run.finished) return
      void run.fail({ ...error, sessionLost: true })
      this.#discard(harness)
    }
    const active: ActiveRun = {
      run: id,
      lose: (error) => void run.fail(error),
      frame: (frame) => {
        if (run.finished) return
        switch (frame.t) {
          case 'log':
            // The harness caps output too; the collector's cap is the one that counts.
            if (typeof frame.text === 'string') run.output.add(frame.text)
            return
          case 'truncated':
            run.output.truncate()
            return
          case 'call':
            this.#toolCall(frame, run, harness, stop)
            return
          case 'done': {
            let ending: RunEnding
            try {
              ending = toRunEnding(checkHarnessResult(frame.result), context)
            } catch (error) {
              if (!(error instanceof WireFormatError)) throw error
              stop(malformedError(error))
              return
            }
            void run.finish(ending)
            return
          }
        }
      },
    }

    const timer = Number.isFinite(limits.timeoutMs)
      ? setTimeout(
          () =>
            stop({
              kind: 'limit',
              name: 'LimitError',
              limit: 'timeoutMs',
              message: `The code ran longer than timeoutMs (${limits.timeoutMs} ms) and was stopped; the session's state was lost. Do less per step, or avoid loops that never end.`,
            }),
          limits.timeoutMs,
        )
      : undefined
    run.onAbort(() => stop(abortedRunError(true)))
    run.onFinish(() => {
      clearTimeout(timer)
      if (this.#active === active) this.#active = undefined
    })
    this.#active = active
    // A failed send ends the harness's service, and its exit reaches `active.lose`.
    void harness
      .send({ t: 'run', run: id, script: context.prepared.script, names: context.prepared.declaredNames })
      .catch(() => {})
    return run.outcome
  }

  #toolCall(
    frame: Extract<HarnessFrame, { t: 'call' }>,
    run: RunRecorder,
    harness: HarnessProcess,
    stop: (error: RunError) => void,
  ): void {
    const { call, tool } = frame
    if (typeof tool !== 'string' || !Number.isSafeInteger(call)) {
      stop(malformedError(new WireFormatError('a tool call without a tool name or call id')))
      return
    }
    let args: Data
    try {
      args = decodeData(frame.args)
    } catch (error) {
      if (!(error instanceof WireFormatError)) throw error
      stop(malformedError(error))
      return
    }
    run.callTool(tool, args, (outcome) => {
      const reply = outcome.ok
        ? { t: 'result' as const, run: frame.run, call, ok: true as const, value: encodeData(outcome.value) }
        : {
            t: 'result' as const,
            run: frame.run,
            call,
            ok: false as const,
            error: {
              kind: outcome.error.kind,
              name: outcome.error.name,
              message: outcome.error.message,
              ...(outcome.error.tool === undefined ? {} : { tool: outcome.error.tool }),
              ...(outcome.error.limit === undefined ? {} : { limit: outcome.error.limit }),
            },
          }
      void harness.send(reply).catch(() => {})
    })
  }
}

/**
 * A run result from the harness, with its value decoded and its error checked: the harness is
 * untrusted, so only well-formed results are believed.
 *
 * @throws WireFormatError when it is malformed.
 */
function checkHarnessResult(result: HarnessResult): SandboxRunResult {
  if (typeof result !== 'object' || result === null)
    throw new WireFormatError('a run result that is not an object')
  switch (result.type) {
    case 'value':
      return { type: 'value', value: decodeData(result.value) }
    case 'final':
      return { type: 'final', answer: decodeData(result.answer) }
    case 'error':
      return { type: 'error', error: checkHarnessError(result.error) }
  }
  throw new WireFormatError('a run result of an unknown type')
}

/** The sandbox reports errors as data; only well-formed fields are believed. */
function checkHarnessError(error: unknown): HarnessError {
  if (typeof error !== 'object' || error === null) throw new WireFormatError('an error that is not an object')
  const { kind, name, message, line, column, inScript, tool, limit } = error as Record<string, unknown>
  if (typeof name !== 'string' || typeof message !== 'string') {
    throw new WireFormatError('an error without a name or message')
  }
  const position =
    inScript === true && Number.isSafeInteger(line) && Number.isSafeInteger(column)
      ? { line: line as number, column: column as number, inScript: true }
      : {}
  return {
    kind: runErrorKinds.has(kind as RunErrorKind) ? (kind as RunErrorKind) : 'runtime',
    name,
    message,
    ...position,
    ...(typeof tool === 'string' ? { tool } : {}),
    ...(typeof limit === 'string' && limitNames.has(limit as keyof Limits)
      ? { limit: limit as keyof Limits }
      : {}),
  }
}

function malformedError(error: WireFormatError): RunError {
  return {
    kind: 'internal',
    name: 'E2BHarnessError',
    message: `The sandbox sent a malformed message (${error.message}); the process running the code was stopped and the session's state was lost.`,
  }
}
