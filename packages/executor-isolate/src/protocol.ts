// Messages between a session (in the host) and the sandbox host that owns its isolate. The sandbox
// host runs in the same process (`isolation: 'in-process'`) or in a child process, where these
// messages travel over IPC with `serialization: 'advanced'` (structured clone), so they may only
// hold data: no functions, no class instances, no Error objects.
import type { RunError, SandboxRunResult } from '@airlock/core'

/** What the sandbox needs to build a session's globals. */
export interface SandboxSetup {
  readonly toolNames: readonly string[]
  /** Host data already checked with `toData`. */
  readonly variables: Readonly<Record<string, unknown>>
  readonly memoryMb: number
  readonly maxOutputBytes: number
  readonly maxValueBytes: number
  readonly importFunction: string
  readonly modules: readonly ModulePlan[]
}

/** One allowlisted package, resolved by the host into the files to compile in the isolate. */
export interface ModulePlan {
  /** The specifier the code imports: the allowlist entry. */
  readonly name: string
  readonly entry: string
  /** Every file the entry can reach through static imports or literal `require` calls, by id. */
  readonly files: Readonly<Record<string, ModuleFile>>
}

export interface ModuleFile {
  readonly format: 'esm' | 'cjs' | 'json'
  readonly source: string
  /** Shown in stack traces. */
  readonly filename: string
  /** Specifier in this file → id of the file it resolves to. */
  readonly resolutions: Readonly<Record<string, string>>
  /** Hash of `source`, the key of the compiled-code cache. */
  readonly hash: string
}

export type HostMessage =
  | { readonly type: 'open'; readonly key: number; readonly setup: SandboxSetup }
  | {
      readonly type: 'run'
      readonly key: number
      readonly runId: number
      readonly script: string
      readonly declaredNames: readonly string[]
      readonly timeoutMs: number
      /**
       * The script is core's quick reading of the code (`prepareRunQuickly`): when it does not
       * compile, the answer is `uncompiled`, not the compile error.
       */
      readonly quick: boolean
    }
  | {
      readonly type: 'tool-result'
      readonly key: number
      readonly runId: number
      readonly callId: number
      readonly outcome:
        | { readonly ok: true; readonly value: unknown }
        | { readonly ok: false; readonly error: RunError }
    }
  /** Ends the run early (the caller aborted); answered by `done`. */
  | { readonly type: 'stop'; readonly key: number; readonly runId: number }
  | { readonly type: 'close'; readonly key: number }

/** What the sandbox reports of a run (core's `SandboxRunResult`), or how the sandbox host ended it. */
export type RunResult =
  | SandboxRunResult
  /** The deadline passed (`timeoutMs`) or the host stopped the run. */
  | { readonly type: 'stopped'; readonly reason: 'timeout' | 'stop' }
  /** The isolate went over its memory limit. */
  | { readonly type: 'memory'; readonly message: string }
  /** A quick script did not compile; nothing ran, and the host prepares the code in full. */
  | { readonly type: 'uncompiled' }

export type SandboxMessage =
  /** Sent once by a child process when it listens for messages. */
  | { readonly type: 'ready' }
  | { readonly type: 'opened'; readonly key: number }
  | { readonly type: 'open-failed'; readonly key: number; readonly message: string }
  | { readonly type: 'log'; readonly key: number; readonly runId: number; readonly line: string }
  /** The run's output past `maxOutputBytes` was dropped from here on. */
  | { readonly type: 'truncated'; readonly key: number; readonly runId: number }
  | {
      readonly type: 'tool'
      readonly key: number
      readonly runId: number
      readonly callId: number
      readonly name: string
      readonly args: unknown
    }
  | {
      readonly type: 'done'
      readonly key: number
      readonly runId: number
      readonly result: RunResult
      /** The isolate was disposed: the session's state is gone. */
      readonly lost: boolean
    }
  /** Sent by a child process just before it aborts on a fatal V8 error (out of memory). */
  | { readonly type: 'fatal'; readonly message: string }
