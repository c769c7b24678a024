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

const importFixture = { module: 'acorn', exportName: 'version', expected: acornVersion }

describeExecutorContract('local', () => createLocalExecutor(), {
  importFixture,
  // An interpreter in the main thread blocks the event loop while sandbox code runs without
  // awaiting, so a host timer that aborts the signal cannot fire until the code awaits
  // (README, Limits). In a worker thread it can: the same case runs below.
  skip: ['abort'],
})

describeExecutorContract('local in a worker thread', () => createLocalExecutor({ thread: 'worker' }), {
  importFixture,
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
