import type { SandboxInfo } from '@e2b/code-interpreter'
import { AIRLOCK_METADATA, type E2BConnectionSettings, createE2BClient } from './e2b-executor.js'
import { isNotFoundError, toE2BError } from './errors.js'
import { liveSandboxes } from './live-sandboxes.js'

export interface OrphanedSandboxesOptions extends E2BConnectionSettings {
  /** Only sandboxes started at least this long ago, in ms. Default 0: any age. */
  readonly olderThanMs?: number
  /** Only sandboxes whose metadata also has these entries, e.g. the `metadata` the executor was given. */
  readonly metadata?: Readonly<Record<string, string>>
}

/** An airlock sandbox no session of this process holds. */
export interface OrphanedSandbox {
  readonly sandboxId: string
  /** The `sessionId` of the session that created it. */
  readonly sessionId: string | undefined
  readonly startedAt: Date
  readonly metadata: Readonly<Record<string, string>>
}

/**
 * Lists running or paused sandboxes tagged `airlock: "1"` that no live session of this process
 * holds: sandboxes of crashed hosts, of sessions never disposed, of other processes. Another
 * process's live sessions count as orphans too, so narrow by `metadata` or `olderThanMs` when
 * several hosts share an API key.
 *
 * @example
 * const orphans = await findOrphanedSandboxes({ olderThanMs: 60 * 60_000 })
 */
export async function findOrphanedSandboxes(
  options: OrphanedSandboxesOptions = {},
): Promise<OrphanedSandbox[]> {
  const { olderThanMs = 0, metadata = {}, apiKey = process.env.E2B_API_KEY, ...connection } = options
  const client = createE2BClient({ ...connection, ...(apiKey === undefined ? {} : { apiKey }) })
  const startedBefore = Date.now() - olderThanMs
  const found: OrphanedSandbox[] = []
  try {
    const paginator = client.Sandbox.list({
      query: { metadata: { ...metadata, [AIRLOCK_METADATA.marker]: '1' } },
    })
    while (paginator.hasNext) {
      for (const info of await paginator.nextItems()) {
        if (!isOrphan(info, metadata, startedBefore)) continue
        found.push({
          sandboxId: info.sandboxId,
          sessionId: info.metadata[AIRLOCK_METADATA.session],
          startedAt: info.startedAt,
          metadata: info.metadata,
        })
      }
    }
  } catch (error) {
    throw toE2BError(error, 'Listing airlock sandboxes')
  }
  return found
}

/**
 * Kills what `findOrphanedSandboxes` finds and returns their ids. Run it at start-up or on a
 * schedule to stop paying for sandboxes nobody uses.
 *
 * @example
 * const killed = await killOrphanedSandboxes({ metadata: { app: 'support-bot' }, olderThanMs: 30 * 60_000 })
 */
export async function killOrphanedSandboxes(options: OrphanedSandboxesOptions = {}): Promise<string[]> {
  const orphans = await findOrphanedSandboxes(options)
  const {
    olderThanMs: _olderThanMs,
    metadata: _metadata,
    apiKey = process.env.E2B_API_KEY,
    ...connection
  } = options
  const client = createE2BClient({ ...connection, ...(apiKey === undefined ? {} : { apiKey }) })
  const killed: string[] = []
  for (const orphan of orphans) {
    try {
      if (await client.Sandbox.kill(orphan.sandboxId)) killed.push(orphan.sandboxId)
    } catch (error) {
      if (!isNotFoundError(error)) throw toE2BError(error, `Killing the E2B sandbox ${orphan.sandboxId}`)
    }
  }
  return killed
}

function isOrphan(
  info: SandboxInfo,
  metadata: Readonly<Record<string, string>>,
  startedBefore: number,
): boolean {
  // The API filters by metadata already; checking again guards against a server that ignores the query.
  if (info.metadata[AIRLOCK_METADATA.marker] !== '1') return false
  for (const [key, value] of Object.entries(metadata)) if (info.metadata[key] !== value) return false
  if (liveSandboxes.has(info.sandboxId)) return false
  return info.startedAt.getTime() <= startedBefore
}
