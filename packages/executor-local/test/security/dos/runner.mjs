// Runs DoS cases from the package sources, one fresh session each, and prints one JSON line per
// case: the outcome, how long it took, how much the RSS grew, and what `1 + 1` gives afterwards in
// the same session (the session must stay usable). Started by dos-harness.ts in a child process
// with a hard timeout, so a case that hangs or crashes the process cannot take the test runner down.
import { readFileSync, writeSync } from 'node:fs'

const { createLocalExecutor } = await import('../../../src/index.ts')
const { defineTool } = await import('@airlock/core')

const tools = [
  defineTool({
    name: 'echo',
    description: 'Returns its argument.',
    parameters: { type: 'object' },
    execute: (args) => args,
  }),
  defineTool({
    name: 'slow',
    description: 'Never answers.',
    parameters: { type: 'object' },
    execute: () => new Promise(() => {}),
  }),
]

const cases = JSON.parse(readFileSync(0, 'utf8'), (_key, value) => (value === 'Infinity' ? Infinity : value))
// The interpreter's thread: 'main' (the default) or 'worker', from the harness.
const executor = createLocalExecutor({ thread: process.argv[2] })
const rss = () => {
  globalThis.gc?.()
  return process.memoryUsage().rss
}
const baseline = rss()
for (const { name, code, limits } of cases) {
  const session = await executor.createSession({ tools, limits })
  const before = rss()
  const started = performance.now()
  const outcome = await session.run(code)
  const ms = performance.now() - started
  const peak = process.memoryUsage().rss
  const after = await session.run('1 + 1')
  await session.dispose()
  const line = {
    name,
    outcome:
      outcome.type === 'error'
        ? {
            type: 'error',
            error: { ...outcome.error, message: outcome.error.message.slice(0, 300), codeFrame: undefined },
          }
        : { type: outcome.type },
    ms,
    rssGrowthMb: (peak - before) / 2 ** 20,
    retainedMb: (rss() - baseline) / 2 ** 20,
    after: after.type === 'value' ? after.value : after,
  }
  // Synchronous: the process exits right after the last case, before an async pipe write would end.
  writeSync(1, `@@case ${JSON.stringify(line)}\n`)
}
process.exit(0)
