import { randomUUID } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import {
  abortedRunError,
  assertUniqueToolNames,
  copySessionVariables,
  type ExecutorSession,
  type Limits,
  type RunError,
  type RunOptions,
  type RunOutcome,
  type RunRecorder,
  resolveLimits,
  SessionRuns,
  type SessionOptions,
  type Tool,
} from '@airlock/core'
import type { WorkerPool } from './worker-pool.js'
import type { MainMessage, WorkerMessage, WorkerSetup } from './worker-protocol.js'

/**
 * How long a run may go on after its deadline or its abort before the worker is terminated. The
 * interpreter stops at its next limit check, within microseconds, unless one built-in call (a
 * long sort) is still running.
 */
const GRACE_MS = 500

/** A worker thread running one session's interpreter. */
interface LiveWorker {
  readonly worker: Worker
  /** Settles once the worker built its session. */
  readonly ready: Promise<void>
  /** The session was built: losing the worker now loses its state. */
  opened: boolean
}

/**
 * A session whose interpreter runs in a worker thread of its own. Tools still run here, in the
 * main thread. The thread makes possible what the main thread cannot do: aborting code that never
 * yields (a host timer cannot fire while the main thread interprets), a hard stop after the
 * deadline, and a heap limit of twice `memoryMb` plus 16 MB. A lost worker takes the session's
 * state with it; the next run starts from the initial variables.
 */
export class WorkerSession implements ExecutorSession {
  readonly id: string
  readonly #limits: Limits
  readonly #setup: Omit<WorkerSetup, 'abortFlag'>
  readonly #runs: SessionRuns
  readonly #pool: WorkerPool
  readonly #abortFlag = new Int32Array(new SharedArrayBuffer(4))
  #live: LiveWorker | undefined
  /** The worker stopped while no run was going: the next run is told, instead of running. */
  #lostWhileIdle = false
  #current: { readonly runId: number; readonly recorder: RunRecorder } | undefined
  #runIds = 0

