import { describeExecutorContract } from '@airlock/core/testing'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { createE2BExecutor } from '../src/index.js'
import { FakeE2B, assertNoUnknownRoutes, assertNothingLeft } from './support/fake-e2b.js'
import { fixtureTemplateFiles, importFixture } from './support/fixtures.js'
import { templateNode } from './support/sandbox-node.js'

const node = templateNode()
let fake: FakeE2B

beforeAll(async () => {
  fake = await FakeE2B.start({
    templates: { 'code-interpreter-v1': fixtureTemplateFiles },
    ...(node.env === undefined ? {} : { templateEnv: { 'code-interpreter-v1': node.env } }),
  })
})

afterEach(() => {
  // A route the fake does not know means the SDK moved one: the fake (and this executor) need a look.
  assertNoUnknownRoutes(fake)
})

afterAll(async () => {
  try {
    await assertNothingLeft(fake)
  } finally {
    await fake.close()
  }
})

// timeScale: every run is a few HTTP round trips to the fake, and sandboxes start real processes.
describeExecutorContract(
  `e2b (fake server, sandbox ${node.version})`,
  () => createE2BExecutor(fake.connection),
  {
    importFixture,
    timeScale: 2,
  },
)
