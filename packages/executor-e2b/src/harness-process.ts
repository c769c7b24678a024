import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { sandboxRuntimeSource, stripTypeScript } from '@airlock/core'
import type { CommandHandle, Sandbox } from '@e2b/code-interpreter'
import { E2BHarnessError, isNotFoundError, isTransientError } from './errors.js'
import { type HarnessFrame, type HostFrame, type InitFrame, PROTOCOL_VERSION } from './protocol.js'
import { createWireEncoder } from './wire-data.js'

/** The harness source as uploaded, and a hash of it that names the file in the sandbox. */
export interface HarnessSource {
  readonly source: string
  readonly hash: string
}

let harnessSource: Promise<HarnessSource> | undefined

/**
 * The harness as JavaScript: the compiled file next to this module in a build, or the TypeScript
 * source with its types stripped when running from source (tests), after the two constants it
 * declares: `SANDBOX_RUNTIME_SOURCE`, core's sandbox runtime that the harness runs in its vm
 * context, and `createWireEncoder`, the host's own wire encoder. Both are part of the hash, so a
 * change to either uploads another harness.
 */
export function loadHarnessSource(): Promise<HarnessSource> {
  harnessSource ??= (async () => {
    let harness: string
    try {
      harness = await readFile(new URL('./sandbox-harness.js', import.meta.url), 'utf8')
    } catch {
      harness = stripTypeScript(await readFile(new URL('./sandbox-harness.ts', import.meta.url), 'utf8'))
    }
    const prelude = [
      `const SANDBOX_RUNTIME_SOURCE = ${JSON.stringify(sandboxRuntimeSource())};`,
      `const createWireEncoder = ${createWireEncoder.toString()};`,
    ]
    const source = `${prelude.join('\n')}\n${harness}`
    return { source, hash: createHash('sha256').update(source).digest('hex').slice(0, 16) }
  })()
  return harnessSource
}

/** The harness's path relative to the working directory, by the hash of its source. */
export function harnessPath(hash: string): string {
  return `.airlock/harness-${hash}.mjs`
}

/**
 * The command that starts the harness. `exec` makes node the process envd tracks (so a kill hits
 * it); `3>&1 1>&2` gives it the process's stdout as fd 3 for frames and sends its own stdout to
 * stderr, where stray output cannot break the framing.
 */
export function harnessCommand(hash: string, memoryMb: number): string {
  const heap = Number.isFinite(memoryMb) ? ` --max-old-space-size=${memoryMb}` : ''
  return `exec node${heap} ${harnessPath(hash)} 3>&1 1>&2`
}

/** Why a harness process stopped serving. */
export type HarnessExitReason =
  /** The process ended by itself (it crashed, ran out of memory, or was told to exit). */
  | 'exited'
  /** The host killed it or let go of it. */
  | 'closed'
  /** The sandbox itself is gone (its lifetime ended or it was killed). */
  | 'sandbox-gone'
  /** The connection to it broke and could not be re-established. */
  | 'unreachable'
  /** It sent something that breaks the protocol. */
  | 'protocol'

export interface HarnessExit {
  readonly reason: HarnessExitReason
  /** The exit code when the process ended by itself and envd reported one (-1 for a signal). */
  readonly exitCode?: number
  /** The process died because its V8 heap reached `--max-old-space-size`. */
  readonly outOfMemory: boolean
  /** The last few kilobytes the process wrote to stderr, for diagnostics. */
  readonly stderr: string
  readonly detail?: string
}

export interface HarnessListener {
  /** Every frame except `ready`, in sequence order, each once. */
  frame(frame: HarnessFrame): void
  /** Called once, when the process stops serving for any reason other than `close()`. */
  exit(exit: HarnessExit): void
}

export interface HarnessProcessOptions {
  readonly listener: HarnessListener
  readonly requestTimeoutMs: number | undefined
  /** Longest line accepted from the harness; longer means it misbehaves. */
  readonly maxLineLength: number
}

const STDERR_TAIL = 8 * 1024
/** Host frames longer than this travel as `part` frames, so one stdin write stays small. */
const MAX_WRITE = 256 * 1024
const SEND_ATTEMPTS = 4
const REATTACH_DELAYS = [50, 250, 1_000, 2_000]
const MAX_HELD_FRAMES = 10_000

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * The host's end of the process channel to one harness process: frames out through envd's
 * `SendInput` (queued, split, retried), frames in from the process's stdout stream (reassembled
 * into lines, ordered by sequence number), and a re-attach with replay when the stream drops.
 */
