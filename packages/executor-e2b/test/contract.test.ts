import { describeExecutorContract } from '@airlock/core/testing'
import { createE2BExecutor } from '../src/index.js'
import { useFakeE2B } from './support/fake-e2b.js'
import { fixtureTemplateFiles, importFixture } from './support/fixtures.js'
import { templateNode } from './support/sandbox-node.js'

const node = templateNode()
const fake = useFakeE2B({
  templates: { 'code-interpreter-v1': fixtureTemplateFiles },
  ...(node.env === undefined ? {} : { templateEnv: { 'code-interpreter-v1': node.env } }),
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
