import { type ChildProcess, spawn } from 'node:child_process'
import { entryScript } from '@airlock/core'
import { SandboxStartError } from './errors.js'
import type { HostMessage, SandboxMessage } from './protocol.js'

/** Why every session on a connection lost its isolate at once. */
export interface ConnectionLoss {
  /** The sandbox process hit a fatal out-of-memory error it could not contain. */
  readonly outOfMemory: boolean
  readonly message: string
}

export interface SessionListener {
  message(message: SandboxMessage): void
  lost(loss: ConnectionLoss): void
}

/** Where a session's isolate lives: this process, or one sandbox child process. */
export interface Connection {
  post(message: HostMessage): void
  attach(key: number, listener: SessionListener): void
  detach(key: number): void
  /** False once the connection died; sessions must find another. */
  readonly alive: boolean
  readonly sessions: number
}

abstract class BaseConnection implements Connection {
  protected readonly listeners = new Map<number, SessionListener>()
  alive = true

  abstract post(message: HostMessage): void

  get sessions(): number {
    return this.listeners.size
  }

  attach(key: number, listener: SessionListener): void {
    this.listeners.set(key, listener)
  }

  detach(key: number): void {
    this.listeners.delete(key)
  }

  protected deliver(message: SandboxMessage): void {
    if (!('key' in message)) return
    this.listeners.get(message.key)?.message(message)
  }

  protected lose(loss: ConnectionLoss): void {
    if (!this.alive) return
    this.alive = false
    const listeners = [...this.listeners.values()]
    this.listeners.clear()
    for (const listener of listeners) listener.lost(loss)
  }
}

/** Isolates in this process: messages are plain calls, nothing is serialized. */
export class InProcessConnection extends BaseConnection {
  readonly #host: { receive(message: HostMessage): void }

  private constructor(
    makeHost: (send: (message: SandboxMessage) => void) => { receive(message: HostMessage): void },
  ) {
    super()
    this.#host = makeHost((message) => this.deliver(message))
  }

  static async create(): Promise<InProcessConnection> {
    // Loaded on demand: with process isolation the host process never loads the native addon.
    const { SandboxHost } = await import('./sandbox-host.js')
    return new InProcessConnection((send) => new SandboxHost(send))
  }

  post(message: HostMessage): void {
    this.#host.receive(message)
  }
}

const childEntry = new URL(
  import.meta.url.endsWith('.ts') ? './child-main.ts' : './child-main.js',
  import.meta.url,
)

const childBootstrap = entryScript(childEntry, 'serveParent')

/** One sandbox child process, started with `--no-node-snapshot`. */
export class ChildConnection extends BaseConnection {
  readonly #child: ChildProcess
  readonly ready: Promise<void>
  #fatal: string | undefined
  #stderr = ''
  #idleTimer: ReturnType<typeof setTimeout> | undefined
  readonly #idleMs: number

  constructor(idleMs: number) {
    super()
    this.#idleMs = idleMs
    this.#child = spawn(
      process.execPath,
      ['--no-node-snapshot', '--disable-warning=ExperimentalWarning', '-e', childBootstrap],
      { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', env: process.env },
    )
    // Kept for crash reports; read continuously so the child never blocks on a full pipe.
    this.#child.stderr!.setEncoding('utf8')
    this.#child.stderr!.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-2_000)
    })
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: SandboxMessage) => {
        if (message.type !== 'ready') return
        this.#child.off('message', onMessage)
        resolve()
      }
      this.#child.on('message', onMessage)
      this.#child.once('exit', (code, signal) =>
        reject(
          new SandboxStartError(
            `The sandbox process exited while starting (${signal ?? `code ${code}`}). ${this.#stderr.trim()}`.trim(),
          ),
        ),
      )
      this.#child.once('error', (error) =>
        reject(
          new SandboxStartError(`The sandbox process could not start: ${error.message}`, { cause: error }),
        ),
      )
    })
    this.ready.catch(() => {})
    this.#child.on('message', (message: SandboxMessage) => {
      if (message.type === 'fatal') this.#fatal = message.message
      else this.deliver(message)
    })
    this.#child.on('error', () => {})
    this.#child.once('exit', (code, signal) => {
      const outOfMemory = this.#fatal !== undefined || signal === 'SIGABRT'
      this.lose({
        outOfMemory,
        message: outOfMemory
          ? `the sandbox process ran out of memory (${this.#fatal ?? signal}) and was restarted`
          : `the sandbox process exited (${signal ?? `code ${code}`}) and was restarted`,
      })
    })
    this.#updateIdle()
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  post(message: HostMessage): void {
    if (!this.alive || !this.#child.connected) return
    this.#child.send(message)
  }

  override attach(key: number, listener: SessionListener): void {
    super.attach(key, listener)
    this.#updateIdle()
  }

  override detach(key: number): void {
    super.detach(key)
    this.#updateIdle()
  }

  /** Kills the child at once (SIGKILL); its sessions are told they were lost. */
  kill(reason = 'the sandbox process was stopped'): void {
    if (!this.alive) return
    this.lose({ outOfMemory: false, message: reason })
    this.#child.kill('SIGKILL')
    clearTimeout(this.#idleTimer)
  }

  /** An idle child does not keep the host alive, and exits after `idleMs` without sessions. */
  #updateIdle(): void {
    clearTimeout(this.#idleTimer)
    if (!this.alive) return
    if (this.listeners.size > 0) {
      this.#child.ref()
      this.#child.channel?.ref()
      return
    }
    this.#child.unref()
    this.#child.channel?.unref()
    if (Number.isFinite(this.#idleMs)) {
      this.#idleTimer = setTimeout(() => this.kill('the sandbox process was idle'), this.#idleMs)
      this.#idleTimer.unref()
    }
  }
}

/** A few sandbox processes shared by an executor's sessions; dead ones are replaced on demand. */
export class ProcessPool {
  readonly #size: number
  readonly #idleMs: number
  #children: ChildConnection[] = []

  constructor(size: number, idleMs: number) {
    this.#size = size
    this.#idleMs = idleMs
  }

  /** The child with the fewest sessions, starting another while the pool is not full. */
  async acquire(): Promise<ChildConnection> {
    this.#children = this.#children.filter((child) => child.alive)
    const least = this.#children.reduce<ChildConnection | undefined>(
      (best, child) => (best === undefined || child.sessions < best.sessions ? child : best),
      undefined,
    )
    const child =
      least !== undefined && (least.sessions === 0 || this.#children.length >= this.#size)
        ? least
        : this.#spawn()
    await child.ready
    return child
  }

  #spawn(): ChildConnection {
    const child = new ChildConnection(this.#idleMs)
    this.#children.push(child)
    return child
  }

  get pids(): number[] {
    return this.#children.filter((child) => child.alive).map((child) => child.pid!)
  }

  close(): void {
    for (const child of this.#children) child.kill('the executor was closed')
    this.#children = []
  }
}