export class HarnessProcess {
  readonly pid: number
  readonly #sandbox: Sandbox
  readonly #options: HarnessProcessOptions
  #handle: CommandHandle | undefined
  #closed = false
  #text = ''
  #stderr = ''
  /** Highest sequence number delivered with no gap before it; undefined until our `ready` arrives. */
  #delivered: number | undefined
  readonly #held = new Map<number, HarnessFrame>()
  #queue: Promise<unknown> = Promise.resolve()
  #nextPart = 1
  #awaitedInit: { id: number; resolve(frame: HarnessFrame): void } | undefined
  readonly #exited: Promise<HarnessExit>
  #resolveExited!: (exit: HarnessExit) => void

  private constructor(
    sandbox: Sandbox,
    pid: number,
    options: HarnessProcessOptions,
    delivered: number | undefined,
  ) {
    this.#sandbox = sandbox
    this.pid = pid
    this.#options = options
    this.#delivered = delivered
    this.#exited = new Promise((resolve) => (this.#resolveExited = resolve))
  }

  /** Starts a new harness process (the harness file must already be in the sandbox). */
  static async start(
    sandbox: Sandbox,
    command: { readonly cmd: string; readonly cwd: string },
    options: HarnessProcessOptions,
  ): Promise<HarnessProcess> {
    // Output can arrive before `run` returns the handle; it waits here until the process exists.
    const target: { process?: HarnessProcess } = {}
    const early: { data: string; stderr: boolean }[] = []
    const handle = await sandbox.commands.run(command.cmd, {
      background: true,
      stdin: true,
      cwd: command.cwd,
      // The harness lives as long as the session; the run deadline is the host's business.
      timeoutMs: 0,
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      onStdout: (data) => {
        if (target.process === undefined) early.push({ data, stderr: false })
        else target.process.#receive(data)
      },
      onStderr: (data) => {
        if (target.process === undefined) early.push({ data, stderr: true })
        else target.process.#receiveStderr(data)
      },
    })
    const harness = new HarnessProcess(sandbox, handle.pid, options, 0)
    target.process = harness
    harness.#watch(handle)
    for (const { data, stderr } of early) {
      if (stderr) harness.#receiveStderr(data)
      else harness.#receive(data)
    }
    return harness
  }

  /**
   * Attaches to a harness that is already running (after the host reconnects to a sandbox). Its
   * sequence numbers are unknown, so frames count from the `ready` that answers our `init`.
   */
  static async attach(
    sandbox: Sandbox,
    pid: number,
    options: HarnessProcessOptions,
  ): Promise<HarnessProcess> {
    const harness = new HarnessProcess(sandbox, pid, options, undefined)
    harness.#watch(await harness.#connect())
    return harness
  }

  /** Resolves once the process stops serving, whatever the reason. */
  get exited(): Promise<HarnessExit> {
    return this.#exited
  }

  get open(): boolean {
    return !this.#closed
  }

