import { fileURLToPath } from 'node:url'
import { afterAll } from 'vitest'
import { createIsolateExecutor } from '../src/index.js'

/** The directory whose node_modules holds the test packages. */
export const fixturesRoot = fileURLToPath(new URL('./fixtures/', import.meta.url))

/**
 * The executor in both isolation modes, for tests that must hold in each: isolates in this process,
 * and in one sandbox child process, which is closed after the test file.
 */
export function isolationModes() {
  const inProcess = createIsolateExecutor({ isolation: 'in-process' })
  const inChildren = createIsolateExecutor({ processes: 1 })
  afterAll(() => inChildren.close())
  const each = [
    ['in-process', inProcess],
    ['process', inChildren],
  ] as const
  return { inChildren, each }
}
