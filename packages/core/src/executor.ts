import type { Data } from './data.js'
import type { Limits } from './limits.js'
import type { Tool } from './tool.js'

/** What an executor can guarantee, so callers can pick one for their threat model. */
export interface ExecutorCapabilities {
  /** Top-level bindings of one run are visible in the next run of the same session. */
  readonly stateful: boolean
  /** A run that never yields (`while (true) {}`) can be stopped without the host's cooperation. */
  readonly hardKill: boolean
  /** `limits.memoryMb` is enforced. */
  readonly memoryLimit: boolean
  /** `limits.maxOperations` is enforced. */
  readonly operationLimit: boolean
  /** Sandbox code can open network connections of its own (tools aside). */
  readonly network: boolean
  /** Where tool functions execute; `'host'` means they keep the host's secrets out of the sandbox. */
  readonly toolsRunOn: 'host'
}

export interface SessionOptions {
  /** Exposed to the code as async functions, by tool name. */
  readonly tools?: readonly Tool[]
  /** The import allowlist: `import`, `await import()` and `require()` of any other module are refused. */
  readonly allowedModules?: readonly string[]
  /** Overrides of `DEFAULT_LIMITS`. */
  readonly limits?: Partial<Limits>
  /** Initial top-level bindings, e.g. data handed to the agent. */
  readonly variables?: Readonly<Record<string, Data>>
  /** Identifies the session to tools (`ToolContext.sessionId`); one is generated if absent. */
  readonly sessionId?: string
}

export interface RunOptions {
  /** Aborting ends the run with an `aborted` error; the session stays usable where it can. */
  readonly signal?: AbortSignal
  /** Receives each console line as it is printed (already counted against `maxOutputBytes`). */
  readonly onLog?: (line: string) => void
}

/**
 * The kind of a failed run, for the model and for callers deciding what to do:
 * `syntax` the code does not parse; `runtime` it threw; `tool` a tool call failed or had bad
 * arguments; `limit` a limit ended it; `forbidden` it reached for something refused (a module off
 * the allowlist, host access); `aborted` the caller's signal ended it; `internal` the executor failed.
 */
export type RunErrorKind = 'syntax' | 'runtime' | 'tool' | 'limit' | 'forbidden' | 'aborted' | 'internal'

export interface RunError {
  readonly kind: RunErrorKind
  /** The error's name as the code would see it: `TypeError`, `SyntaxError`, `LimitError`, ... */
  readonly name: string
  readonly message: string
  /** 1-based line in the submitted code, when the error has a position there. */
  readonly line?: number
  /** 1-based column in the submitted code. */
  readonly column?: number
  /** A few lines of the submitted code around `line`, with a caret under `column`. */
  readonly codeFrame?: string
  /** For `limit` errors: which limit. */
  readonly limit?: keyof Limits
  /** For `tool` errors: which tool. */
  readonly tool?: string
  /** True when the session's state did not survive (the sandbox was killed); later runs start fresh. */
  readonly sessionLost?: boolean
}

export interface ToolCallRecord {
  readonly tool: string
  readonly ok: boolean
  readonly durationMs: number
}

export interface RunStats {
  readonly durationMs: number
  /** Tool calls that finished during the run, in completion order, including those before a failure. */
  readonly toolCalls: readonly ToolCallRecord[]
  /** Interpreter operations used, for executors that count them. */
  readonly operations?: number
}

interface OutcomeBase {
  /** Everything the code printed, each line ending in `\n`, capped by `maxOutputBytes`. */
  readonly logs: string
  readonly stats: RunStats
}

export type RunOutcome =
  /** The code completed; `value` is its last expression statement's value (awaited if a promise). */
  | (OutcomeBase & { readonly type: 'value'; readonly value: Data })
  /** The code called `finalAnswer(answer)`. */
  | (OutcomeBase & { readonly type: 'final'; readonly answer: Data })
  | (OutcomeBase & { readonly type: 'error'; readonly error: RunError })

/** A sandbox with state: every `run` sees the top-level bindings of the runs before it. */
export interface ExecutorSession extends AsyncDisposable {
  readonly id: string
  /** Runs one code action. Never rejects for anything the code does: failures are `type: 'error'`. */
  run(code: string, options?: RunOptions): Promise<RunOutcome>
  /** Frees the sandbox. Runs after it fail with an `internal` error. Safe to call twice. */
  dispose(): Promise<void>
}

/**
 * Runs model-written code somewhere safe. Constructors do no I/O; `createSession` does.
 *
 * @example
 * const session = await executor.createSession({ tools: [weather] })
 * const outcome = await session.run('const w = await get_weather({ city: "Oslo" }); w.tempC')
 */
export interface Executor {
  /** Bumped when this contract changes, so a mismatched executor fails loudly, not subtly. */
  readonly specificationVersion: 'executor-v1'
  /** A short name for logs and config: `'local'`, `'isolate'`, `'e2b'`, ... */
  readonly kind: string
  readonly capabilities: ExecutorCapabilities
  createSession(options?: SessionOptions): Promise<ExecutorSession>
}
