// The host side that every executor shares between "the sandbox reported something" and the
// `RunOutcome` the executor contract pins (see `describeExecutorContract`): one run at a time,
// console output within `maxOutputBytes`, errors located in the submitted code, values checked
// again within `maxValueBytes`, and the tool-call limit that overrides every other ending.
import { codeFrame, type PreparedCodeAction, prepareCodeAction } from './code-action.js'
import { prepareCodeActionQuickly } from './quick-code-action.js'
import { type Data, toData } from './data.js'
import { CodeSyntaxError, DataBoundaryError, InvalidDefinitionError } from './errors.js'
import type { RunError, RunOptions, RunOutcome } from './executor.js'
import type { Limits } from './limits.js'
import type { SandboxRunResult, ThrownError } from './sandbox-runtime.js'
import type { Tool } from './tool.js'
import {
  createToolCaller,
  type ToolArgumentsCopy,
  type ToolCaller,
  type ToolCallOutcome,
} from './tool-calls.js'
import { identifierPattern } from './value-path.js'

/** How a run ended, before its logs and stats are added: the `RunOutcome` without them. */
export type RunEnding =
  | { readonly type: 'value'; readonly value: Data }
  | { readonly type: 'final'; readonly answer: Data }
  | { readonly type: 'error'; readonly error: RunError }

/**
 * The initial bindings of a session (`SessionOptions.variables`), copied with `toData`.
 *
 * @throws InvalidDefinitionError for a name that cannot be a global of the sandbox: not a
 *   JavaScript identifier, or starting with `__airlock` (the executors' own names).
 * @throws DataBoundaryError for a value that is not data.
 */
export function copySessionVariables(
  variables: Readonly<Record<string, Data>> | undefined,
): Record<string, Data> {
  const copied: Record<string, Data> = {}
  for (const [name, value] of Object.entries(variables ?? {})) {
    if (!identifierPattern.test(name) || name.startsWith('__airlock')) {
      throw new InvalidDefinitionError(
        `Variable name ${JSON.stringify(name)} is not usable: it must be a JavaScript identifier not starting with __airlock.`,
      )
    }
    copied[name] = toData(value, { rootName: `variables.${name}` })
  }
  return copied
}

/**
 * The console output of one run as the contract pins it: each entry followed by `\n`, at most
 * `maxOutputBytes` UTF-8 bytes of it, then one truncation marker; each entry kept, and the marker,
 * also go to `onLog` (whose failures are ignored). It caps output itself, so an executor need not
 * trust its sandbox to.
 */
export class LogCollector {
  readonly #maxBytes: number
  readonly #onLog: ((line: string) => void) | undefined
  #text = ''
  #bytes = 0
  #truncated = false

  constructor(maxOutputBytes: number, onLog?: (line: string) => void) {
    this.#maxBytes = maxOutputBytes
    this.#onLog = onLog
  }

  /** Everything kept so far: the run's `logs`. */
  get text(): string {
    return this.#text
  }

  /** Whether the limit was reached: later lines are dropped, so callers may skip formatting them. */
  get truncated(): boolean {
    return this.#truncated
  }

