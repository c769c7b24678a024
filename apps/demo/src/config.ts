import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Limits } from '@airlock/core'
import { UsageError } from './usage-error.js'

export const EXECUTOR_NAMES = ['local', 'isolate', 'e2b'] as const
export type ExecutorName = (typeof EXECUTOR_NAMES)[number]

/**
 * What `airlock.config.ts` (or `.js`, `.mjs`, `.json`) exports as default. Swapping the executor
 * is the one line `executor: 'isolate'`.
 *
 * @example
 * export default {
 *   executor: 'isolate',
 *   model: 'gpt-5-mini',
 *   maxSteps: 12,
 *   limits: { timeoutMs: 10_000 },
 * }
 */
export interface DemoConfig {
  /** Where code actions run. Default `local`. */
  readonly executor?: ExecutorName
  /** Passed to the executor's factory (`createLocalExecutor(settings)`, ...). */
  readonly executorSettings?: Readonly<Record<string, unknown>>
  /** Model id for live runs (with OPENAI_API_KEY). Default `gpt-5-mini`. */
  readonly model?: string
  /** An OpenAI-compatible server; default OPENAI_BASE_URL or OpenAI's. */
  readonly baseURL?: string
  readonly maxSteps?: number
  /** Folder the data tools read. Default: the bundled sample data. */
  readonly dataDir?: string
  /** Folder `write_report` writes to. Default `./airlock-out`. */
  readonly outDir?: string
  readonly instructions?: string
  readonly allowedModules?: readonly string[]
  readonly limits?: Partial<Limits>
}

const CONFIG_FILES = ['airlock.config.ts', 'airlock.config.mjs', 'airlock.config.js', 'airlock.config.json']
const KNOWN_KEYS = new Set([
  'executor',
  'executorSettings',
  'model',
  'baseURL',
  'maxSteps',
  'dataDir',
  'outDir',
  'instructions',
  'allowedModules',
  'limits',
])

/**
 * Loads the config file given, or the first `airlock.config.*` in `cwd`; none is fine. Relative
 * folders in it are resolved against the file's folder.
 */
export async function loadConfig(file: string | undefined, cwd: string): Promise<DemoConfig> {
  const found =
    file === undefined
      ? CONFIG_FILES.map((name) => path.join(cwd, name)).find((candidate) => existsSync(candidate))
      : path.resolve(cwd, file)
  if (found === undefined) return {}
  let loaded: unknown
  try {
    if (found.endsWith('.json')) {
      loaded = JSON.parse(await readFile(found, 'utf8'))
    } else {
      const module = (await import(pathToFileURL(found).href)) as { default?: unknown }
      loaded = module.default
    }
  } catch (error) {
    throw new UsageError(`Cannot read config ${found}: ${(error as Error).message}`)
  }
  return checkConfig(loaded, found)
}

function checkConfig(value: unknown, file: string): DemoConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(
      `Config ${file} must export an object as default (export default { executor: 'local' }).`,
    )
  }
  const config = value as Record<string, unknown>
  for (const key of Object.keys(config)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new UsageError(
        `Config ${file} has an unknown key "${key}"; known keys: ${[...KNOWN_KEYS].join(', ')}.`,
      )
    }
  }
  if (config.executor !== undefined) parseExecutorName(config.executor, `executor in ${file}`)
  if (config.maxSteps !== undefined) parseMaxSteps(config.maxSteps, `maxSteps in ${file}`)
  const folder = path.dirname(file)
  return {
    ...(config as DemoConfig),
    ...(typeof config.dataDir === 'string' ? { dataDir: path.resolve(folder, config.dataDir) } : {}),
    ...(typeof config.outDir === 'string' ? { outDir: path.resolve(folder, config.outDir) } : {}),
  }
}

export function parseExecutorName(value: unknown, where: string): ExecutorName {
  if (typeof value === 'string' && (EXECUTOR_NAMES as readonly string[]).includes(value))
    return value as ExecutorName
  throw new UsageError(`Unknown ${where} ${JSON.stringify(value)}; use one of ${EXECUTOR_NAMES.join(', ')}.`)
}

export function parseMaxSteps(value: unknown, where: string): number {
  const steps = typeof value === 'string' ? Number(value) : value
  if (typeof steps === 'number' && Number.isSafeInteger(steps) && steps > 0) return steps
  throw new UsageError(`${where} must be a positive whole number, got ${JSON.stringify(value)}.`)
}
