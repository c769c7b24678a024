import { type RunOutcome, type SessionOptions, defineTool } from '@airlock/core'
import { expect } from 'vitest'
import { createLocalExecutor } from '../../src/index.js'

/** What every escape payload does on the global it reaches: visible on the host if it escaped. */
export const PAYLOAD =
  "globalThis.__ESCAPED__ = true; if (typeof process === 'object' && process) process.env.__ESCAPED__ = '1'; return typeof process"

const host = globalThis as { __ESCAPED__?: unknown }

/** No payload ran on the host. */
export function expectNoEscape(): void {
  expect(host.__ESCAPED__).toBeUndefined()
  expect(process.env.__ESCAPED__).toBeUndefined()
}

export const echo = defineTool({
  name: 'echo',
  description: 'Returns its argument.',
  parameters: { type: 'object' },
  execute: (args: unknown) => args,
})

/** Runs `code` in a fresh session and checks that nothing escaped. */
export async function run(code: string, options: SessionOptions = {}): Promise<RunOutcome> {
  const session = await createLocalExecutor().createSession({ tools: [echo], ...options })
  try {
    return await session.run(code)
  } finally {
    await session.dispose()
    expectNoEscape()
  }
}

export function valueOf(outcome: RunOutcome): unknown {
  if (outcome.type !== 'value') throw new Error(`expected a value, got ${JSON.stringify(outcome)}`)
  return outcome.value
}