  /** Adds one console entry; the one that crosses the limit is cut to fit and the marker follows. */
  add(line: string): void {
    if (this.#truncated) return
    const size = Buffer.byteLength(line) + 1
    if (this.#bytes + size <= this.#maxBytes) {
      this.#bytes += size
      this.#emit(line)
      return
    }
    const cut = cutToBytes(line, this.#maxBytes - this.#bytes - 1)
    if (cut !== '') this.#emit(cut)
    this.truncate()
  }

  /** Output was dropped (the sandbox says so): adds the marker, once, and keeps nothing after it. */
  truncate(): void {
    if (this.#truncated) return
    this.#truncated = true
    this.#emit(
      `[output truncated: the code printed more than maxOutputBytes (${this.#maxBytes} bytes); print less, e.g. a summary or a slice]`,
    )
  }

  #emit(line: string): void {
    this.#text += `${line}\n`
    try {
      this.#onLog?.(line)
    } catch {
      // A failing listener must not fail the run: the line is in `logs` either way.
    }
  }
}

export interface RunRecorderOptions {
  /** The session's tools. */
  readonly tools: readonly Tool[]
  readonly sessionId: string
  readonly limits: Limits
  /** The caller's `RunOptions.signal`. */
  readonly signal?: AbortSignal | undefined
  /** The caller's `RunOptions.onLog`. */
  readonly onLog?: ((line: string) => void) | undefined
}

/**
 * The host's side of one run: its tool calls, its console output (`output`) and its duration,
 * and its outcome, settled once by `finish` or `fail` (later endings are ignored, so a deadline, an
 * abort and the sandbox's answer may race). A call refused past `maxToolCalls` ends the run with
 * that limit error even when the code caught it, unless the run ended with a limit error of its own.
 *
 * @example
 * recorder.onAbort(() => stopSandbox())
 * recorder.onFinish(() => clearTimeout(timer))
 * // per sandbox message: recorder.output.add(line), recorder.callTool(name, args, reply),
 * // recorder.finish(toRunEnding(result, context))
 * return recorder.outcome
 */
export class RunRecorder {
  readonly output: LogCollector
  /** The run's outcome, once it finished. */
  readonly outcome: Promise<RunOutcome>
  readonly #options: RunRecorderOptions
  readonly #signal: AbortSignal | undefined
  readonly #started = performance.now()
  /**
   * Made at the first tool call, since most runs make none and aborting a signal builds an
   * exception. The controller is aborted when the run ends, so tools still running see their
   * `ToolContext.signal` abort.
   */
  #tools: { readonly caller: ToolCaller; readonly controller: AbortController } | undefined
  readonly #cleanups: (() => void)[] = []
  #resolve!: (outcome: RunOutcome) => void
  #finished = false

