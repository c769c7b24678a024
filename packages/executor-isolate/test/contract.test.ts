import { describeExecutorContract } from '@airlock/core/testing'
import { afterAll } from 'vitest'
import { createIsolateExecutor } from '../src/index.js'
import { fixturesRoot } from './support.js'

const importFixture = { module: 'airlock-esm-fixture', exportName: 'add', args: [2, 3], expected: 5 }

const inProcess = createIsolateExecutor({ isolation: 'in-process', moduleRoot: fixturesRoot })
const inChildren = createIsolateExecutor({ isolation: 'process', moduleRoot: fixturesRoot })
afterAll(() => inChildren.close())

describeExecutorContract('isolate (process isolation)', () => inChildren, { importFixture })
describeExecutorContract('isolate (in-process)', () => inProcess, { importFixture })
