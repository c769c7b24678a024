import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describeExecutorContract } from '@airlock/core/testing'
import { describe, expect, it } from 'vitest'
import { createLocalExecutor } from '../src/index.js'

// acorn (a dependency of this package) is a real CommonJS package of 6,000 lines: it loads
// inside the interpreter.
const acornVersion = (
  JSON.parse(readFileSync(createRequire(import.meta.url).resolve('acorn/package.json'), 'utf8')) as {
    version: string
  }
).version

describeExecutorContract('local', () => createLocalExecutor(), {
  importFixture: { module: 'acorn', exportName: 'version', expected: acornVersion },
  skip: [
    // An in-process interpreter blocks the event loop while sandbox code runs synchronously, so
    // a host timer that aborts the signal cannot fire until the code awaits (README, Limits).
    'abort',
    // These run `while (true) {}` under the default maxOperations (10 million) and expect the
    // 500 ms deadline to trip first; this interpreter runs 10 million loop iterations in about
    // 50 ms, so maxOperations trips first. The same cases with maxOperations: Infinity follow.
    'limit-timeout',
    'limit-timeout-async',
    'limit-session-after',
  ],
})

describe('contract limit cases with maxOperations: Infinity', () => {
  const limits = { timeoutMs: 500, maxOperations: Infinity }

  it('an endless loop ends with a timeoutMs limit error soon after the deadline, even inside try', async () => {
    await using session = await createLocalExecutor().createSession({ limits })
    let started = performance.now()
    const outcome = await session.run("console.log('started')\nwhile (true) {}")
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(outcome).toMatchObject({
      type: 'error',
      error: { kind: 'limit', limit: 'timeoutMs' },
      logs: 'started\n',
    })
    started = performance.now()
    expect(await session.run("try {\n  while (true) {}\n} catch {}\n'escaped'")).toMatchObject({
      type: 'error',
      error: { kind: 'limit', limit: 'timeoutMs' },
    })
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('the deadline covers the async tail and promises that never settle', async () => {
    await using session = await createLocalExecutor().createSession({ limits })
    expect(await session.run('await null\nwhile (true) {}')).toMatchObject({
      error: { kind: 'limit', limit: 'timeoutMs' },
    })
    const started = performance.now()
    expect(await session.run('await new Promise(() => {})')).toMatchObject({
      error: { kind: 'limit', limit: 'timeoutMs' },
    })
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('after a limit the session keeps its state', async () => {
    await using session = await createLocalExecutor().createSession({ limits, variables: { initial: 'v' } })
    await session.run("const kept = 'still here'")
    expect(await session.run('while (true) {}')).toMatchObject({
      error: { kind: 'limit', limit: 'timeoutMs' },
    })
    expect(await session.run('[kept, initial, 1 + 1]')).toMatchObject({ value: ['still here', 'v', 2] })
  })
})

describe('code actions are parsed as JavaScript first', () => {
  it('JavaScript that TypeScript reads differently runs as TypeScript; other JavaScript as is', async () => {
    await using session = await createLocalExecutor().createSession()
    expect(await session.run('const f = (x) => x * 2\nconst T = 1\nf<T>(21)')).toMatchObject({ value: 42 })
    expect(
      await session.run(
        'const a = 1, b = 2;\n[a < b && b > a, (a) < (b), a << 2 > 3, true ? (a) : (x) => x]',
      ),
    ).toMatchObject({ value: [true, true, true, 1] })
    expect(await session.run('const n: number = 40\nn + (2 as number)')).toMatchObject({ value: 42 })
    expect(await session.run('enum Color { Red }')).toMatchObject({
      type: 'error',
      error: { kind: 'syntax', line: 1, column: 1 },
    })
  })
})
