import { describeExecutorContract } from '../src/testing/index.js'
import { createTestExecutor, testExecutorImportFixture } from './support/test-executor.js'

describeExecutorContract('test executor', () => createTestExecutor(), {
  importFixture: testExecutorImportFixture,
})
