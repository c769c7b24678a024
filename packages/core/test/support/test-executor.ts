import { randomUUID } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { codeFrame, prepareCodeAction } from '../../src/code-action.js'
import { type Data, toData } from '../../src/data.js'
import { CodeSyntaxError, DataBoundaryError, InvalidDefinitionError } from '../../src/errors.js'
import type {
  Executor,
  ExecutorSession,
  RunError,
  RunOptions,
  RunOutcome,
  SessionOptions,
} from '../../src/executor.js'
import { type Limits, resolveLimits } from '../../src/limits.js'
import type { ImportFixture } from '../../src/testing/contract.js'
import { createToolCaller } from '../../src/tool-calls.js'
import { assertUniqueToolNames } from '../../src/tool.js'
import type {
  HostMessage,
  RunResult,
  ThrownError,
  WorkerMessage,
  WorkerSetup,
} from './test-executor-worker.js'

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

const identifier = /^[A-Za-z_$][\w$]*$/

class TestSession implements ExecutorSession {
  readonly id: string
  readonly #options: SessionOptions
  readonly #limits: Limits
  readonly #setup: WorkerSetup
  #live: LiveWorker | undefined
  #disposed = false
  #queue: Promise<unknown> = Promise.resolve()
  #nextRunId = 1
  /** Ends the run in progress (if any) with the given error, for dispose. */
  #interrupt: ((error: RunError) => void) | undefined

  constructor(options: SessionOptions) {
    this.id = options.sessionId ?? randomUUID()
    this.#options = options
    this.#limits = resolveLimits(options.limits)
    const tools = options.tools ?? []
    assertUniqueToolNames(tools)
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
      toolNames: tools.map((tool) => tool.name),
      allowedModules: [...(options.allowedModules ?? [])],
      variables,
      maxOutputBytes: this.#limits.maxOutputBytes,
      importFunction: IMPORT_FUNCTION,
    }
  }

  /** Starts the first worker, so a broken setup fails `createSession`, not the first run. */
  async start(): Promise<void> {
    await this.#worker().ready
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
    this.#interrupt?.({
      kind: 'internal',
      name: 'SessionDisposedError',
      message: 'The session was disposed while the code was running.',
      sessionLost: true,
    })
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

  async #run(code: string, options: RunOptions): Promise<RunOutcome> {
    const { signal, onLog } = options
    const started = performance.now()
    const runController = new AbortController()
    const caller = createToolCaller({
      tools: this.#options.tools ?? [],
      sessionId: this.id,
      limits: this.#limits,
      signal: runController.signal,
    })
    let logs = ''
    const finish = (
      result:
        | { type: 'value'; value: Data }
        | { type: 'final'; answer: Data }
        | { type: 'error'; error: RunError },
    ): RunOutcome => {
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

    let prepared: ReturnType<typeof prepareCodeAction>
    try {
      prepared = prepareCodeAction(code, { importFunction: IMPORT_FUNCTION })
    } catch (error) {
      if (!CodeSyntaxError.isInstance(error)) throw error
      return finish({ type: 'error', error: syntaxError(code, error) })
    }

    const live = this.#worker()
    try {
      await live.ready
    } catch (error) {
      this.#kill(live)
      return finish({
        type: 'error',
        error: {
          kind: 'internal',
          name: 'Error',
          message: `The sandbox worker failed to start: ${String(error)}`,
        },
      })
    }

    const runId = this.#nextRunId++
    const { worker } = live
    const limits = this.#limits

    return new Promise<RunOutcome>((resolve) => {
      let settled = false
      const settle = (result: Parameters<typeof finish>[0]) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        worker.off('message', onMessage)
        worker.off('error', onError)
        worker.off('exit', onExit)
        this.#interrupt = undefined
        resolve(finish(result))
      }
      const fail = (error: RunError) => settle({ type: 'error', error })
      const lose = (error: RunError) => {
        this.#kill(live)
        fail({ ...error, sessionLost: true })
      }

      const onMessage = (message: WorkerMessage) => {
        if (message.type === 'ready' || message.runId !== runId) return
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
              const reply: HostMessage = outcome.ok
                ? { type: 'tool-result', runId, callId: message.callId, ok: true, value: outcome.value }
                : { type: 'tool-result', runId, callId: message.callId, ok: false, error: outcome.error }
              worker.postMessage(reply)
            })
            return
          case 'done':
            settle(this.#toOutcome(message.result, code, prepared, limits))
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
      const onAbort = () => lose(abortedError(true))

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
      signal?.addEventListener('abort', onAbort, { once: true })
      worker.on('message', onMessage)
      worker.on('error', onError)
      worker.on('exit', onExit)
      this.#interrupt = fail
      const message: HostMessage = {
        type: 'run',
        runId,
        script: prepared.script,
        declaredNames: prepared.declaredNames,
      }
      worker.postMessage(message)
    })
  }

  #toOutcome(
    result: RunResult,
    code: string,
    prepared: ReturnType<typeof prepareCodeAction>,
    limits: Limits,
  ): { type: 'value'; value: Data } | { type: 'final'; answer: Data } | { type: 'error'; error: RunError } {
    switch (result.type) {
      case 'value':
      case 'final': {
        // The worker already refused non-data; this copy enforces the size and guards the host.
        const raw = result.type === 'value' ? result.value : result.answer
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
        return { type: 'error', error: locate(result.error, code, prepared) }
    }
  }
}

function locate(thrown: ThrownError, code: string, prepared: ReturnType<typeof prepareCodeAction>): RunError {
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

function boundaryError(raw: unknown, rootName: string, error: DataBoundaryError, limits: Limits): RunError {
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

function abortedError(sessionLost: boolean): RunError {
  return {
    kind: 'aborted',
    name: 'AbortError',
    message: 'The run was aborted by the caller.',
    ...(sessionLost ? { sessionLost } : {}),
  }
}