  /**
   * Sends `init` and waits for the harness's `ready`.
   *
   * @throws E2BHarnessError when the process ends first or does not answer within `timeoutMs`.
   */
  async initialize(frame: InitFrame, timeoutMs: number): Promise<void> {
    const ready = new Promise<HarnessFrame>((resolve) => (this.#awaitedInit = { id: frame.id, resolve }))
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
    )
    void this.send(frame).catch(() => {})
    try {
      const first = await Promise.race([ready, this.#exited, timeout])
      if (first === 'timeout') {
        throw new E2BHarnessError(
          `The harness in the sandbox did not answer within ${timeoutMs} ms. Its stderr: ${this.#stderr.trim() || '(empty)'}`,
          this.#stderr,
        )
      }
      if ('reason' in first) {
        throw new E2BHarnessError(
          `The harness in the sandbox stopped before it was ready (${describeExit(first)}). The template needs Node.js >= 20 as \`node\` on the PATH (code-interpreter-v1 has it). Its stderr: ${first.stderr.trim() || '(empty)'}`,
          first.stderr,
        )
      }
      const { protocol } = first as Extract<HarnessFrame, { t: 'ready' }>
      if (protocol !== PROTOCOL_VERSION) {
        throw new E2BHarnessError(
          `The harness speaks protocol ${String(protocol)}, the host ${PROTOCOL_VERSION}.`,
          this.#stderr,
        )
      }
    } finally {
      clearTimeout(timer)
      this.#awaitedInit = undefined
    }
  }

  /**
   * Sends a frame. Frames go out one at a time, in order; each write is retried on passing
   * failures (the harness ignores duplicates). A failure that does not pass ends the process's
   * service (`exited` resolves and the listener hears it); the returned promise rejects then too.
   */
  send(frame: HostFrame): Promise<void> {
    const text = JSON.stringify(frame)
    const lines: string[] = []
    if (text.length <= MAX_WRITE) {
      lines.push(text)
    } else {
      const id = this.#nextPart++
      const count = Math.ceil(text.length / MAX_WRITE)
      for (let index = 0; index < count; index++) {
        const part: HostFrame = {
          t: 'part',
          id,
          index,
          count,
          text: text.slice(index * MAX_WRITE, (index + 1) * MAX_WRITE),
        }
        lines.push(JSON.stringify(part))
      }
    }
    const task = this.#queue.then(async () => {
      for (const line of lines) await this.#write(`${line}\n`)
    })
    this.#queue = task.catch(() => {})
    return task
  }

  /** Kills the process (SIGKILL) and stops listening. Safe to call more than once. */
  async kill(): Promise<void> {
    if (!this.close()) return
    try {
      await this.#sandbox.commands.kill(this.pid, this.#requestOptions())
    } catch {
      // Already gone, or the sandbox is: either way it no longer runs for us.
    }
  }

  /** Stops listening without killing (the sandbox is about to go). Returns false if already closed. */
  close(): boolean {
    if (this.#closed) return false
    this.#closed = true
    void this.#handle?.disconnect()
    this.#resolveExited({ reason: 'closed', outOfMemory: false, stderr: this.#stderr })
    return true
  }

  #requestOptions(): { requestTimeoutMs?: number } {
    const { requestTimeoutMs } = this.#options
    return requestTimeoutMs === undefined ? {} : { requestTimeoutMs }
  }

  async #write(line: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new Error('The harness process is no longer served.')
      try {
        await this.#sandbox.commands.sendStdin(this.pid, line, this.#requestOptions())
        return
      } catch (error) {
        if (this.#closed) throw error
        if (isNotFoundError(error)) {
          await this.#endGone('its process is gone')
          throw error
        }
        if (attempt >= SEND_ATTEMPTS || !isTransientError(error)) {
          await this.#endUnreachable(error)
          throw error
        }
        await sleep(100 * 3 ** (attempt - 1))
      }
    }
  }

