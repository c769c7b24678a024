// Messages between a session in the main thread and the interpreter that runs it in a worker
// thread (`thread: 'worker'`). They travel by structured clone, so they hold data only (and the
// abort flag's shared memory, which is shared, not copied).
import type { Data, Limits, RunOutcome, ToolArgumentsCopy, ToolCallOutcome } from '@airlock/core'

/** What a booted worker needs to build its session (the `open` message). */
export interface WorkerSetup {
  readonly sessionId: string
  readonly limits: Limits
  readonly allowedModules: readonly string[]
  /** Already copied with `copySessionVariables`. */
  readonly variables: Readonly<Record<string, Data>>
  readonly toolNames: readonly string[]
  readonly moduleDirectory: string
  /**
   * One `Int32Array` element over shared memory: the main thread sets it to abort the run in
   * progress, which the interpreter reads at its limit checks even while it never yields.
   */
  readonly abortFlag: Int32Array
}

export type MainMessage =
  /** The first message a worker receives: it builds its session and answers `ready`. */
  | { readonly type: 'open'; readonly setup: WorkerSetup }
  | { readonly type: 'run'; readonly runId: number; readonly code: string }
  /** The caller aborted: ends a run that waits (the abort flag ends one that computes). */
  | { readonly type: 'abort'; readonly runId: number }
  | {
      readonly type: 'tool-result'
      readonly runId: number
      readonly callId: number
      readonly outcome: ToolCallOutcome
    }

export type WorkerMessage =
  /** The worker loaded the interpreter and waits for `open`. */
  | { readonly type: 'booted' }
  | { readonly type: 'ready' }
  | { readonly type: 'open-failed'; readonly name: string; readonly message: string }
  /** A line the run printed, within `maxOutputBytes` (the worker caps output). */
  | { readonly type: 'log'; readonly runId: number; readonly line: string }
  | {
      readonly type: 'tool'
      readonly runId: number
      readonly callId: number
      readonly name: string
      readonly copy: ToolArgumentsCopy
    }
  | { readonly type: 'done'; readonly runId: number; readonly outcome: RunOutcome }