  constructor(options: RunRecorderOptions) {
    const { limits, signal, onLog } = options
    this.#options = options
    this.#signal = signal
    this.output = new LogCollector(limits.maxOutputBytes, onLog)
    this.outcome = new Promise((resolve) => (this.#resolve = resolve))
  }

  /** True once the run has its outcome. */
  get finished(): boolean {
    return this.#finished
  }

  /** Calls `cleanup` when the run finishes, before its outcome is settled (now if it has). */
  onFinish(cleanup: () => void): void {
    if (this.#finished) cleanup()
    else this.#cleanups.push(cleanup)
  }

  /** Calls `abort` if the caller's signal aborts while the run is going. */
  onAbort(abort: () => void): void {
    const signal = this.#signal
    if (signal === undefined || this.#finished) return
    signal.addEventListener('abort', abort, { once: true })
    this.onFinish(() => signal.removeEventListener('abort', abort))
  }

  /**
   * Makes a tool call the sandbox asked for and passes its outcome to `reply`, unless the run
   * finished meanwhile: then nobody waits for it in the sandbox any more. A call asked for after
   * the run finished does not run the tool.
   */
  callTool(name: string, args: unknown, reply: (outcome: ToolCallOutcome) => void): void {
    this.#call((caller) => caller.call(name, args), reply)
  }

  /** `callTool` with arguments the sandbox's side already copied (`copyToolArguments`). */
  callCopiedTool(name: string, copy: ToolArgumentsCopy, reply: (outcome: ToolCallOutcome) => void): void {
    this.#call((caller) => caller.callCopied(name, copy), reply)
  }

  #call(
    call: (caller: ToolCaller) => Promise<ToolCallOutcome>,
    reply: (outcome: ToolCallOutcome) => void,
  ): void {
    if (this.#finished) return
    if (this.#tools === undefined) {
      const { tools, sessionId, limits } = this.#options
      const controller = new AbortController()
      const caller = createToolCaller({ tools, sessionId, limits, signal: controller.signal })
      this.#tools = { caller, controller }
    }
    void call(this.#tools.caller).then((outcome) => {
      if (!this.#finished) reply(outcome)
    })
  }

  /**
   * Ends the run with `ending` (the first ending wins) and returns its outcome; `operations` is
   * passed on to its stats, from a sandbox that counts them.
   */
  finish(ending: RunEnding, counted: { readonly operations?: number } = {}): Promise<RunOutcome> {
    if (this.#finished) return this.outcome
    this.#finished = true
    for (const cleanup of this.#cleanups) cleanup()
    this.#tools?.controller.abort()
    const logs = this.output.text
    const caller = this.#tools?.caller
    const stats = {
      durationMs: performance.now() - this.#started,
      toolCalls: [...(caller?.records ?? [])],
      ...(counted.operations === undefined ? {} : { operations: counted.operations }),
    }
    const limitError = caller?.limitError
    this.#resolve(
      limitError !== undefined && !(ending.type === 'error' && ending.error.kind === 'limit')
        ? { type: 'error', error: limitError, logs, stats }
        : { ...ending, logs, stats },
    )
    return this.outcome
  }

  /** Ends the run with `error`: `finish({ type: 'error', error })`. */
  fail(error: RunError): Promise<RunOutcome> {
    return this.finish({ type: 'error', error })
  }
}

/**
 * The runs of one session, as the contract pins them: one at a time in the order they were
 * started, as at a REPL (a run starts once every earlier one has settled); after `close` (the
 * session's `dispose`) the run in progress ends with a `SessionDisposedError` and later runs fail
 * with one; a run whose signal aborted before its turn ends as `aborted` without starting.
 *
 * @example
 * run(code, options = {}) { return this.#runs.add(options, (run) => this.#run(code, run)) }
 * async dispose() { if (this.#runs.close()) await this.#freeSandbox() }
 */
export class SessionRuns {
  readonly #options: Omit<RunRecorderOptions, 'signal' | 'onLog'>
  #tail: Promise<unknown> = Promise.resolve()
  #current: RunRecorder | undefined
  #closed = false

  constructor(options: Omit<RunRecorderOptions, 'signal' | 'onLog'>) {
    this.#options = options
  }

  /** True once `close` was called. */
  get closed(): boolean {
    return this.#closed
  }

  /** Queues a run; when its turn comes and it may start, `start` runs it with its recorder. */
  add(options: RunOptions, start: (recorder: RunRecorder) => Promise<RunOutcome>): Promise<RunOutcome> {
    const task = async () => {
      const { signal, onLog } = options
      const recorder = new RunRecorder({ ...this.#options, signal, onLog })
      if (this.#closed) return recorder.fail(sessionDisposedError(false))
      if (signal?.aborted) return recorder.fail(abortedRunError(false))
      this.#current = recorder
      try {
        return await start(recorder)
      } finally {
        this.#current = undefined
      }
    }
    const outcome = this.#tail.then(task)
    this.#tail = outcome.catch(() => {})
    return outcome
  }

  /** Closes the session's runs, ending the one in progress; true the first time, false after. */
  close(): boolean {
    if (this.#closed) return false
    this.#closed = true
    void this.#current?.fail(sessionDisposedError(true))
    return true
  }
}

/**
 * Prepares the code of a run (`prepareCodeAction`) and what `toRunEnding` will need of it, or gives
 * the `syntax` run error, with a code frame where the position is known, when it does not parse.
 */
export function prepareRun(
  code: string,
  options: { readonly importFunction: string; readonly maxValueBytes: number },
): { readonly context: RunEndingContext } | { readonly error: RunError } {
  try {
    const prepared = prepareCodeAction(code, { importFunction: options.importFunction })
    return { context: { code, prepared, maxValueBytes: options.maxValueBytes } }
  } catch (error) {
    if (!CodeSyntaxError.isInstance(error)) throw error
    return { error: syntaxRunError(error, code) }
  }
}

/**
 * What {@link prepareRun} gives for code it prepares, from {@link prepareCodeActionQuickly}'s reading,
 * or undefined when the code needs the full preparation. The executor must compile the script
 * before running any of it and, when it does not compile, call `prepareRun` for the error to report
 * or the script to run instead (TypeScript reads as such only there).
 */
export function prepareRunQuickly(
  code: string,
  options: { readonly importFunction: string; readonly maxValueBytes: number },
): RunEndingContext | undefined {
  const prepared = prepareCodeActionQuickly(code, { importFunction: options.importFunction })
  return prepared === undefined ? undefined : { code, prepared, maxValueBytes: options.maxValueBytes }
}

/** The `syntax` run error of `code` that does not parse, with a code frame where the position is known. */
export function syntaxRunError(error: CodeSyntaxError, code: string): RunError {
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

/** What `toRunEnding` needs of the run besides the sandbox's result. */
export interface RunEndingContext {
  /** The code as submitted, for code frames. */
  readonly code: string
  readonly prepared: PreparedCodeAction
  readonly maxValueBytes: number
}

/**
 * The ending of a run from what its sandbox reported. A value or final answer is copied into
 * host data within `maxValueBytes` (the sandbox already refused non-data; the copy enforces the
 * size and guards the host); an error thrown in the script gets its position in the submitted
 * code and a code frame.
 */
export function toRunEnding(result: SandboxRunResult, context: RunEndingContext): RunEnding {
  const { maxValueBytes } = context
  switch (result.type) {
    case 'value':
    case 'final': {
      const raw = result.type === 'value' ? result.value : result.answer
      const what = result.type === 'value' ? 'value' : 'answer'
      let data: Data
      try {
        data = toData(raw, { maxBytes: maxValueBytes, rootName: what })
      } catch (error) {
        if (!DataBoundaryError.isInstance(error)) throw error
        return { type: 'error', error: boundaryError(raw, what, error, maxValueBytes) }
      }
      return result.type === 'value' ? { type: 'value', value: data } : { type: 'final', answer: data }
    }
    case 'oversized':
      return { type: 'error', error: valueLimitError(result.what, maxValueBytes) }
    case 'error':
      return { type: 'error', error: locateError(result.error, context) }
  }
}

/** The `aborted` run error of a run the caller's signal ended. */
export function abortedRunError(sessionLost: boolean): RunError {
  return {
    kind: 'aborted',
    name: 'AbortError',
    message: 'The run was aborted by the caller.',
    ...(sessionLost ? { sessionLost } : {}),
  }
}

/** The error of a run that met a disposed session: started after `dispose`, or ended by it. */
export function sessionDisposedError(whileRunning: boolean): RunError {
  return whileRunning
    ? {
        kind: 'internal',
        name: 'SessionDisposedError',
        message: 'The session was disposed while the code was running.',
        sessionLost: true,
      }
    : {
        kind: 'internal',
        name: 'SessionDisposedError',
        message: 'The session was disposed; create a new session to run code.',
      }
}

function locateError(thrown: ThrownError, context: RunEndingContext): RunError {
  const { inScript, line, column, ...error } = thrown
  if (!inScript || line === undefined || column === undefined) return error
  const position = context.prepared.originalPosition(line, column)
  if (position === undefined) return error
  return { ...error, ...position, codeFrame: codeFrame(context.code, position.line, position.column) }
}

/** A value the host's copy refused: a limit error when only its size is the problem. */
function boundaryError(
  raw: unknown,
  what: 'value' | 'answer',
  error: DataBoundaryError,
  maxValueBytes: number,
): RunError {
  let fitsWithoutLimit = true
  try {
    toData(raw)
  } catch {
    fitsWithoutLimit = false
  }
  if (fitsWithoutLimit) return valueLimitError(what, maxValueBytes)
  return { kind: 'runtime', name: 'DataBoundaryError', message: error.message }
}

function valueLimitError(what: 'value' | 'answer', maxValueBytes: number): RunError {
  return {
    kind: 'limit',
    name: 'LimitError',
    limit: 'maxValueBytes',
    message: `The ${what === 'value' ? "code's last value" : 'final answer'} is larger than maxValueBytes (${maxValueBytes} bytes); return less data, e.g. a summary or a slice.`,
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
