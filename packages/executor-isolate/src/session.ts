import { randomUUID } from 'node:crypto'
import {
  abortedRunError,
  copySessionVariables,
  type ExecutorSession,
  type Limits,
  prepareRun,
  prepareRunQuickly,
  type RunEnding,
  type RunEndingContext,
  type RunOptions,
  type RunOutcome,
  type RunRecorder,
  type SessionOptions,
  SessionRuns,
  assertUniqueToolNames,
  resolveLimits,
  toRunEnding,
} from '@airlock/core'
import type { Connection, ConnectionLoss } from './connection.js'
import { SandboxStartError } from './errors.js'
import { resolveModulePlan } from './module-loader.js'
import type { RunResult, SandboxMessage, SandboxSetup } from './protocol.js'

const IMPORT_FUNCTION = '__airlock_import'
/**
 * Past the deadline, how long a sandbox process may take to report the run before it is killed:
 * its own deadline (a timer and a disposed isolate) normally answers within milliseconds.
 */
const BACKSTOP_MS = 1_000
let nextKey = 1

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
  readonly #limits: Limits
  readonly #setup: SandboxSetup
  readonly #environment: SessionEnvironment
  #key = 0
  #connection: Connection | undefined
  /** Set when the isolate died while no run was going; the next run reports it. */
  #lostWhileIdle: string | undefined
  readonly #runs: SessionRuns
  #nextRunId = 1
  /** The run in progress: where messages for it go. */
  #active:
    | {
        onMessage(message: SandboxMessage): void
        onLost(loss: ConnectionLoss): void
      }
    | undefined

  constructor(options: SessionOptions, environment: SessionEnvironment) {
    this.id = options.sessionId ?? randomUUID()
    this.#environment = environment
    this.#limits = resolveLimits(options.limits)
    const tools = options.tools ?? []
    assertUniqueToolNames(tools)
    this.#runs = new SessionRuns({ tools, sessionId: this.id, limits: this.#limits })
    this.#setup = {
      toolNames: tools.map((tool) => tool.name),
      variables: copySessionVariables(options.variables),
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
    return this.#runs.add(options, (run) => this.#run(code, run, options.signal))
  }

  async dispose(): Promise<void> {
    if (this.#runs.close()) this.#release()
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

  async #run(code: string, run: RunRecorder, signal: AbortSignal | undefined): Promise<RunOutcome> {
    const limits = this.#limits
    if (this.#lostWhileIdle !== undefined) {
      const reason = this.#lostWhileIdle
      this.#lostWhileIdle = undefined
      return run.fail({
        kind: 'internal',
        name: 'SessionLostError',
        message: `The code did not run: ${reason}, and this session's state was lost with it (another session sharing the process may have caused it). Its variables are back to their initial values; run the code again.`,
        sessionLost: true,
      })
    }

    const preparationOptions = { importFunction: IMPORT_FUNCTION, maxValueBytes: limits.maxValueBytes }
    // The quick reading skips the full parse, which costs about a third of what a typical step
    // takes to run; the sandbox compiles its script before running any of it, and answers
    // `uncompiled` when it does not compile (TypeScript, a syntax error): then the code is
    // prepared in full.
    let context = prepareRunQuickly(code, preparationOptions)
    const quick = context !== undefined
    if (context === undefined) {
      const preparation = prepareFully(code, preparationOptions)
      if ('error' in preparation) return run.fail(preparation.error)
      context = preparation.context
    }

    if (this.#connection === undefined) {
      try {
        await this.open()
      } catch (error) {
        return run.fail({
          kind: 'internal',
          name: 'SandboxStartError',
          message: error instanceof Error ? error.message : String(error),
          sessionLost: true,
        })
      }
      // Disposed while the isolate was opening: dispose ended the run, the isolate goes too.
      if (this.#runs.closed) {
        this.#release()
        return run.outcome
      }
    }
    const connection = this.#connection!
    const key = this.#key
    let runId = this.#nextRunId++
    const settle = (ending: RunEnding) => void run.finish(ending)
    const post = (prepared: RunEndingContext['prepared'], quick: boolean) => {
      connection.post({
        type: 'run',
        key,
        runId,
        script: prepared.script,
        declaredNames: prepared.declaredNames,
        timeoutMs: limits.timeoutMs,
        quick,
      })
    }

    let backstop: ReturnType<typeof setTimeout> | undefined
    const armBackstop = (ms: number) => {
      if (this.#environment.kill === undefined || !Number.isFinite(ms)) return
      clearTimeout(backstop)
      backstop = setTimeout(() => {
        this.#environment.kill!(connection, 'the sandbox process stopped answering and was killed')
      }, ms)
    }
    this.#active = {
      onMessage: (message) => {
        if (!('runId' in message) || message.runId !== runId) return
        switch (message.type) {
          case 'log':
            run.output.add(message.line)
            return
          case 'truncated':
            run.output.truncate()
            return
          case 'tool':
            run.callTool(message.name, message.args, (outcome) => {
              connection.post({ type: 'tool-result', key, runId, callId: message.callId, outcome })
            })
            return
          case 'done': {
            if (message.result.type === 'uncompiled') {
              // An abort during the attempt stopped a run that had already ended: none goes on.
              if (signal?.aborted) {
                settle({ type: 'error', error: abortedRunError(false) })
                return
              }
              const preparation = prepareFully(code, preparationOptions)
              if ('error' in preparation) {
                settle({ type: 'error', error: preparation.error })
                return
              }
              // Nothing ran (the attempt only compiled): the full script gets the whole timeoutMs.
              context = preparation.context
              runId = this.#nextRunId++
              post(context.prepared, false)
              return
            }
            if (message.lost) {
              this.#connection = undefined
              connection.detach(key)
            }
            settle(toEnding(message.result, message.lost, context!, limits, signal))
            return
          }
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
    }
    run.onFinish(() => {
      clearTimeout(backstop)
      this.#active = undefined
    })
    run.onAbort(() => {
      connection.post({ type: 'stop', key, runId })
      armBackstop(BACKSTOP_MS)
    })
    armBackstop(limits.timeoutMs + BACKSTOP_MS)
    post(context.prepared, quick)
    return run.outcome
  }
}

/**
 * `prepareRun`, whose exceptions (none are known) become the run's internal error: in a message
 * handler, one would escape to the connection, and from a child's message end the host.
 */
function prepareFully(
  code: string,
  options: Parameters<typeof prepareRun>[1],
): ReturnType<typeof prepareRun> {
  try {
    return prepareRun(code, options)
  } catch (error) {
    return {
      error: {
        kind: 'internal',
        name: 'Error',
        message: `The code could not be prepared: ${error instanceof Error ? error.message : String(error)}`,
      },
    }
  }
}

function toEnding(
  result: Exclude<RunResult, { type: 'uncompiled' }>,
  lost: boolean,
  context: RunEndingContext,
  limits: Limits,
  signal: AbortSignal | undefined,
): RunEnding {
  const sessionLost = lost ? { sessionLost: true } : {}
  switch (result.type) {
    case 'stopped':
      if (result.reason === 'stop' || signal?.aborted) return { type: 'error', error: abortedRunError(lost) }
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
  const ending = toRunEnding(result, context)
  if (result.type !== 'error' || ending.type !== 'error') return ending
  const { error } = ending
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
