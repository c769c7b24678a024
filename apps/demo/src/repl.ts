import { createInterface } from 'node:readline'
import { styleText } from 'node:util'
import { Parser } from 'acorn'
import type { Executor, Limits, Tool } from '@airlock/core'
import { printOutcome } from './print-outcome.js'

export interface ReplOptions {
  readonly executor: Executor
  readonly executorName: string
  readonly tools: readonly Tool[]
  readonly allowedModules?: readonly string[]
  readonly limits?: Partial<Limits>
}

/**
 * True when `code` stops in the middle of a construct (an open brace, string or call), so the
 * REPL should read another line rather than run it. Type annotations make acorn fail elsewhere,
 * which counts as complete: the executor then reports the real error.
 */
function isIncomplete(code: string): boolean {
  try {
    Parser.parse(code, { ecmaVersion: 'latest', allowAwaitOutsideFunction: true, sourceType: 'script' })
    return false
  } catch (error) {
    const position = (error as { pos?: number }).pos ?? 0
    return position >= code.trimEnd().length
  }
}

/** An interactive session: each input runs in one executor session, so state carries over. */
export async function startRepl(options: ReplOptions): Promise<number> {
  const { executor, executorName, tools } = options
  const output = process.stdout
  await using session = await executor.createSession({
    tools,
    ...(options.allowedModules === undefined ? {} : { allowedModules: options.allowedModules }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  })
  const interactive = output.isTTY === true
  const lines = createInterface({ input: process.stdin, output, terminal: interactive })
  output.write(
    `airlock repl · executor ${executorName} · tools: ${tools.map((tool) => tool.name).join(', ')}\n` +
      'Variables persist between inputs; tools are async (await list_files()). An empty line runs an unfinished input; Ctrl+D exits.\n',
  )
  let pending = ''
  let closed = false
  lines.once('close', () => (closed = true))
  // Piped input gets no prompts, so the output is only what the code printed and returned.
  const prompt = () => {
    if (!interactive || closed) return
    lines.setPrompt(
      pending === ''
        ? styleText('cyan', '> ', { stream: output })
        : styleText('gray', '… ', { stream: output }),
    )
    lines.prompt()
  }
  prompt()
  for await (const line of lines) {
    pending = pending === '' ? line : `${pending}\n${line}`
    if (pending.trim() === '') pending = ''
    else if (line.trim() === '' || !isIncomplete(pending)) {
      const code = pending
      pending = ''
      printOutcome(await session.run(code, { onLog: (log) => output.write(`${log}\n`) }))
    }
    prompt()
  }
  if (pending.trim() !== '')
    printOutcome(await session.run(pending, { onLog: (log) => output.write(`${log}\n`) }))
  if (interactive) output.write('\n')
  return 0
}
