import {
  CodeSyntaxError,
  type Data,
  DataBoundaryError,
  type ExecutorSession,
  type Limits,
  type PreparedCodeAction,
  type RunError,
  type RunErrorKind,
  type RunOptions,
  type RunOutcome,
  type Tool,
  codeFrame,
  createToolCaller,
  prepareCodeAction,
  toData,
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

type RunResult =
  | { readonly type: 'value'; readonly value: Data }
  | { readonly type: 'final'; readonly answer: Data }
  | { readonly type: 'error'; readonly error: RunError }

const runErrorKinds = new Set<RunErrorKind>([
  'syntax',
  'runtime',
  'tool',
  'limit',
  'forbidden',
  'aborted',
  'internal',
])
const limitNames = new Set<string>([
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
  #disposed = false
  #queue: Promise<unknown> = Promise.resolve()
  #nextRun: number
  #nextInit = 1
  #expiresAt: number
  #reattached = false

  /** @internal Use `E2BExecutor.createSession` or `connectSession`. */
  constructor(context: E2BSessionContext, sandbox: Sandbox) {
    this.id = context.id
    this.#context = context
    this.#sandbox = sandbox
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
    // One run at a time: a second run waits for the first, as at a REPL.
    const outcome = this.#queue.then(() => this.#run(code, options))
    this.#queue = outcome.catch(() => {})
    return outcome
  }

  /** Kills the sandbox. Runs after it fail with an `internal` error. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    this.#active?.lose({
      kind: 'internal',
      name: 'SessionDisposedError',
      message: 'The session was disposed while the code was running.',
      sessionLost: true,
    })
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
    this.#disposed = true
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
    if (this.#disposed) {
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
    if (this.#disposed) {
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
    if (this.#disposed || this.#sandboxGone) return
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

  async #run(code: string, options: RunOptions): Promise<RunOutcome> {
    const { signal, onLog } = options
    const { limits, tools } = this.#context
    const started = performance.now()
    const runController = new AbortController()
    const caller = createToolCaller({ tools, sessionId: this.id, limits, signal: runController.signal })
    let logs = ''
    let outputBytes = 0
    let truncated = false

    const emit = (line: string) => {
      logs += `${line}\n`
      try {
        onLog?.(line)
      } catch {
        // A failing listener must not fail the run: the line is in `logs` either way.
      }
    }
    const marker = () =>
      emit(
        `[output truncated: the code printed more than maxOutputBytes (${limits.maxOutputBytes} bytes); print less, e.g. a summary or a slice]`,
      )
    // The harness caps output too; this cap is the one that counts, as the sandbox is untrusted.
    const log = (text: string) => {
      if (truncated) return
      const size = Buffer.byteLength(text) + 1
      if (outputBytes + size <= limits.maxOutputBytes) {
        outputBytes += size
        emit(text)
        return
      }
      truncated = true
      const cut = cutToBytes(text, limits.maxOutputBytes - outputBytes - 1)
      if (cut !== '') emit(cut)
      marker()
    }
    const finish = (result: RunResult): RunOutcome => {
      runController.abort()
      const stats = { durationMs: performance.now() - started, toolCalls: [...caller.records] }
      // A refused call past maxToolCalls ends the run even when the code caught its error.
      const limitError = caller.limitError
      if (limitError !== undefined && !(result.type === 'error' && result.error.kind === 'limit')) {
        return { type: 'error', error: limitError, logs, stats }
      }
      return { ...result, logs, stats }
    }

    if (this.#disposed) {
      return finish({
        type: 'error',
        error: {
          kind: 'internal',
          name: 'SessionDisposedError',
          message: 'The session was disposed; create a new session to run code.',
        },
      })
    }
    if (signal?.aborted) return finish({ type: 'error', error: abortedError(false) })
    if (this.#lost !== undefined) {
      const lost = this.#lost
      this.#lost = undefined
      return finish({ type: 'error', error: lost })
    }

    let prepared: PreparedCodeAction
    try {
      prepared = prepareCodeAction(code, { importFunction: IMPORT_FUNCTION })
    } catch (error) {
      if (!CodeSyntaxError.isInstance(error)) throw error
      return finish({ type: 'error', error: syntaxError(code, error) })
    }

    let harness: HarnessProcess
    try {
      harness = await abortable(this.#ensureHarness(), signal)
      await abortable(this.#keepAlive(), signal)
    } catch (error) {
      if (signal?.aborted) return finish({ type: 'error', error: abortedError(false) })
      if (this.#sandboxGone) {
        return finish({
          type: 'error',
          error: this.#lossError({ reason: 'sandbox-gone', outOfMemory: false, stderr: '' }),
        })
      }
      const mapped = toE2BError(error, 'Preparing the sandbox for this run')
      return finish({
        type: 'error',
        error: {
          kind: 'internal',
          name: mapped.name,
          message: `${mapped.message} The run did not start; run it again.`,
          sessionLost: true,
        },
      })
    }

    const run = this.#nextRun++
    return await new Promise<RunOutcome>((resolve) => {
      let settled = false
      const settle = (result: RunResult) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if (this.#active === active) this.#active = undefined
        resolve(finish(result))
      }
      const fail = (error: RunError) => settle({ type: 'error', error })
      /** The harness cannot finish this run (deadline, abort, broken frame): kill it, lose state. */
      const stop = (error: RunError) => {
        if (settled) return
        fail({ ...error, sessionLost: true })
        this.#discard(harness)
      }
      const onAbort = () => stop(abortedError(true))

      const active: ActiveRun = {
        run,
        lose: (error) => fail(error),
        frame: (frame) => {
          if (settled) return
          switch (frame.t) {
            case 'log':
              if (typeof frame.text === 'string') log(frame.text)
              return
            case 'truncated':
              if (!truncated) {
                truncated = true
                marker()
              }
              return
            case 'call':
              this.#toolCall(frame, caller, harness, () => settled, stop)
              return
            case 'done': {
              let result: RunResult
              try {
                result = this.#toResult(frame.result, code, prepared)
              } catch (error) {
                if (!(error instanceof WireFormatError)) throw error
                stop(malformedError(error))
                return
              }
              settle(result)
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
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#active = active
      // A failed send ends the harness's service, and its exit reaches `active.lose`.
      void harness
        .send({ t: 'run', run, script: prepared.script, names: prepared.declaredNames })
        .catch(() => {})
    })
  }

  #toolCall(
    frame: Extract<HarnessFrame, { t: 'call' }>,
    caller: ReturnType<typeof createToolCaller>,
    harness: HarnessProcess,
    settled: () => boolean,
    stop: (error: RunError) => void,
  ): void {
    const { call, run, tool } = frame
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
    void caller.call(tool, args).then((outcome) => {
      if (settled()) return
      const reply = outcome.ok
        ? { t: 'result' as const, run, call, ok: true as const, value: encodeData(outcome.value) }
        : {
            t: 'result' as const,
            run,
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

  #toResult(result: HarnessResult, code: string, prepared: PreparedCodeAction): RunResult {
    const { limits } = this.#context
    if (typeof result !== 'object' || result === null)
      throw new WireFormatError('a run result that is not an object')
    switch (result.type) {
      case 'value':
      case 'final': {
        const raw = decodeData(result.type === 'value' ? result.value : result.answer)
        const rootName = result.type === 'value' ? 'value' : 'answer'
        let data: Data
        try {
          data = toData(raw, { maxBytes: limits.maxValueBytes, rootName })
        } catch (error) {
          if (!DataBoundaryError.isInstance(error)) throw error
          return { type: 'error', error: boundaryError(raw, rootName, error, limits) }
        }
        return result.type === 'value' ? { type: 'value', value: data } : { type: 'final', answer: data }
      }
      case 'error':
        return { type: 'error', error: locate(checkHarnessError(result.error), code, prepared) }
    }
    throw new WireFormatError('a run result of an unknown type')
  }
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
    ...(typeof limit === 'string' && limitNames.has(limit) ? { limit } : {}),
  }
}

function locate(error: HarnessError, code: string, prepared: PreparedCodeAction): RunError {
  const { inScript, line, column, limit, ...rest } = error
  const base: RunError = { ...rest, ...(limit === undefined ? {} : { limit: limit as keyof Limits }) }
  if (!inScript || line === undefined || column === undefined) return base
  const position = prepared.originalPosition(line, column)
  if (position === undefined) return base
  return { ...base, ...position, codeFrame: codeFrame(code, position.line, position.column) }
}

function syntaxError(code: string, error: CodeSyntaxError): RunError {
  const { line, column } = error
  return {
    kind: 'syntax',
    name: 'SyntaxError',
    message: error.message,
    ...(line === undefined || column === undefined
      ? {}
      : { line, column, codeFrame: codeFrame(code, line, column) }),
  }
}

function boundaryError(raw: Data, rootName: string, error: DataBoundaryError, limits: Limits): RunError {
  let fitsWithoutLimit = true
  try {
    toData(raw)
  } catch {
    fitsWithoutLimit = false
  }
  if (fitsWithoutLimit) {
    return {
      kind: 'limit',
      name: 'LimitError',
      limit: 'maxValueBytes',
      message: `The ${rootName === 'value' ? "code's last value" : 'final answer'} is larger than maxValueBytes (${limits.maxValueBytes} bytes); return less data, e.g. a summary or a slice.`,
    }
  }
  return { kind: 'runtime', name: 'DataBoundaryError', message: error.message }
}

function malformedError(error: WireFormatError): RunError {
  return {
    kind: 'internal',
    name: 'E2BHarnessError',
    message: `The sandbox sent a malformed message (${error.message}); the process running the code was stopped and the session's state was lost.`,
  }
}

function abortedError(sessionLost: boolean): RunError {
  return {
    kind: 'aborted',
    name: 'AbortError',
    message: 'The run was aborted by the caller.',
    ...(sessionLost ? { sessionLost } : {}),
  }
}

/** Rejects with the signal's reason when it aborts first; the promise itself carries on. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
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
