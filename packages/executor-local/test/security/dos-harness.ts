import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Limits, RunError } from '@airlock/core'
import { beforeAll, describe, expect, it } from 'vitest'

/** One denial-of-service attack and the limit that must end it. */
export interface DosCase {
  readonly name: string
  readonly code: string
  /** The run's limits; `timeoutMs` defaults to 1 s so a case that is not stopped early fails fast. */
  readonly limits?: Partial<Limits>
  readonly limit: keyof Limits
  /** The outcome when it is not the limit error (a run whose leftover work is stopped). */
  readonly outcome?: object
}

interface CaseResult {
  readonly name: string
  readonly outcome: { type: string; error?: RunError }
  readonly ms: number
  readonly rssGrowthMb: number
  readonly after: unknown
}

const runner = fileURLToPath(new URL('./dos/runner.mjs', import.meta.url))
const register = fileURLToPath(new URL('./dos/register.mjs', import.meta.url))

/** RSS a single attack may add to the host: above memoryMb (128) for one call, far below an OOM. */
const MAX_RSS_GROWTH_MB = 400

/**
 * Runs the cases in one child process (with a hard timeout) and declares one test per case,
 * asserting: the run ended with `kind: "limit"` and the expected limit, within the time limit plus
 * one second, with bounded RSS growth, and the session still answers `1 + 1` afterwards.
 */
export function describeDosCases(cases: readonly DosCase[]): void {
  // In a worker thread the same guards run; a run that will not stop is also ended with the worker.
  for (const thread of ['main', 'worker'] as const) {
    describe(`thread: ${thread}`, () => {
      describeThreadCases(cases, thread)
    })
  }
}

function describeThreadCases(cases: readonly DosCase[], thread: 'main' | 'worker'): void {
  const results = new Map<string, CaseResult>()
  let failure = ''
  const resolved = cases.map((c) => ({ ...c, limits: { timeoutMs: 1_000, ...c.limits } }))
  const budgetMs = resolved.reduce((sum, c) => sum + (c.limits.timeoutMs ?? 1_000) + 1_000, 10_000)

  beforeAll(async () => {
    const child = spawn(
      process.execPath,
      [
        '--experimental-transform-types',
        '--no-warnings',
        '--expose-gc',
        '--import',
        register,
        runner,
        thread,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    // JSON has no Infinity: limits travel with it spelled out.
    const input = resolved.map(({ name, code, limits }) => ({ name, code, limits }))
    child.stdin.end(JSON.stringify(input, (_key, value) => (value === Infinity ? 'Infinity' : value)))
    const timer = setTimeout(() => child.kill('SIGKILL'), budgetMs)
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    clearTimeout(timer)
    for (const line of stdout.split('\n')) {
      if (line.startsWith('@@case ')) {
        const result = JSON.parse(line.slice(7)) as CaseResult
        results.set(result.name, result)
      }
    }
    if (code !== 0)
      failure = `the runner exited with ${code} (killed after ${budgetMs} ms?): ${stderr.slice(-2000)}`
  }, budgetMs + 5_000)

  it.each(resolved)('$name', ({ name, limit, limits, outcome }) => {
    const result = results.get(name)
    if (result === undefined)
      throw new Error(`no result for this case: ${failure || 'the runner skipped it'}`)
    expect({
      ...result,
      withinLimitPlusOneSecond: result.ms < (limits.timeoutMs ?? 1_000) + 1_000,
      rssGrowthBounded: result.rssGrowthMb < MAX_RSS_GROWTH_MB,
    }).toMatchObject({
      outcome: outcome ?? { type: 'error', error: { kind: 'limit', limit } },
      withinLimitPlusOneSecond: true,
      rssGrowthBounded: true,
      // The session still works after the attack.
      after: 2,
    })
  })
}
