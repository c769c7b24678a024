// The process channel between the host and the harness in the sandbox: JSON lines on the
// harness's stdin (host → harness) and on its frame descriptor, which reaches the host as the
// process's stdout (harness → host). The harness imports these types with `import type` only
// (it runs alone in the sandbox), so it repeats `PROTOCOL_VERSION` as a literal.
//
// Every host frame is idempotent (runs, results and parts carry ids the harness deduplicates), so
// the host can resend a frame whose delivery it could not confirm. Every harness frame carries a
// sequence number, so the host can detect a gap after a dropped stream, ask for a replay
// (`resync`) and process frames in order.

import type { Limits, RunErrorKind, ThrownError } from '@airlock/core'
import type { WireValue } from './wire-data.js'

/** Bumped when either side's frames change; the harness file name carries a hash of its source too. */
export const PROTOCOL_VERSION = 1

/** An error the harness reports; `line`/`column` are positions in the prepared script when `inScript`. */
export type HarnessError = ThrownError

/** How a failed tool call is reported back to the sandbox code. */
export interface ToolFailure {
  readonly kind: RunErrorKind
  readonly name: string
  readonly message: string
  readonly tool?: string
  readonly limit?: keyof Limits
}

export type HarnessResult =
  | { readonly type: 'value'; readonly value: WireValue }
  | { readonly type: 'final'; readonly answer: WireValue }
  | { readonly type: 'error'; readonly error: HarnessError }

export interface InitFrame {
  readonly t: 'init'
  /** Echoed by `ready`, so a host that attaches to a running harness knows which answer is its own. */
  readonly id: number
  readonly tools: readonly string[]
  readonly allowedModules: readonly string[]
  /** `null` means no limit (JSON has no `Infinity`). */
  readonly maxOutputBytes: number | null
  /** `null` means no limit. */
  readonly maxValueBytes: number | null
  readonly importFunction: string
  /** Initial bindings. Absent when re-initializing a running harness whose state must be kept. */
  readonly variables?: Readonly<Record<string, WireValue>>
}

export type HostFrame =
  | InitFrame
  | {
      readonly t: 'run'
      readonly run: number
      /** The prepared script: an async function expression (see core's `prepareCodeAction`). */
      readonly script: string
      /** Top-level names the script declares; the harness declares them with `var` first. */
      readonly names: readonly string[]
    }
  | ({ readonly t: 'result'; readonly run: number; readonly call: number } & (
      | { readonly ok: true; readonly value: WireValue }
      | { readonly ok: false; readonly error: ToolFailure }
    ))
  /** Asks the harness to send again every buffered frame with a sequence number above `after`. */
  | { readonly t: 'resync'; readonly after: number }
  /**
   * One piece of a frame too large for one stdin write: `text` pieces in `index` order, joined,
   * are the frame's JSON. Each piece is a whole line, so a resent piece cannot corrupt the stream.
   */
  | {
      readonly t: 'part'
      readonly id: number
      readonly index: number
      readonly count: number
      readonly text: string
    }

export type HarnessFrameBody =
  | { readonly t: 'ready'; readonly init: number; readonly protocol: number; readonly node: string }
  | { readonly t: 'log'; readonly run: number; readonly text: string }
  /** Output past `maxOutputBytes` was dropped from here on. */
  | { readonly t: 'truncated'; readonly run: number }
  | {
      readonly t: 'call'
      readonly run: number
      readonly call: number
      readonly tool: string
      readonly args: WireValue
    }
  | { readonly t: 'done'; readonly run: number; readonly result: HarnessResult }

export type HarnessFrame = HarnessFrameBody & { readonly seq: number }