  async #connect(): Promise<CommandHandle> {
    return await this.#sandbox.commands.connect(this.pid, {
      timeoutMs: 0,
      ...this.#requestOptions(),
      onStdout: (data) => this.#receive(data),
      onStderr: (data) => this.#receiveStderr(data),
    })
  }

  #watch(handle: CommandHandle): void {
    this.#handle = handle
    const ended = (error: unknown) => void this.#streamEnded(handle, error)
    handle.wait().then(() => ended(undefined), ended)
  }

  async #streamEnded(handle: CommandHandle, error: unknown): Promise<void> {
    if (handle !== this.#handle || this.#closed) return
    if (handle.exitCode !== undefined) {
      this.#end({
        reason: 'exited',
        exitCode: handle.exitCode,
        outOfMemory: this.#outOfMemory(),
        stderr: this.#stderr,
        ...(handle.error === undefined ? {} : { detail: handle.error }),
      })
      return
    }
    // The stream broke but the process may live on (envd keeps it): attach again and ask for
    // the frames sent while nobody listened.
    let lastError = error
    for (const delay of REATTACH_DELAYS) {
      await sleep(delay)
      if (this.#closed) return
      try {
        const next = await this.#connect()
        if (this.#closed) {
          void next.disconnect()
          return
        }
        this.#watch(next)
        await this.send({ t: 'resync', after: this.#delivered ?? 0 })
        return
      } catch (attachError) {
        lastError = attachError
        if (this.#closed) return
        if (isNotFoundError(attachError)) {
          await this.#endGone('it ended while the connection to it was down')
          return
        }
        if ((await this.#sandboxRunning()) === false) {
          this.#end({ reason: 'sandbox-gone', outOfMemory: false, stderr: this.#stderr })
          return
        }
      }
    }
    await this.#endUnreachable(lastError)
  }

  /** The process is not found: it exited, unless the whole sandbox is gone (the SDK says "not found" then too). */
  async #endGone(detail: string): Promise<void> {
    if ((await this.#sandboxRunning()) === false) {
      this.#end({ reason: 'sandbox-gone', outOfMemory: false, stderr: this.#stderr })
      return
    }
    this.#end({ reason: 'exited', outOfMemory: this.#outOfMemory(), stderr: this.#stderr, detail })
  }

  async #endUnreachable(error: unknown): Promise<void> {
    const running = await this.#sandboxRunning()
    this.#end({
      reason: running === false ? 'sandbox-gone' : 'unreachable',
      outOfMemory: false,
      stderr: this.#stderr,
      detail: error instanceof Error ? error.message : String(error),
    })
  }

  /** Whether the sandbox still runs: false when envd's health check says it is gone, undefined if unknown. */
  async #sandboxRunning(): Promise<boolean | undefined> {
    try {
      return await this.#sandbox.isRunning(this.#requestOptions())
    } catch {
      return undefined
    }
  }

  #outOfMemory(): boolean {
    return /heap out of memory|Reached heap limit|Allocation failed/i.test(this.#stderr)
  }

  #end(exit: HarnessExit): void {
    if (this.#closed) return
    this.#closed = true
    void this.#handle?.disconnect()
    this.#resolveExited(exit)
    this.#options.listener.exit(exit)
  }

  #receiveStderr(data: string): void {
    this.#stderr = (this.#stderr + data).slice(-STDERR_TAIL)
  }

  #receive(data: string): void {
    if (this.#closed) return
    this.#text += data
    let newline = this.#text.indexOf('\n')
    while (newline !== -1) {
      const line = this.#text.slice(0, newline)
      this.#text = this.#text.slice(newline + 1)
      this.#line(line)
      if (this.#closed) return
      newline = this.#text.indexOf('\n')
    }
    if (this.#text.length > this.#options.maxLineLength) {
      this.#protocolError(`it sent a line longer than ${this.#options.maxLineLength} characters`)
    }
  }

  #protocolError(detail: string): void {
    this.#end({ reason: 'protocol', outOfMemory: false, stderr: this.#stderr, detail })
    void this.#sandbox.commands.kill(this.pid, this.#requestOptions()).catch(() => {})
  }

  #line(line: string): void {
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      // Not a frame, e.g. something a login script printed before `exec`: not ours to read.
      return
    }
    if (!isFrame(parsed)) return
    if (this.#delivered === undefined) {
      // Attached to a running harness: frames before the answer to our init are not ours.
      if (parsed.t !== 'ready' || parsed.init !== this.#awaitedInit?.id) return
      this.#delivered = parsed.seq - 1
    }
    let delivered = this.#delivered
    if (parsed.seq <= delivered) return
    this.#held.set(parsed.seq, parsed)
    if (this.#held.size > MAX_HELD_FRAMES) {
      this.#protocolError('frames went missing and were not sent again')
      return
    }
    for (let next = this.#held.get(delivered + 1); next !== undefined; next = this.#held.get(delivered + 1)) {
      this.#held.delete(next.seq)
      delivered = next.seq
      this.#delivered = delivered
      this.#deliver(next)
      if (this.#closed) return
    }
  }

  #deliver(frame: HarnessFrame): void {
    if (frame.t === 'ready') {
      if (frame.init === this.#awaitedInit?.id) this.#awaitedInit.resolve(frame)
      return
    }
    try {
      this.#options.listener.frame(frame)
    } catch {
      // A failing listener must not break the stream.
    }
  }
}

function isFrame(value: unknown): value is HarnessFrame {
  if (typeof value !== 'object' || value === null) return false
  const { seq, t } = value as { seq?: unknown; t?: unknown }
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 && typeof t === 'string'
}

export function describeExit(exit: HarnessExit): string {
  switch (exit.reason) {
    case 'exited':
      return exit.exitCode === undefined
        ? `it exited${exit.detail === undefined ? '' : `: ${exit.detail}`}`
        : `it exited with code ${exit.exitCode}${exit.detail === undefined ? '' : ` (${exit.detail})`}`
    case 'closed':
      return 'the host stopped it'
    case 'sandbox-gone':
      return 'the sandbox is gone'
    case 'unreachable':
      return `the connection to it broke${exit.detail === undefined ? '' : ` (${exit.detail})`}`
    case 'protocol':
      return `it broke the protocol: ${exit.detail ?? 'unknown'}`
  }
}
