import type { Executor, ExecutorCapabilities, ExecutorSession, SessionOptions } from '@airlock/core'
import { LocalSession, sameThreadEnvironment } from './session.js'
import { takeInterpreter } from './spare-interpreter.js'
import { WorkerPool } from './worker-pool.js'
import { WorkerSession } from './worker-session.js'

/** Settings of the local executor. */
export interface LocalExecutorSettings {
  /**
   * Directory allowlisted packages are resolved from (as `require.resolve` would from a file
   * there). Default: `process.cwd()`.
   */
  readonly moduleDirectory?: string
  /**
   * Where sessions interpret code. `'main'` (the default): in the calling thread, created in
   * microseconds. `'worker'`: each session in a worker thread of its own, which costs a thread
   * start per session and a message per run and tool call, and adds what the main thread cannot
   * do: an abort that ends code which never yields, and a hard stop past `timeoutMs` (capability
   * `hardKill`). The worker's heap is also capped, at twice `memoryMb` plus 16 MB, which usually
   * ends a run that allocates too much with a limit error, but Node cannot promise it: allocating
   * large strings quickly can still end the process, so `memoryLimit` stays false. Tools run in
   * the main thread either way.
   */
  readonly thread?: 'main' | 'worker'
}

/**
 * Runs code actions in process, in a JavaScript interpreter written in JavaScript: acorn's AST is
 * compiled to closures over a separate sandbox realm whose code generation is disabled.
 *
 * In the main thread (the default), `hardKill` is false: the interpreter stops sandbox code at its
 * own checks (every loop back-edge and call), which ends `while (true) {}`, but it cannot preempt a
 * single long native call (a huge sort), and an abort signal cannot fire while code runs without
 * awaiting. `memoryLimit` is false: the sandbox shares the host heap. `thread: 'worker'` makes
 * `hardKill` true.
 */
export class LocalExecutor implements Executor {
  readonly specificationVersion = 'executor-v1'
  readonly kind = 'local'
  readonly capabilities: ExecutorCapabilities
  readonly #moduleDirectory: string | undefined
  readonly #thread: 'main' | 'worker'

  constructor(settings: LocalExecutorSettings = {}) {
    this.#moduleDirectory = settings.moduleDirectory
    this.#thread = settings.thread ?? 'main'
    if (this.#thread !== 'main' && this.#thread !== 'worker') {
      throw new TypeError(`thread must be 'main' or 'worker', got ${JSON.stringify(settings.thread)}.`)
    }
    const inWorker = this.#thread === 'worker'
    this.capabilities = {
      stateful: true,
      hardKill: inWorker,
      memoryLimit: false,
      operationLimit: true,
      network: false,
      toolsRunOn: 'host',
    }
  }

  async createSession(options: SessionOptions = {}): Promise<ExecutorSession> {
    const moduleDirectory = this.#moduleDirectory ?? process.cwd()
    if (this.#thread === 'worker') {
      return WorkerSession.open(options, moduleDirectory, workerPool())
    }
    return new LocalSession(options, sameThreadEnvironment(options, moduleDirectory), takeInterpreter())
  }
}

/**
 * The worker threads of every executor in the process, made at the first session in a worker (a
 * constructor starts nothing). One pool, so that one spare worker at most waits for a session,
 * however many executors are made: a worker, unlike an unused realm, is never collected.
 */
let sharedWorkerPool: WorkerPool | undefined
const workerPool = (): WorkerPool => (sharedWorkerPool ??= new WorkerPool())

/**
 * Creates the in-process interpreter executor.
 *
 * @example
 * const executor = createLocalExecutor()
 * await using session = await executor.createSession({ tools: [weather] })
 * const outcome = await session.run('const w = await get_weather({ city: "Oslo" })\nw.tempC')
 */
export function createLocalExecutor(settings: LocalExecutorSettings = {}): LocalExecutor {
  return new LocalExecutor(settings)
}
