#!/usr/bin/env node
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs, styleText } from 'node:util'
import { AirlockError, CodeAgent, formatData, type RunOutcome } from '@airlock/core'
import { chooseModel, createExecutor, SAMPLE_DATA_DIR } from './compose.js'
import { type DemoConfig, type ExecutorName, loadConfig, parseExecutorName, parseMaxSteps } from './config.js'
import { printOutcome } from './print-outcome.js'
import { createJsonRenderer, createPrettyRenderer } from './render.js'
import { startRepl } from './repl.js'
import { createDemoTools } from './tools.js'
import { UsageError } from './usage-error.js'

const HELP = `airlock: an agent that acts by writing code, run in a sandbox of your choice.

Usage:
  airlock run [task] [options]    run the agent on a task (offline: replays a recorded session)
  airlock exec <file> [options]   run a JavaScript or TypeScript file in an executor
  airlock repl [options]          an interactive session that keeps state between inputs

Options:
  --executor local|isolate|e2b    where code runs (default: local, or the config's)
  --model <id>                    model for live runs (needs OPENAI_API_KEY; OPENAI_BASE_URL for other servers)
  --max-steps <n>                 steps before the agent must answer (default 10)
  --config <file>                 airlock.config.ts / .js / .json (default: ./airlock.config.* if present)
  --data <dir>                    folder the data tools read (default: the bundled sample data)
  --out <dir>                     folder write_report writes to (default: ./airlock-out)
  --json                          print the event stream as JSON lines
  -h, --help                      this text

Without OPENAI_API_KEY, \`airlock run\` replays a recorded model session (the code is still executed for real).`

interface Options {
  readonly executor: ExecutorName
  readonly config: DemoConfig
  readonly dataDir: string
  readonly outDir: string
  readonly maxSteps: number
  readonly json: boolean
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      executor: { type: 'string' },
      model: { type: 'string' },
      'max-steps': { type: 'string' },
      config: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  const [command, ...rest] = positionals
  if (values.help || command === undefined) {
    process.stdout.write(`${HELP}\n`)
    return command === undefined && !values.help ? 2 : 0
  }
  const cwd = process.cwd()
  const fileConfig = await loadConfig(values.config, cwd)
  const config: DemoConfig = { ...fileConfig, ...(values.model === undefined ? {} : { model: values.model }) }
  const options: Options = {
    executor:
      values.executor === undefined
        ? (config.executor ?? 'local')
        : parseExecutorName(values.executor, '--executor'),
    config,
    dataDir: values.data === undefined ? (config.dataDir ?? SAMPLE_DATA_DIR) : path.resolve(cwd, values.data),
    outDir:
      values.out === undefined
        ? (config.outDir ?? path.resolve(cwd, 'airlock-out'))
        : path.resolve(cwd, values.out),
    maxSteps:
      values['max-steps'] === undefined
        ? (config.maxSteps ?? 10)
        : parseMaxSteps(values['max-steps'], '--max-steps'),
    json: values.json,
  }
  switch (command) {
    case 'run':
      return runTask(rest.length === 0 ? undefined : rest.join(' '), options)
    case 'exec':
      if (rest.length !== 1)
        throw new UsageError('Give exactly one file: airlock exec file.js [--executor local|isolate|e2b].')
      return execFile(path.resolve(cwd, rest[0]!), options)
    case 'repl':
      return startRepl({
        executor: await createExecutor(options.executor, config.executorSettings),
        executorName: options.executor,
        tools: createDemoTools(options),
        ...(config.allowedModules === undefined ? {} : { allowedModules: config.allowedModules }),
        ...(config.limits === undefined ? {} : { limits: config.limits }),
      })
    default:
      throw new UsageError(`Unknown command "${command}"; use run, exec or repl (airlock --help).`)
  }
}

async function runTask(taskArgument: string | undefined, options: Options): Promise<number> {
  const { config } = options
  const { model, replay, task } = await chooseModel(taskArgument, config)
  const executor = await createExecutor(options.executor, config.executorSettings)
  const agent = new CodeAgent({
    model,
    executor,
    tools: createDemoTools(options),
    maxSteps: options.maxSteps,
    ...(config.instructions === undefined ? {} : { instructions: config.instructions }),
    ...(config.allowedModules === undefined ? {} : { allowedModules: config.allowedModules }),
    ...(config.limits === undefined ? {} : { limits: config.limits }),
  })
  const renderer = options.json
    ? createJsonRenderer(process.stdout)
    : createPrettyRenderer(process.stdout, process.stderr)
  if (!options.json) {
    const source =
      replay === undefined
        ? `model ${model.id}`
        : styleText(
            'yellow',
            `REPLAY of a recorded model session (${replay.name}); set OPENAI_API_KEY for a live model`,
            { stream: process.stdout },
          )
    process.stdout.write(
      `${styleText('bold', 'Task:', { stream: process.stdout })} ${task}\n${source} · executor ${options.executor} · data ${options.dataDir}\n`,
    )
  }
  const controller = new AbortController()
  const onInterrupt = () => controller.abort(new Error('Interrupted'))
  process.once('SIGINT', onInterrupt)
  let state: string | undefined
  try {
    for await (const event of agent.stream(task, { signal: controller.signal })) {
      renderer.render(event)
      if (event.type === 'done') state = event.result.state
    }
  } finally {
    renderer.close()
    process.off('SIGINT', onInterrupt)
  }
  return state === 'success' ? 0 : 1
}

async function execFile(file: string, options: Options): Promise<number> {
  let code: string
  try {
    code = await readFile(file, 'utf8')
  } catch (error) {
    throw new UsageError(
      `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
  const executor = await createExecutor(options.executor, options.config.executorSettings)
  await using session = await executor.createSession({
    tools: createDemoTools(options),
    ...(options.config.allowedModules === undefined ? {} : { allowedModules: options.config.allowedModules }),
    ...(options.config.limits === undefined ? {} : { limits: options.config.limits }),
  })
  const outcome = await session.run(code, {
    onLog: options.json ? undefined : (line) => process.stdout.write(`${line}\n`),
  })
  if (options.json) process.stdout.write(`${JSON.stringify(outcomeForJson(outcome))}\n`)
  else printOutcome(outcome)
  return outcome.type === 'error' ? 1 : 0
}

function outcomeForJson(outcome: RunOutcome): unknown {
  if (outcome.type === 'error') return outcome
  const value = outcome.type === 'value' ? outcome.value : outcome.answer
  return { ...outcome, [outcome.type === 'value' ? 'value' : 'answer']: formatData(value) }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (AirlockError.isInstance(error) || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`airlock: ${(error as Error).message}\n`)
      process.exitCode = 2
    } else if ((error as Error).message === 'Interrupted') {
      process.stderr.write('airlock: interrupted\n')
      process.exitCode = 130
    } else {
      process.stderr.write(`airlock: ${(error as Error).stack ?? String(error)}\n`)
      process.exitCode = 1
    }
  },
)
