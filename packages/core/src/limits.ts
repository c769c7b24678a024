import { InvalidDefinitionError } from './errors.js'

/**
 * Resource limits of one run. Every executor enforces `timeoutMs`, `maxOutputBytes`,
 * `maxToolCalls` and `maxValueBytes`; the others where its `capabilities` say it can.
 */
export interface Limits {
  /** Wall-clock time of one run, including work after its first `await`. */
  timeoutMs: number
  /** Interpreter operations per run (loop iterations, calls, property accesses). Interpreters only. */
  maxOperations: number
  /** Heap of the sandbox, for executors with `capabilities.memoryLimit`. */
  memoryMb: number
  /** Bytes of console output kept per run; the rest is replaced by a visible truncation marker. */
  maxOutputBytes: number
  /** Tool calls per run; the call past it fails the run with a `limit` error. */
  maxToolCalls: number
  /** Nesting of calls in sandbox code, for executors that track it. */
  maxCallDepth: number
  /** Size of one value crossing the boundary (tool arguments and results, the run's value). */
  maxValueBytes: number
}

/** The limits a session gets for every field it does not set. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  timeoutMs: 30_000,
  maxOperations: 10_000_000,
  memoryMb: 128,
  maxOutputBytes: 64 * 1024,
  maxToolCalls: 200,
  maxCallDepth: 1_000,
  maxValueBytes: 8 * 1024 * 1024,
})

/**
 * `DEFAULT_LIMITS` overridden by `overrides`, each checked to be a positive integer
 * (`Infinity` is accepted and means no limit).
 */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS }
  for (const [key, value] of Object.entries(overrides) as [string, unknown][]) {
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) {
      throw new InvalidDefinitionError(
        `Unknown limit "${key}". Known limits: ${Object.keys(DEFAULT_LIMITS).join(', ')}.`,
      )
    }
    if (value === undefined) continue
    if (typeof value !== 'number' || !(value === Infinity || (Number.isSafeInteger(value) && value > 0))) {
      throw new InvalidDefinitionError(
        `Limit ${key} must be a positive integer or Infinity, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}.`,
      )
    }
    limits[key as keyof Limits] = value
  }
  return limits
}
