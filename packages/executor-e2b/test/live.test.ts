// The contract suite against real E2B. It runs only when E2B_API_KEY is set (never in offline CI)
// and costs a few sandbox-minutes; every sandbox it makes is tagged and killed afterwards.

import { describeExecutorContract } from '@airlock/core/testing'
import { afterAll, describe } from 'vitest'
import { createE2BExecutor, killOrphanedSandboxes } from '../src/index.js'

const apiKey = process.env.E2B_API_KEY ?? ''
const runTag = `live-${Date.now()}`

describe.skipIf(apiKey === '')('e2b (live, needs E2B_API_KEY)', () => {
  afterAll(async () => {
    // Sessions dispose their sandboxes; this catches any a failing case left behind.
    await killOrphanedSandboxes({ apiKey, metadata: { airlockTest: runTag } })
  })

  describeExecutorContract(
    'e2b (live)',
    () => createE2BExecutor({ apiKey, metadata: { airlockTest: runTag } }),
    {
      // A builtin, since the stock template has no extra npm packages.
      importFixture: { module: 'node:path', exportName: 'join', args: ['a', 'b'], expected: 'a/b' },
      // Each run crosses the internet; sandboxes take a moment to start.
      timeScale: 10,
    },
  )
})
