import { randomUUID } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import type {
  Executor,
  ExecutorSession,
  RunError,
  RunOptions,
  RunOutcome,
  SessionOptions,
} from '../../src/executor.js'
import { type Limits, resolveLimits } from '../../src/limits.js'
import {
  abortedRunError,
  copySessionVariables,
  prepareRun,
  type RunRecorder,
  SessionRuns,
  toRunEnding,
} from '../../src/run-support.js'
import { sandboxRuntimeSource } from '../../src/sandbox-runtime.js'
import type { ImportFixture } from '../../src/testing/contract.js'
import { assertUniqueToolNames } from '../../src/tool.js'
import type { HostMessage, WorkerMessage, WorkerSetup } from './test-executor-worker.js'

const IMPORT_FUNCTION = '__airlock_import'

/** The module the test executor can load when it is allowlisted, for the contract's import case. */
export const testExecutorImportFixture: ImportFixture = {
  module: 'airlock-test-fixture',
  exportName: 'add',
  args: [2, 3],
  expected: 5,
}

/**
 * A real executor for trusted code, for core's own tests: each session is a worker thread running a
 * fresh `node:vm` realm (no code generation from strings), tools run on the host, and limits are
 * enforced by terminating the worker. `node:vm` is not a security boundary, hence `network: true`.
 *
 * @example
 * const session = await createTestExecutor().createSession({ tools: [weather] })
 * await session.run('await get_weather({ city: "Oslo" })')
 */
export function createTestExecutor(): Executor {
  return {
    specificationVersion: 'executor-v1',
    kind: 'test',
    capabilities: {
      stateful: true,
      hardKill: true,
      memoryLimit: true,
      operationLimit: false,
      network: true,
      toolsRunOn: 'host',
    },
    async createSession(options: SessionOptions = {}) {
      const session = new TestSession(options)
      await session.start()
      return session
    },
  }
}

interface LiveWorker {
  readonly worker: Worker
  readonly ready: Promise<void>
}

class TestSession implements ExecutorSession {
  readonly id: string
  readonly #limits: Limits
  readonly #setup: WorkerSetup
  readonly #runs: SessionRuns
  #live: LiveWorker | undefined
  #nextRunId = 1

  constructor(options: SessionOptions) {
    this.id = options.sessionId ?? randomUUID()
    this.#limits = resolveLimits(options.limits)
    const tools = options.tools ?? []
    assertUniqueToolNames(tools)
    this.#runs = new SessionRuns({ tools, sessionId: this.id, limits: this.#limits })
    this.#setup = {
      toolNames: tools.map((tool) => tool.name),
      allowedModules: [...(options.allowedModules ?? [])],
      variables: copySessionVariables(options.variables),
      maxOutputBytes: this.#limits.maxOutputBytes,
      maxValueBytes: this.#limits.maxValueBytes,
      importFunction: IMPORT_FUNCTION,
      runtimeSource: sandboxRuntimeSource(),
    }
  }

  /** Starts the first worker, so a broken setup fails `createSession`, not the first run. */
  async start(): Promise<void> {
    await this.#worker().ready
  }

  run(code: string, options: RunOptions = {}): Promise<RunOutcome> {
    return this.#runs.add(options, (run) => this.#run(code, run))
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

  #worker(): LiveWorker {
    if (this.#live !== undefined) return this.#live
    const { memoryMb } = this.#limits
    const worker = new Worker(new URL('./test-executor-worker.ts', import.meta.url), {
      workerData: this.#setup,
      ...(Number.isFinite(memoryMb) ? { resourceLimits: { maxOldGenerationSizeMb: memoryMb } } : {}),
    })
    const ready = new Promise<void>((resolve, reject) => {
      const onExit = (exitCode: number) => reject(new Error(`the worker exited with code ${exitCode}`))
      const onMessage = (message: WorkerMessage) => {
        if (message.type !== 'ready') return
        worker.off('error', reject)
        worker.off('exit', onExit)
        worker.off('message', onMessage)
        resolve()
      }
      worker.on('message', onMessage)
      worker.once('error', reject)
      worker.once('exit', onExit)
    })
    const live = { worker, ready }
    // Between runs nobody else listens: an unheard 'error' event would crash the host.
    worker.on('error', () => {})
    worker.once('exit', () => {
      if (this.#live === live) this.#live = undefined
    })
    this.#live = live
    return live
  }

  /** Kills the worker; the next run starts a fresh one with the initial variables. */
  #kill(live: LiveWorker): void {
    if (this.#live === live) this.#live = undefined
    void live.worker.terminate()
  }

  async #run(code: string, run: RunRecorder): Promise<RunOutcome> {
    const preparation = prepareRun(code, {
      importFunction: IMPORT_FUNCTION,
      maxValueBytes: this.#limits.maxValueBytes,
    })
    if ('error' in preparation) return run.fail(preparation.error)
    const { context } = preparation
    const { prepared } = context

    const live = this.#worker()
    try {
      await live.ready
    } catch (error) {
      this.#kill(live)
      return run.fail({
        kind: 'internal',
        name: 'Error',
        message: `The sandbox worker failed to start: ${String(error)}`,
      })
    }

    const runId = this.#nextRunId++
    const { worker } = live
    const limits = this.#limits
    const lose = (error: RunError) => {
      this.#kill(live)
      void run.fail({ ...error, sessionLost: true })
    }
    const onMessage = (message: WorkerMessage) => {
      if (message.type === 'ready' || message.runId !== runId) return
      switch (message.type) {
        case 'log':
          run.output.add(message.line)
          return
        case 'truncated':
          run.output.truncate()
          return
        case 'tool':
          run.callTool(message.name, message.args, (outcome) => {
            const reply: HostMessage = outcome.ok
              ? { type: 'tool-result', runId, callId: message.callId, ok: true, value: outcome.value }
              : { type: 'tool-result', runId, callId: message.callId, ok: false, error: outcome.error }
            worker.postMessage(reply)
          })
          return
        case 'done':
          void run.finish(toRunEnding(message.result, context))
          return
      }
    }
    const onError = (error: Error & { code?: string }) => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        lose({
          kind: 'limit',
          name: 'LimitError',
          limit: 'memoryMb',
          message: `The code used more than memoryMb (${limits.memoryMb} MB) of memory; its session state was lost. Work on less data at a time.`,
        })
      } else {
        lose({ kind: 'internal', name: 'Error', message: `The sandbox worker crashed: ${error.message}` })
      }
    }
    const onExit = (exitCode: number) =>
      lose({ kind: 'internal', name: 'Error', message: `The sandbox worker exited (code ${exitCode}).` })

    const timer = Number.isFinite(limits.timeoutMs)
      ? setTimeout(
          () =>
            lose({
              kind: 'limit',
              name: 'LimitError',
              limit: 'timeoutMs',
              message: `The code ran longer than timeoutMs (${limits.timeoutMs} ms) and was stopped; its session state was lost. Do less per step, or avoid loops that never end.`,
            }),
          limits.timeoutMs,
        )
      : undefined
    run.onAbort(() => lose(abortedRunError(true)))
    worker.on('message', onMessage)
    worker.on('error', onError)
    worker.on('exit', onExit)
    run.onFinish(() => {
      clearTimeout(timer)
      worker.off('message', onMessage)
      worker.off('error', onError)
      worker.off('exit', onExit)
    })
    const message: HostMessage = {
      type: 'run',
      runId,
      script: prepared.script,
      declaredNames: prepared.declaredNames,
    }
    worker.postMessage(message)
    return run.outcome
  }
}
