import { afterAll, describe, expect, it } from 'vitest'
import { createIsolateExecutor, ModuleLoadError, SandboxStartError } from '../src/index.js'
import { fixturesRoot } from './support.js'

const executor = createIsolateExecutor({ moduleRoot: fixturesRoot })
afterAll(() => executor.close())

describe('allowlisted modules', () => {
  it('loads an ES module package with its relative imports and default export', async () => {
    await using session = await executor.createSession({ allowedModules: ['airlock-esm-fixture'] })
    expect(
      await session.run(
        "import greet, { square, loads } from 'airlock-esm-fixture'\nconst ns = require('airlock-esm-fixture')\n;[greet('you'), square(4), loads, ns.add(1, 2)]",
      ),
    ).toMatchObject({ type: 'value', value: ['hello you', 16, 1, 3] })
  })

  it('loads a CommonJS package with relative requires, a dependency, JSON and lazy requires', async () => {
    await using session = await executor.createSession({ allowedModules: ['airlock-cjs-fixture'] })
    expect(
      await session.run(
        "import { pad, shout } from 'airlock-cjs-fixture'\nconst cjs = require('airlock-cjs-fixture')\nconst def = (await import('airlock-cjs-fixture')).default\n;[pad(7, 3), shout('hi'), cjs.version, cjs.lazy(), def === cjs]",
      ),
    ).toMatchObject({ type: 'value', value: ['007', 'HI!', '2.0.0', 'lazy string', true] })
  })

  it('gives every session its own instance of a module', async () => {
    await using first = await executor.createSession({ allowedModules: ['airlock-cjs-fixture'] })
    await using second = await executor.createSession({ allowedModules: ['airlock-cjs-fixture'] })
    await first.run("require('airlock-cjs-fixture').state.count += 5")
    expect(await second.run("require('airlock-cjs-fixture').state.count")).toMatchObject({
      type: 'value',
      value: 0,
    })
  })

  it("refuses a dependency the package did not declare: the allowlist is not a package's dependencies", async () => {
    await using session = await executor.createSession({ allowedModules: ['airlock-cjs-fixture'] })
    const outcome = await session.run("require('airlock-cjs-dep')")
    expect(outcome).toMatchObject({ type: 'error', error: { kind: 'forbidden' } })
  })

  it('refuses Node built-ins, native addons and unknown packages when the session is created', async () => {
    for (const name of ['fs', 'node:child_process', 'airlock-native-fixture', 'airlock-no-such-package']) {
      const error = await executor
        .createSession({ allowedModules: [name] })
        .catch((caught: unknown) => caught)
      expect(ModuleLoadError.isInstance(error), `${name}: ${String(error)}`).toBe(true)
      expect((error as Error).message).toContain(name)
    }
  })

  it('refuses a package that imports a built-in, naming it', async () => {
    const error = await executor
      .createSession({ allowedModules: ['airlock-fs-fixture'] })
      .catch((caught: unknown) => caught)
    expect(SandboxStartError.isInstance(error)).toBe(true)
    expect((error as Error).message).toMatch(/node:fs/)
  })
})
