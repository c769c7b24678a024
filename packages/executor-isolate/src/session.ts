import { randomUUID } from 'node:crypto'
import {
  CodeSyntaxError,
  codeFrame,
  type Data,
  DataBoundaryError,
  type ExecutorSession,
  InvalidDefinitionError,
  type Limits,
  type PreparedCodeAction,
  prepareCodeAction,
  type RunError,
  type RunOptions,
  type RunOutcome,
  type SessionOptions,
  assertUniqueToolNames,
  createToolCaller,
  resolveLimits,
  toData,
} from '@airlock/core'
import type { Connection, ConnectionLoss } from './connection.js'
import { SandboxStartError } from './errors.js'
import { resolveModulePlan } from './module-loader.js'
import type { RunResult, SandboxMessage, SandboxSetup, ThrownError } from './protocol.js'

const IMPORT_FUNCTION = '__airlock_import'
const identifier = /^[A-Za-z_$][\w$]*$/
/**
 * Past the deadline, how long a sandbox process may take to report the run before it is killed:
 * its own deadline (a timer and a disposed isolate) normally answers within milliseconds.
 */
const BACKSTOP_MS = 1_000
let nextKey = 1

type Ending =
  | { readonly type: 'value'; readonly value: Data }
  | { readonly type: 'final'; readonly answer: Data }
  | { readonly type: 'error'; readonly error: RunError }

export interface SessionEnvironment {
  /** Finds a live connection for the session's isolate (a new one after a crash). */
  connect(): Promise<Connection>
  /** Kills a connection that stopped answering (process isolation only). */
  kill?(connection: Connection, reason: string): void
  readonly moduleRoot: string
}

/** One session: an isolate with its context, reached through a connection. */
export class IsolateSession implements ExecutorSession {
  readonly id: string
  readonly #tools: SessionOptions['tools']
  readonly #limits: Limits
  readonly #setup: SandboxSetup
  readonly #environment: SessionEnvironment
  #key = 0
  #connection: Connection | undefined
  /** Set when the isolate died while no run was going; the next run reports it. */
  #lostWhileIdle: string | undefined
  #disposed = false
  #queue: Promise<unknown> = Promise.resolve()
  #nextRunId = 1
  /** The run in progress: where messages for it go, and how dispose ends it. */
  #active:
    | {
        onMessage(message: SandboxMessage): void
        onLost(loss: ConnectionLoss): void
        interrupt(error: RunError): void
      }
    | undefined

  constructor(options: SessionOptions, environment: SessionEnvironment) {
    this.id = options.sessionId ?? randomUUID()
    this.#environment = environment
    this.#limits = resolveLimits(options.limits)
    this.#tools = options.tools ?? []
    assertUniqueToolNames(this.#tools)
    const variables: Record<string, Data> = {}
    for (const [name, value] of Object.entries(options.variables ?? {})) {
      if (!identifier.test(name)) {
        throw new InvalidDefinitionError(
          `Variable name ${JSON.stringify(name)} is not a JavaScript identifier.`,
        )
      }
      variables[name] = toData(value, { rootName: `variables.${name}` })
    }
    this.#setup = {
      toolNames: this.#tools.map((tool) => tool.name),
      variables,
      memoryMb: this.#limits.memoryMb,
      maxOutputBytes: this.#limits.maxOutputBytes,
      maxValueBytes: this.#limits.maxValueBytes,
      importFunction: IMPORT_FUNCTION,
      modules: [...new Set(options.allowedModules ?? [])].map((name) =>
        resolveModulePlan(name, environment.moduleRoot),
      ),
    }
  }

  /** Opens the isolate, so a broken setup fails `createSession`, not the first run. */
  async open(): Promise<void> {
    const connection = await this.#environment.connect()
    const key = nextKey++
    await new Promise<void>((resolve, reject) => {
      connection.attach(key, {
        message: (message) => {
          if (message.type === 'opened') resolve()
          else if (message.type === 'open-failed') {
            connection.detach(key)
            reject(new SandboxStartError(`The session's isolate could not be set up: ${message.message}`))
          } else this.#active?.onMessage(message)
        },
        lost: (loss) => {
          reject(new SandboxStartError(`The session's isolate could not be set up: ${loss.message}.`))
          this.#onLost(connection, loss)
        },
      })
      connection.post({ type: 'open', key, setup: this.#setup })
    })
    this.#key = key
    this.#connection = connection
  }

  run(code: string, options: RunOptions = {}): Promise<RunOutcome> {
    // One run at a time: a second run waits for the first, as it would at a REPL.
    const outcome = this.#queue.then(() => this.#run(code, options))
    this.#queue = outcome.catch(() => {})
    return outcome
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    this.#active?.interrupt({
      kind: 'internal',
      name: 'SessionDisposedError',
      message: 'The session was disposed while the code was running.',
      sessionLost: true,
    })
    this.#release()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose()
  }

