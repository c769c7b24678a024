// Behaviour of the harness in the sandbox that the executor contract does not pin.

import { describe, expect, it, onTestFinished } from 'vitest'
import { type E2BSession, createE2BExecutor } from '../src/index.js'
import { useFakeE2B, value } from './support/fake-e2b.js'

const fake = useFakeE2B()

async function open(): Promise<E2BSession> {
  const session = await createE2BExecutor(fake.connection).createSession()
  onTestFinished(() => session.dispose())
  return session
}

describe('the harness', () => {
  it("gives the code Node's web globals and timers, but not process", async () => {
    const session = await open()
    expect(
      value(
        await session.run(
          [
            'await new Promise((resolve) => setTimeout(resolve, 5))',
            "const url = new URL('https://example.com/a?b=1')",
            ';[typeof fetch, url.searchParams.get("b"), new TextEncoder().encode("hé").length, typeof Buffer, typeof process, typeof require]',
          ].join('\n'),
        ),
      ),
    ).toEqual(['function', '1', 3, 'function', 'undefined', 'function'])
  })

  it('drops output a finished run prints later, instead of charging it to the next run', async () => {
    const session = await open()
    const first = await session.run("setTimeout(() => console.log('late'), 50)\n'first'")
    expect(first).toMatchObject({ type: 'value', value: 'first', logs: '' })
    const second = await session.run("await new Promise((resolve) => setTimeout(resolve, 200))\n'second'")
    expect(second).toMatchObject({ type: 'value', value: 'second', logs: '' })
  })

  it('an exception thrown by a timer during a run ends the run; a stray rejection does not', async () => {
    const session = await open()
    expect(
      await session.run(
        "setTimeout(() => { throw new RangeError('from a timer') }, 5)\nawait new Promise((resolve) => setTimeout(resolve, 200))",
      ),
    ).toMatchObject({
      type: 'error',
      error: { kind: 'runtime', name: 'RangeError', message: 'Uncaught from a timer' },
    })
    expect(
      value(
        await session.run(
          "Promise.reject(new Error('ignored'))\nawait new Promise((r) => setTimeout(r, 20))\n'alive'",
        ),
      ),
    ).toBe('alive')
  })

  it('keeps state across many runs and re-declarations', async () => {
    const session = await open()
    let expected = 0
    for (let index = 0; index < 5; index++) {
      expected += index
      const code = `const n = ${index}\nlet total = (globalThis.total ?? 0) + n\nglobalThis.total = total`
      expect(value(await session.run(code))).toBe(expected)
    }
    expect(value(await session.run('[n, total]'))).toEqual([4, 10])
  })
})