  private constructor(options: SessionOptions, moduleDirectory: string, pool: WorkerPool) {
    this.#pool = pool
    const tools: readonly Tool[] = options.tools ?? []
    assertUniqueToolNames(tools)
    this.id = options.sessionId ?? randomUUID()
    this.#limits = resolveLimits(options.limits)
    this.#setup = {
      sessionId: this.id,
      limits: this.#limits,
      allowedModules: [...(options.allowedModules ?? [])],
      variables: copySessionVariables(options.variables),
      toolNames: tools.map((tool) => tool.name),
      moduleDirectory,
    }
    // The worker caps the output it sends, so lines arrive within maxOutputBytes already.
    this.#runs = new SessionRuns({
      tools,
      sessionId: this.id,
      limits: { ...this.#limits, maxOutputBytes: Number.POSITIVE_INFINITY },
    })
  }

  /** Starts the session's worker and waits until it is ready to run code. */
  static async open(
    options: SessionOptions,
    moduleDirectory: string,
    pool: WorkerPool,
  ): Promise<WorkerSession> {
    const session = new WorkerSession(options, moduleDirectory, pool)
    await session.#start().ready
    return session
  }

  run(code: string, options: RunOptions = {}): Promise<RunOutcome> {
    return this.#runs.add(options, (recorder) => this.#run(code, recorder))
  }

  async dispose(): Promise<void> {
    if (!this.#runs.close()) return
    const live = this.#live
    this.#live = undefined
    await live?.worker.terminate()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose()
  }

  #start(): LiveWorker {
    const { memoryMb } = this.#limits
    const { worker, booted } = this.#pool.take(memoryMb)
    const ready = booted.then(
      () =>
        new Promise<void>((resolve, reject) => {
          const onOpenMessage = (message: WorkerMessage) => {
            if (message.type === 'ready') {
              worker.off('message', onOpenMessage)
              resolve()
            } else if (message.type === 'open-failed') {
              void worker.terminate()
              const error = new Error(message.message)
              error.name = message.name
              reject(error)
            }
          }
          worker.on('message', onOpenMessage)
          worker.once('error', reject)
          worker.once('exit', (code) =>
            reject(new Error(`The worker exited with code ${code} while opening the session.`)),
          )
          worker.postMessage({
            type: 'open',
            setup: { ...this.#setup, abortFlag: this.#abortFlag },
          } satisfies MainMessage)
        }),
    )
    const live: LiveWorker = { worker, ready, opened: false }
    void ready.then(
      () => {
        live.opened = true
        // An idle session does not keep the process alive, as a session in the main thread would not.
        if (this.#current === undefined) worker.unref()
        this.#pool.prepare(memoryMb)
      },
      () => {},
    )
    worker.on('message', (message: WorkerMessage) => this.#receive(live, message))
    worker.on('error', (error: Error & { code?: string }) =>
      this.#lose(
        live,
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? {
              kind: 'limit',
              name: 'LimitError',
              limit: 'memoryMb',
              message: `The code used more than memoryMb (${memoryMb} MB) of memory; its worker was stopped and the session's state was lost. Work on less data at a time.`,
              sessionLost: true,
            }
          : {
              kind: 'internal',
              name: 'Error',
              message: `The session's worker failed: ${error.message}. The session's state was lost.`,
              sessionLost: true,
            },
      ),
    )
    worker.on('exit', () =>
      this.#lose(live, {
        kind: 'internal',
        name: 'Error',
        message: "The session's worker exited. The session's state was lost.",
        sessionLost: true,
      }),
    )
    this.#live = live
    return live
  }

  async #run(code: string, recorder: RunRecorder): Promise<RunOutcome> {
    if (this.#lostWhileIdle) {
      this.#lostWhileIdle = false
      return recorder.fail({
        kind: 'internal',
        name: 'Error',
        message:
          "The code did not run: the session's worker stopped between runs, and the session's state was lost with it. Its variables are back to their initial values; run the code again.",
        sessionLost: true,
      })
    }
    const live = this.#live ?? this.#start()
    try {
      await live.ready
    } catch (error) {
      return recorder.fail({
        kind: 'internal',
        name: 'Error',
        message: `The session's worker could not start: ${error instanceof Error ? error.message : String(error)}`,
      })
    }
    if (recorder.finished) return recorder.outcome

    const runId = ++this.#runIds
    this.#current = { runId, recorder }
    live.worker.ref()
    recorder.onFinish(() => {
      if (this.#current?.recorder === recorder) this.#current = undefined
      live.worker.unref()
    })
    Atomics.store(this.#abortFlag, 0, 0)
    this.#post(live, { type: 'run', runId, code })

    // Past the deadline or an abort, the interpreter gets GRACE_MS to stop at a limit check.
    const stopAfterGrace = (error: RunError) => {
      const timer = setTimeout(() => this.#terminate(live, error), GRACE_MS)
      recorder.onFinish(() => clearTimeout(timer))
    }
    recorder.onAbort(() => {
      Atomics.store(this.#abortFlag, 0, 1)
      this.#post(live, { type: 'abort', runId })
      stopAfterGrace(abortedRunError(true))
    })
    const { timeoutMs } = this.#limits
    if (Number.isFinite(timeoutMs)) {
      const timer = setTimeout(
        () =>
          stopAfterGrace({
            kind: 'limit',
            name: 'LimitError',
            limit: 'timeoutMs',
            message: `The code ran longer than timeoutMs (${timeoutMs} ms) and did not stop at the deadline; its worker was stopped and the session's state was lost. Do less per step.`,
            sessionLost: true,
          }),
        timeoutMs,
      )
      recorder.onFinish(() => clearTimeout(timer))
    }
    return recorder.outcome
  }

  #receive(live: LiveWorker, message: WorkerMessage): void {
    const run = this.#current
    if (live !== this.#live || run === undefined || !('runId' in message) || message.runId !== run.runId)
      return
    const { recorder, runId } = run
    switch (message.type) {
      case 'log':
        recorder.output.add(message.line)
        return
      case 'tool':
        recorder.callCopiedTool(message.name, message.copy, (outcome) =>
          this.#post(live, { type: 'tool-result', runId, callId: message.callId, outcome }),
        )
        return
      case 'done': {
        const { outcome } = message
        const counted = { operations: outcome.stats.operations }
        if (outcome.type === 'value') void recorder.finish({ type: 'value', value: outcome.value }, counted)
        else if (outcome.type === 'final')
          void recorder.finish({ type: 'final', answer: outcome.answer }, counted)
        else void recorder.finish({ type: 'error', error: outcome.error }, counted)
        return
      }
    }
  }

  #post(live: LiveWorker, message: MainMessage): void {
    if (live === this.#live) live.worker.postMessage(message)
  }

  /** Ends the worker of a run that would not stop; the run ends with `error`. */
  #terminate(live: LiveWorker, error: RunError): void {
    this.#lose(live, error)
    void live.worker.terminate()
  }

  /** The worker is gone: the run in progress ends with `error`, the next run starts a new one. */
  #lose(live: LiveWorker, error: RunError): void {
    if (live !== this.#live) return
    this.#live = undefined
    const run = this.#current
    if (run !== undefined) void run.recorder.fail(error)
    else if (live.opened) this.#lostWhileIdle = true
  }
}
