import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Executor, Model } from '@airlock/core'
import { ScriptedModel } from '@airlock/core/testing'
import type { DemoConfig, ExecutorName } from './config.js'
import { UsageError } from './usage-error.js'

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** The sample data shipped with the demo. */
export const SAMPLE_DATA_DIR = path.join(appDir, 'data')
const RECORDINGS_DIR = path.join(appDir, 'recordings')

/**
 * Creates the executor by name. Each package is imported only when chosen, so a machine without,
 * say, isolated-vm's binary can still run the local executor.
 */
export async function createExecutor(
  name: ExecutorName,
  settings: Readonly<Record<string, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<Executor> {
  // Settings come from the user's config file as plain data; each factory checks its own.
  switch (name) {
    case 'local': {
      const { createLocalExecutor } = await import('@airlock/executor-local')
      return createLocalExecutor(settings as Parameters<typeof createLocalExecutor>[0])
    }
    case 'isolate': {
      const { createIsolateExecutor } = await import('@airlock/executor-isolate')
      return createIsolateExecutor(settings as Parameters<typeof createIsolateExecutor>[0])
    }
    case 'e2b':
      if (!env.E2B_API_KEY && settings.apiKey === undefined) {
        throw new UsageError(
          'The e2b executor needs an E2B API key: set E2B_API_KEY (from https://e2b.dev/dashboard), or choose --executor local.',
        )
      }
      {
        const { createE2BExecutor } = await import('@airlock/executor-e2b')
        return createE2BExecutor(settings as Parameters<typeof createE2BExecutor>[0])
      }
  }
}

/** A recorded session of a live model: the task and the model's reply at each step. */
export interface Recording {
  readonly name: string
  readonly task: string
  readonly outputs: readonly string[]
}

export function listRecordings(): Recording[] {
  return readdirSync(RECORDINGS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const { task, outputs } = JSON.parse(readFileSync(path.join(RECORDINGS_DIR, file), 'utf8')) as Recording
      return { name: file.replace(/\.json$/, ''), task, outputs }
    })
}

const normalize = (task: string) => task.trim().toLowerCase().replace(/\s+/g, ' ')

/** The recording for `task` (matched by its text or its name), or a usage error listing them. */
export function findRecording(task: string | undefined): Recording {
  const recordings = listRecordings()
  if (task === undefined) return recordings[0]!
  const found = recordings.find(
    (recording) => normalize(recording.task) === normalize(task) || recording.name === task.trim(),
  )
  if (found !== undefined) return found
  throw new UsageError(
    `No recorded session for this task, and no OPENAI_API_KEY for a live model. Set OPENAI_API_KEY (and OPENAI_BASE_URL for another server), or run a recorded task: ${recordings.map((recording) => `"${recording.task}"`).join(', ')}.`,
  )
}

export interface ModelChoice {
  readonly model: Model
  /** Set when the model replays a recording instead of calling a live one. */
  readonly replay?: Recording
}

/** A live model when OPENAI_API_KEY is set, otherwise the recorded session of `task`. */
export async function chooseModel(
  task: string | undefined,
  config: DemoConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ModelChoice & { readonly task: string }> {
  if (env.OPENAI_API_KEY) {
    if (task === undefined) throw new UsageError('Give the task to run: airlock run "your task".')
    const { createOpenAIModel } = await import('@airlock/openai')
    const baseURL = config.baseURL ?? env.OPENAI_BASE_URL
    const model = createOpenAIModel({
      model: config.model ?? 'gpt-5-mini',
      apiKey: env.OPENAI_API_KEY,
      ...(baseURL === undefined ? {} : { baseURL }),
    })
    return { model, task }
  }
  const recording = findRecording(task)
  const model = new ScriptedModel(recording.outputs, {
    id: `replay:${recording.name}`,
    streaming: true,
    estimateUsage: true,
  })
  return { model, replay: recording, task: recording.task }
}
