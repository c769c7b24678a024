import { prepareCodeActionQuickly, prepareRun } from '@airlock/core'
import { describe, expect, it } from 'vitest'
import { isolationModes } from './support.js'

const importFunction = '__airlock_import'

const { each } = isolationModes()

for (const [mode, executor] of each) {
  // A run's script is compiled inside the call that runs it; these are the paths where compiling
  // or declaring fails before any of the code runs.
  describe(`compiling a run (${mode})`, () => {
    it('reports what V8 refuses after acorn accepted it as a syntax error with its position, running nothing', async () => {
      await using session = await executor.createSession()
      const tooManyArguments = `Math.max(${'0,'.repeat(70_000)}0)`
      const outcome = await session.run(`console.log('ran')\nglobalThis.ran = true\n${tooManyArguments}`)
      expect(outcome).toMatchObject({
        type: 'error',
        error: {
          kind: 'syntax',
          name: 'SyntaxError',
          line: 3,
          message: expect.stringMatching(/too many arguments/i),
        },
        logs: '',
      })
      expect(outcome.type === 'error' && outcome.error.column).toBeGreaterThanOrEqual(1)
      expect(await session.run('typeof ran')).toMatchObject({ type: 'value', value: 'undefined' })
    })

    it('runs TypeScript that the quick reading let through, once prepared in full', async () => {
      await using session = await executor.createSession()
      const code = 'const base = 40\nfunction f() { let x: number = base + 1; return x + 1 }\nf()'
      // The quick reading takes this for JavaScript; its script does not compile.
      expect(prepareCodeActionQuickly(code, { importFunction })).toBeDefined()
      expect(await session.run(code)).toMatchObject({ type: 'value', value: 42 })
      expect(await session.run('base')).toMatchObject({ type: 'value', value: 40 })
    })

    it('reports a syntax error the quick reading let through as the full preparation does, declaring nothing', async () => {
      await using session = await executor.createSession()
      const code = "console.log('ran')\nconst leftover = 1\nconst broken = 1 +"
      expect(prepareCodeActionQuickly(code, { importFunction })).toBeDefined()
      const expected = prepareRun(code, { importFunction, maxValueBytes: 1_000 })
      expect(expected).toHaveProperty('error')
      const outcome = await session.run(code)
      expect(outcome).toMatchObject({ type: 'error', logs: '' })
      expect(outcome.type === 'error' && outcome.error).toEqual('error' in expected && expected.error)
      expect(await session.run('typeof leftover')).toMatchObject({ type: 'value', value: 'undefined' })
    })

    it('ends code nested too deeply to read with a syntax error, and reads TypeScript after it', async () => {
      await using session = await executor.createSession()
      for (const code of [
        `x = ${'['.repeat(5_000)}${']'.repeat(5_000)}`,
        `let x: number = ${'!'.repeat(20_000)}1`,
      ]) {
        expect(await session.run(code)).toMatchObject({ type: 'error', error: { kind: 'syntax' } })
      }
      expect(await session.run('const typed: number = 41\ntyped + 1')).toMatchObject({
        type: 'value',
        value: 42,
      })
    })

    it('makes top-level names globals that cannot be deleted, as var does', async () => {
      await using session = await executor.createSession()
      await session.run('const kept = 1\nlet other = 2')
      expect(
        await session.run(
          "[Object.getOwnPropertyDescriptor(globalThis, 'kept'), delete globalThis.kept, kept, other]",
        ),
      ).toMatchObject({
        type: 'value',
        value: [{ value: 1, writable: true, enumerable: true, configurable: false }, false, 1, 2],
      })
    })

    it('declares top-level names when sandbox code replaced the string methods the host relies on', async () => {
      await using session = await executor.createSession()
      await session.run(
        "String.prototype.indexOf = () => -1; String.prototype.slice = () => 'hijacked'; String.prototype[Symbol.split] = () => ['hijacked']",
      )
      expect(
        await session.run("'use strict'\nconst first = 1, second = 2;\n[first, second, typeof hijacked]"),
      ).toMatchObject({
        type: 'value',
        value: [1, 2, 'undefined'],
      })
    })

    it('declares top-level names on the real global when sandbox code rebinds globalThis', async () => {
      await using session = await executor.createSession()
      await session.run('globalThis.globalThis = { fake: true }')
      // Strict code cannot assign a name that was never declared: this fails unless it was.
      expect(await session.run("'use strict'\nconst answer = 42\nanswer")).toMatchObject({
        type: 'value',
        value: 42,
      })
      expect(await session.run('[answer, globalThis.fake]')).toMatchObject({
        type: 'value',
        value: [42, true],
      })
    })

    it('ends the run with the error a var would raise when the global refuses new names', async () => {
      await using session = await executor.createSession()
      await session.run('const before = 1\nObject.preventExtensions(globalThis)')
      const outcome = await session.run("console.log('ran')\nconst after = 2")
      expect(outcome).toMatchObject({ type: 'error', error: { name: 'TypeError' }, logs: '' })
      expect(outcome.type === 'error' && outcome.error.kind).not.toBe('internal')
      // Names declared before stay usable.
      expect(await session.run('before = 5\nbefore')).toMatchObject({ type: 'value', value: 5 })
    })
  })
}
