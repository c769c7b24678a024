import type { Executor, ExecutorCapabilities, ExecutorSession, SessionOptions } from '@airlock/core'
import { type Connection, type ChildConnection, InProcessConnection, ProcessPool } from './connection.js'
import { MissingNodeFlagError } from './errors.js'
import { IsolateSession } from './session.js'

export interface IsolateExecutorSettings {
  /**
   * Where isolates run.
   * - `'process'` (default): in a small pool of child processes started with `--no-node-snapshot`.
   *   Allocation patterns that make V8 abort (a `Map` grown past the memory limit, `Array(n).fill`)
   *   kill only a child: its runs end with a `memoryMb` limit error and the host lives on. Tools still
   *   run in this process. Costs an IPC hop per run and per tool call, and 60 MB or more RSS per child.
   * - `'in-process'`: isolates in this process, for speed. Needs node started with
   *   `--no-node-snapshot`, and one of those allocation patterns aborts the whole host process.
   */
  readonly isolation?: 'process' | 'in-process'
  /** How many child processes sessions are spread over (`isolation: 'process'`). Default 2. */
  readonly processes?: number
  /** A child process without sessions exits after this long. Default 10 s. */
  readonly idleTimeoutMs?: number
  /** Directory from which allowlisted modules are resolved (its `node_modules` and those above). Default `process.cwd()`. */
  readonly moduleRoot?: string
}

/**
 * Runs code actions in V8 isolates (isolated-vm), one isolate with its own heap per session.
 *
 * @example
 * await using executor = createIsolateExecutor()
 * await using session = await executor.createSession({ tools: [weather], limits: { memoryMb: 64 } })
 * const outcome = await session.run('const w = await get_weather({ city: "Oslo" })\nw.tempC')
 */
export class IsolateExecutor implements Executor, AsyncDisposable {
  readonly specificationVersion = 'executor-v1'
  readonly kind = 'isolate'
  readonly capabilities: ExecutorCapabilities = Object.freeze({
    stateful: true,
    hardKill: true,
    memoryLimit: true,
    operationLimit: false,
    network: false,
    toolsRunOn: 'host',
  })
  readonly isolation: 'process' | 'in-process'
  readonly #moduleRoot: string
  readonly #pool: ProcessPool | undefined
  #inProcess: Promise<InProcessConnection> | undefined

  constructor(settings: IsolateExecutorSettings = {}) {
    const {
      isolation = 'process',
      processes = 2,
      idleTimeoutMs = 10_000,
      moduleRoot = process.cwd(),
    } = settings
    this.isolation = isolation
    this.#moduleRoot = moduleRoot
    if (isolation === 'in-process' && !hasNoNodeSnapshotFlag()) throw new MissingNodeFlagError()
    this.#pool = isolation === 'process' ? new ProcessPool(Math.max(1, processes), idleTimeoutMs) : undefined
  }

  async createSession(options: SessionOptions = {}): Promise<ExecutorSession> {
    const pool = this.#pool
    const session = new IsolateSession(options, {
      moduleRoot: this.#moduleRoot,
      connect: () =>
        pool === undefined ? (this.#inProcess ??= InProcessConnection.create()) : pool.acquire(),
      ...(pool === undefined
        ? {}
        : { kill: (connection: Connection, reason: string) => (connection as ChildConnection).kill(reason) }),
    })
    await session.open()
    return session
  }

  /** Process ids of the live sandbox processes (`isolation: 'process'`), e.g. to watch their memory. */
  get processIds(): readonly number[] {
    return this.#pool?.pids ?? []
  }

  /**
   * Kills the sandbox processes (`isolation: 'process'`); sessions still open lose their isolates.
   * Idle processes also exit by themselves and never keep the host alive.
   */
  async close(): Promise<void> {
    this.#pool?.close()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/**
 * Creates an executor that runs each session in its own memory-limited V8 isolate.
 *
 * @example
 * const executor = createIsolateExecutor() // isolates in child processes; the host survives any OOM
 * const fast = createIsolateExecutor({ isolation: 'in-process' }) // needs node --no-node-snapshot
 */
export function createIsolateExecutor(settings: IsolateExecutorSettings = {}): IsolateExecutor {
  return new IsolateExecutor(settings)
}

function hasNoNodeSnapshotFlag(): boolean {
  return (
    process.execArgv.includes('--no-node-snapshot') ||
    (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes('--no-node-snapshot')
  )
}
