import { Worker } from 'node:worker_threads'
import { entryScript } from '@airlock/core'
import type { WorkerMessage } from './worker-protocol.js'

const workerEntry = new URL(
  import.meta.url.endsWith('.ts') ? './worker-main.ts' : './worker-main.js',
  import.meta.url,
)
const workerBootstrap = entryScript(workerEntry, 'serveSession')

/**
 * The heap a worker needs besides the sandbox's data: the interpreter, acorn and a realm use
 * about 13 MB after a first run.
 */
const WORKER_BASE_HEAP_MB = 16

/**
 * The worker's heap cap: room for `memoryMb` of data the session keeps, and for one built-in call
 * that allocates up to `memoryMb` (all the per-call check allows) while its input is still alive.
 * With room for only one of them, a session that kept an array the check allowed lost its worker
 * at a later garbage collection, in about half the tries.
 */
function heapCapMb(memoryMb: number): number {
  return 2 * memoryMb + WORKER_BASE_HEAP_MB
}

/** A worker thread that loads the interpreter, then waits for a session to open in it. */
export interface BootingWorker {
  readonly worker: Worker
  /** The `memoryMb` its heap cap was made for. */
  readonly memoryMb: number
  /** Settles once the interpreter is loaded; rejects if the worker failed first. */
  readonly booted: Promise<void>
}

/**
 * Worker threads for sessions. Most of a session's start is Node starting a thread and loading the
 * interpreter in it (about 60 ms here), so once a session has started, the pool boots the next
 * worker ahead, idle and not keeping the process alive, for the next session with the same
 * `memoryMb`.
 */
export class WorkerPool {
  #spare: (BootingWorker & { failed: boolean }) | undefined

  /** A worker for a new session: the spare when it fits, else a new one. */
  take(memoryMb: number): BootingWorker {
    const spare = this.#spare
    this.#spare = undefined
    if (spare !== undefined && spare.memoryMb === memoryMb && !spare.failed) {
      spare.worker.ref()
      return spare
    }
    if (spare !== undefined) void spare.worker.terminate()
    return boot(memoryMb)
  }

  /** Boots the spare for the next session, unless one is there already. */
  prepare(memoryMb: number): void {
    if (this.#spare !== undefined) return
    const spare = { ...boot(memoryMb), failed: false }
    // A spare that fails is dropped when taken; its error must not be an unhandled 'error' event.
    spare.booted.catch(() => (spare.failed = true))
    spare.worker.on('error', () => (spare.failed = true))
    spare.worker.on('exit', () => (spare.failed = true))
    spare.worker.unref()
    this.#spare = spare
  }
}

function boot(memoryMb: number): BootingWorker {
  const worker = new Worker(workerBootstrap, {
    eval: true,
    // Best effort: Node ends a worker that reaches its heap limit, but one that allocates large
    // strings fast enough can still take the process with it (see LocalExecutorSettings.thread).
    ...(Number.isFinite(memoryMb) ? { resourceLimits: { maxOldGenerationSizeMb: heapCapMb(memoryMb) } } : {}),
  })
  const booted = new Promise<void>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`The worker exited with code ${code} while starting.`))
    const onMessage = (message: WorkerMessage) => {
      if (message.type !== 'booted') return
      worker.off('message', onMessage)
      worker.off('error', reject)
      worker.off('exit', onExit)
      resolve()
    }
    worker.on('message', onMessage)
    worker.once('error', reject)
    worker.once('exit', onExit)
  })
  return { worker, memoryMb, booted }
}
