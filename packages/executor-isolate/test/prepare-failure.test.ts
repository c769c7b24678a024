import * as core from '@airlock/core'
import { describe, expect, it, vi } from 'vitest'
import { isolationModes } from './support.js'

// The full preparation is not known to throw on any input; this stands in for a bug in it.
vi.mock('@airlock/core', async (importOriginal) => ({
  ...(await importOriginal<typeof core>()),
  prepareRun: () => {
    throw new Error('the preparation broke')
  },
}))

const { each } = isolationModes()

for (const [mode, executor] of each) {
  describe(`a full preparation that throws (${mode})`, () => {
    it.each([
      ['code the quick reading leaves to it', 'class Point {}\nnew Point()', false],
      ['TypeScript the quick reading let through', 'function f() { let x: number = 1; return x }\nf()', true],
    ])(
      'ends the run with an internal error for %s, and the session goes on',
      async (_, code, readQuickly) => {
        await using session = await executor.createSession()
        const quick = core.prepareCodeActionQuickly(code, { importFunction: '__airlock_import' })
        expect(quick !== undefined).toBe(readQuickly)
        expect(await session.run(code)).toMatchObject({
          type: 'error',
          error: {
            kind: 'internal',
            message: 'The code could not be prepared: the preparation broke',
          },
        })
        expect(await session.run('const two = 1 + 1\ntwo')).toMatchObject({ type: 'value', value: 2 })
      },
    )
  })
}
