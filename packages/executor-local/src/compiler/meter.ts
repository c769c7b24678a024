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

export class Meter {
  ops = 0
  nextCheck = CHECK_INTERVAL
  maxOps = Infinity
  deadline = Infinity
  depth = 0
  maxDepth = 1_000
  signal: AbortSignal | undefined
  tripped: LimitTrip | undefined
  timeoutMs = Infinity
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
  start(limits: { maxOperations: number; timeoutMs: number; maxCallDepth: number }, signal?: AbortSignal) {
    this.ops = 0
    this.maxOps = limits.maxOperations
    this.timeoutMs = limits.timeoutMs
    this.deadline = Number.isFinite(limits.timeoutMs) ? performance.now() + limits.timeoutMs : Infinity
    this.maxDepth = limits.maxCallDepth
    this.depth = 0
    this.signal = signal
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
    if (this.signal?.aborted) this.trip({ limit: 'aborted', message: 'The run was aborted by the caller.' })
    this.nextCheck = Math.min(this.ops + CHECK_INTERVAL, this.maxOps + 1)
  }

  trip(limit: LimitTrip): never {
    if (this.tripped === undefined) this.tripped = limit
    this.nextCheck = -1
    throw this.signalValue
  }

  depthExceeded(): never {
    return this.trip({
      limit: 'maxCallDepth',
      message: `The code nested calls deeper than maxCallDepth (${this.maxDepth}); look for unbounded recursion.`,
    })
  }
}
