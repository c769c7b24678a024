/**
 * Operation counting, deadline and call depth: the interpreter's only way to stop sandbox code.
 *
 * Compiled code calls `meter.tick()` at every loop back-edge and function entry; the counter is a
 * plain number compared with `nextCheck`, and the slower checks (deadline, abort signal) run only
 * when it passes `nextCheck`. Once a limit trips, every later tick throws again, so sandbox code
 * that swallowed the signal (a promise rejection handler, a realm built-in) cannot run a single
 * further call or loop iteration.
 */
export interface LimitTrip {
  /** A limit's name, or why else the run was stopped (`final`, `aborted`, `failed`, `dead`). */
  readonly limit: string
  readonly message: string
}

/** Operations between deadline checks: small enough to stop within about a millisecond. */
const CHECK_INTERVAL = 2_000

/**
 * Elements or characters a guarded built-in handles per operation it is charged: about the work
 * of one interpreted operation (a built-in moves an element in a few nanoseconds).
 */
export const UNITS_PER_OPERATION = 32

/**
 * Bytes a guarded built-in may allocate per operation it is charged: with the default 10 million
 * operations, built-ins allocate at most about 640 MB in one run.
 */
export const BYTES_PER_OPERATION = 64

/**
 * The most operations one built-in call may be charged, whatever `maxOperations` says: a single
 * native call cannot be interrupted, so it must stay within a few seconds even when the run has
 * no operation limit.
 */
export const MAX_CALL_OPERATIONS = 2 ** 23

export class Meter {
  ops = 0
  nextCheck = CHECK_INTERVAL
  maxOps = Infinity
  deadline = Infinity
  depth = 0
  maxDepth = 1_000
  signal: AbortSignal | undefined
  /** Non-zero when another thread aborted the run (see `SessionEnvironment.abortFlag`). */
  abortFlag: Int32Array | undefined
  tripped: LimitTrip | undefined
  timeoutMs = Infinity
  /** The most bytes one built-in call may allocate (from `memoryMb`). */
  maxBytes = Infinity
  memoryMb = Infinity
  /**
   * What is thrown once a limit trips: a frozen null-prototype object of the sandbox realm, so even
   * when a realm built-in (a promise job) hands it to sandbox code, it leads nowhere: no
   * prototype, no constructor, no properties.
   */
  readonly signalValue: object

  constructor(signalValue: object) {
    this.signalValue = signalValue
  }

  /** Starts a run: resets the counters and arms the limits. */
  start(
    limits: { maxOperations: number; timeoutMs: number; maxCallDepth: number; memoryMb?: number },
    signal?: AbortSignal,
    abortFlag?: Int32Array,
  ) {
    this.ops = 0
    this.memoryMb = limits.memoryMb ?? Infinity
    this.maxBytes = this.memoryMb * 2 ** 20
    this.maxOps = limits.maxOperations
    this.timeoutMs = limits.timeoutMs
    this.deadline = Number.isFinite(limits.timeoutMs) ? performance.now() + limits.timeoutMs : Infinity
    this.maxDepth = limits.maxCallDepth
    this.depth = 0
    this.signal = signal
    this.abortFlag = abortFlag
    this.tripped = undefined
    this.nextCheck = Math.min(CHECK_INTERVAL, this.maxOps + 1)
  }

  /** Ends a run: anything the finished run scheduled (a promise job) stops at its first tick. */
  stop(limit: LimitTrip = { limit: 'dead', message: 'The run has ended.' }) {
    if (this.tripped === undefined) this.tripped = limit
    this.nextCheck = -1
  }

  /** Called when `ops` reaches `nextCheck`. Throws the signal when a limit is hit. */
  check(): void {
    if (this.tripped !== undefined) throw this.signalValue
    if (this.ops > this.maxOps) {
      this.trip({
        limit: 'maxOperations',
        message: `The code ran more than maxOperations (${this.maxOps}) interpreter operations and was stopped. Do less work per step, or avoid loops that never end.`,
      })
    }
    if (performance.now() > this.deadline) {
      this.trip({
        limit: 'timeoutMs',
        message: `The code ran longer than timeoutMs (${this.timeoutMs} ms) and was stopped. Do less per step, or avoid loops that never end.`,
      })
    }
    if (this.signal?.aborted || (this.abortFlag !== undefined && Atomics.load(this.abortFlag, 0) !== 0))
      this.trip({ limit: 'aborted', message: 'The run was aborted by the caller.' })
    this.nextCheck = Math.min(this.ops + CHECK_INTERVAL, this.maxOps + 1)
  }

  /**
   * Charges a built-in call before it runs, for the larger of its work (`units` elements or
   * characters) and the bytes it allocates (an estimate). A call over the memory cap, over the
   * per-call cap or over the operations left is refused with a limit before it starts.
   */
  charge(units: number, bytes: number, what: string): void {
    if (this.tripped !== undefined) throw this.signalValue
    if (bytes > this.maxBytes) {
      this.trip({
        limit: 'memoryMb',
        message: `${what} would allocate about ${Math.ceil(bytes / 2 ** 20)} MB in one call, more than memoryMb (${this.memoryMb} MB) allows; work on smaller pieces.`,
      })
    }
    const cost = Math.ceil(Math.max(units / UNITS_PER_OPERATION, bytes / BYTES_PER_OPERATION))
    if (cost > MAX_CALL_OPERATIONS || this.ops + cost > this.maxOps) {
      this.trip({
        limit: 'maxOperations',
        message: `${what} on ${units} elements or characters would cost ${cost} operations, more than ${cost > MAX_CALL_OPERATIONS ? `one built-in call may (${MAX_CALL_OPERATIONS})` : `the operations left of maxOperations (${this.maxOps})`}; work on smaller pieces.`,
      })
    }
    this.ops += cost
    if (this.ops >= this.nextCheck) this.check()
  }

  /**
   * Called when a limit trips, wherever that happens: a trip inside a promise job must end a run
   * that is waiting for a promise that will now never settle.
   */
  onTrip: (() => void) | undefined

  trip(limit: LimitTrip): never {
    if (this.tripped === undefined) this.tripped = limit
    this.nextCheck = -1
    this.onTrip?.()
    throw this.signalValue
  }

  depthExceeded(): never {
    return this.trip({
      limit: 'maxCallDepth',
      message: `The code nested calls deeper than maxCallDepth (${this.maxDepth}); look for unbounded recursion.`,
    })
  }
}