  #release(): void {
    const connection = this.#connection
    this.#connection = undefined
    if (connection === undefined) return
    connection.detach(this.#key)
    connection.post({ type: 'close', key: this.#key })
  }

  #onLost(connection: Connection, loss: ConnectionLoss): void {
    if (this.#connection !== connection) return
    this.#connection = undefined
    if (this.#active !== undefined) this.#active.onLost(loss)
    else this.#lostWhileIdle = loss.message
  }

  async #run(code: string, options: RunOptions): Promise<RunOutcome> {
    const { signal, onLog } = options
    const started = performance.now()
    const runController = new AbortController()
    const caller = createToolCaller({
      tools: this.#tools ?? [],
      sessionId: this.id,
      limits: this.#limits,
      signal: runController.signal,
    })
    let logs = ''
    const finish = (result: Ending): RunOutcome => {
      runController.abort()
      const stats = { durationMs: performance.now() - started, toolCalls: [...caller.records] }
      // A refused call past maxToolCalls ends the run even when the code caught its error.
      const limitError = caller.limitError
      if (limitError !== undefined && !(result.type === 'error' && result.error.kind === 'limit')) {
        return { type: 'error', error: limitError, logs, stats }
      }
      return { ...result, logs, stats }
    }
    const fail = (error: RunError) => finish({ type: 'error', error })

    if (this.#disposed) {
      return fail({
        kind: 'internal',
        name: 'SessionDisposedError',
        message: 'The session was disposed; create a new session to run code.',
      })
    }
    if (signal?.aborted) return fail(abortedError(false))
    if (this.#lostWhileIdle !== undefined) {
      const reason = this.#lostWhileIdle
      this.#lostWhileIdle = undefined
      return fail({
        kind: 'internal',
        name: 'SessionLostError',
        message: `The code did not run: ${reason}, and this session's state was lost with it (another session sharing the process may have caused it). Its variables are back to their initial values; run the code again.`,
        sessionLost: true,
      })
    }

    let prepared: PreparedCodeAction
    try {
      prepared = prepareCodeAction(code, { importFunction: IMPORT_FUNCTION })
    } catch (error) {
      if (!CodeSyntaxError.isInstance(error)) throw error
      return fail(syntaxError(code, error))
    }

    if (this.#connection === undefined) {
      try {
        await this.open()
      } catch (error) {
        return fail({
          kind: 'internal',
          name: 'SandboxStartError',
          message: error instanceof Error ? error.message : String(error),
          sessionLost: true,
        })
      }
      if (this.#disposed) {
        this.#release()
        return fail({ kind: 'internal', name: 'SessionDisposedError', message: 'The session was disposed.' })
      }
    }
    const connection = this.#connection!
    const key = this.#key
    const runId = this.#nextRunId++
    const limits = this.#limits

    return new Promise<RunOutcome>((resolve) => {
      let settled = false
      let backstop: ReturnType<typeof setTimeout> | undefined
      const settle = (ending: Ending) => {
        if (settled) return
        settled = true
        clearTimeout(backstop)
        signal?.removeEventListener('abort', onAbort)
        this.#active = undefined
        resolve(finish(ending))
      }
      const armBackstop = (ms: number) => {
        if (this.#environment.kill === undefined || !Number.isFinite(ms)) return
        clearTimeout(backstop)
        backstop = setTimeout(() => {
          this.#environment.kill!(connection, 'the sandbox process stopped answering and was killed')
        }, ms)
      }
      const onAbort = () => {
        connection.post({ type: 'stop', key, runId })
        armBackstop(BACKSTOP_MS)
      }
      this.#active = {
        onMessage: (message) => {
          if (!('runId' in message) || message.runId !== runId) return
          switch (message.type) {
            case 'log':
              logs += `${message.line}\n`
              try {
                onLog?.(message.line)
              } catch {
                // A failing listener must not fail the run: the line is in `logs` either way.
              }
              return
            case 'tool':
              void caller.call(message.name, message.args).then((outcome) => {
                if (settled) return
                connection.post({ type: 'tool-result', key, runId, callId: message.callId, outcome })
              })
              return
            case 'done':
              if (message.lost) {
                this.#connection = undefined
                connection.detach(key)
              }
              settle(toEnding(message.result, message.lost, code, prepared, limits, signal))
              return
          }
        },
        onLost: (loss) => {
          settle({
            type: 'error',
            error: loss.outOfMemory
              ? {
                  kind: 'limit',
                  name: 'LimitError',
                  limit: 'memoryMb',
                  message: `The code used more memory than the sandbox could contain (memoryMb ${limits.memoryMb} MB): ${loss.message}. The session's state was lost. Work on less data at a time.`,
                  sessionLost: true,
                }
              : {
                  kind: 'internal',
                  name: 'Error',
                  message: `The run ended: ${loss.message}.`,
                  sessionLost: true,
                },
          })
        },
        interrupt: (error) => settle({ type: 'error', error }),
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      armBackstop(limits.timeoutMs + BACKSTOP_MS)
      connection.post({
        type: 'run',
        key,
        runId,
        script: prepared.script,
        declaredNames: prepared.declaredNames,
        timeoutMs: limits.timeoutMs,
      })
    })
  }
}

function toEnding(
  result: RunResult,
  lost: boolean,
  code: string,
  prepared: PreparedCodeAction,
  limits: Limits,
  signal: AbortSignal | undefined,
): Ending {
  const sessionLost = lost ? { sessionLost: true } : {}
  switch (result.type) {
    case 'value':
    case 'final': {
      // The sandbox already refused non-data; this copy enforces the size and guards the host.
      const raw = result.type === 'value' ? result.value : result.answer
      let data: Data
      try {
        data = toData(raw, {
          maxBytes: limits.maxValueBytes,
          rootName: result.type === 'value' ? 'value' : 'answer',
        })
      } catch (error) {
        if (!DataBoundaryError.isInstance(error)) throw error
        return {
          type: 'error',
          error: { kind: 'runtime', name: 'DataBoundaryError', message: error.message },
        }
      }
      return result.type === 'value' ? { type: 'value', value: data } : { type: 'final', answer: data }
    }
    case 'oversized':
      return {
        type: 'error',
        error: {
          kind: 'limit',
          name: 'LimitError',
          limit: 'maxValueBytes',
          message: `The ${result.what === 'value' ? "code's last value" : 'final answer'} is larger than maxValueBytes (${limits.maxValueBytes} bytes); return less data, e.g. a summary or a slice.`,
        },
      }
    case 'error': {
      const error = locate(result.error, code, prepared)
      // An ArrayBuffer the isolate's heap limit refused: the isolate itself is fine.
      if (
        error.kind === 'runtime' &&
        error.name === 'RangeError' &&
        /array buffer allocation failed/i.test(error.message)
      ) {
        return {
          type: 'error',
          error: {
            ...error,
            kind: 'limit',
            name: 'LimitError',
            limit: 'memoryMb',
            message: `The code tried to allocate more memory than memoryMb (${limits.memoryMb} MB) allows (RangeError: ${error.message}). Work on less data at a time.`,
          },
        }
      }
      return { type: 'error', error: { ...error, ...sessionLost } }
    }
    case 'stopped':
      if (result.reason === 'stop' || signal?.aborted) return { type: 'error', error: abortedError(lost) }
      return {
        type: 'error',
        error: {
          kind: 'limit',
          name: 'LimitError',
          limit: 'timeoutMs',
          message: `The code ran longer than timeoutMs (${limits.timeoutMs} ms) and was stopped${lost ? "; the isolate had to be discarded, so the session's state was lost" : ''}. Do less per step, or avoid loops that never end.`,
          ...sessionLost,
        },
      }
    case 'memory':
      return {
        type: 'error',
        error: {
          kind: 'limit',
          name: 'LimitError',
          limit: 'memoryMb',
          message: `The code used more than memoryMb (${limits.memoryMb} MB) of memory; the isolate was discarded and the session's state was lost. Work on less data at a time.`,
          sessionLost: true,
        },
      }
  }
}

function locate(thrown: ThrownError, code: string, prepared: PreparedCodeAction): RunError {
  const { inScript, line, column, ...error } = thrown
  if (!inScript || line === undefined || column === undefined) return error
  const position = prepared.originalPosition(line, column)
  if (position === undefined) return error
  return { ...error, ...position, codeFrame: codeFrame(code, position.line, position.column) }
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

function abortedError(sessionLost: boolean): RunError {
  return {
    kind: 'aborted',
    name: 'AbortError',
    message: 'The run was aborted by the caller.',
    ...(sessionLost ? { sessionLost } : {}),
  }
}
