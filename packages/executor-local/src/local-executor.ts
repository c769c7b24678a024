import type { Executor, ExecutorCapabilities, ExecutorSession, SessionOptions } from '@airlock/core'
import { LocalSession } from './session.js'

/** Settings of the local executor. */
export interface LocalExecutorSettings {
  /**
   * Directory allowlisted packages are resolved from (as `require.resolve` would from a file
   * there). Default: `process.cwd()`.
   */
  readonly moduleDirectory?: string
}

/**
 * Runs code actions in process, in a JavaScript interpreter written in JavaScript: acorn's AST is
 * compiled to closures over a separate sandbox realm whose code generation is disabled.
 *
 * `hardKill` is false: the interpreter stops sandbox code at its own checks (every loop back-edge
 * and call), which ends `while (true) {}`, but it cannot preempt a single long native call (a
 * catastrophic regular expression, a huge sort). `memoryLimit` is false: the sandbox shares the
 * host heap.
 */
export class LocalExecutor implements Executor {
  readonly specificationVersion = 'executor-v1'
  readonly kind = 'local'
  readonly capabilities: ExecutorCapabilities = {
    stateful: true,
    hardKill: false,
    memoryLimit: false,
    operationLimit: true,
    network: false,
    toolsRunOn: 'host',
  }

  readonly #moduleDirectory: string | undefined

  constructor(settings: LocalExecutorSettings = {}) {
    this.#moduleDirectory = settings.moduleDirectory
  }

  async createSession(options: SessionOptions = {}): Promise<ExecutorSession> {
    return new LocalSession(options, this.#moduleDirectory ?? process.cwd())
  }
}

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
