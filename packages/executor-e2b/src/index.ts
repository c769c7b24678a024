export {
  AIRLOCK_METADATA,
  createE2BExecutor,
  type E2BConnectionSettings,
  E2BExecutor,
  type E2BExecutorSettings,
} from './e2b-executor.js'
export { E2BSession } from './e2b-session.js'
export {
  E2BAuthenticationError,
  E2BConfigurationError,
  E2BHarnessError,
  E2BRateLimitError,
  E2BSandboxNotFoundError,
  E2BUnavailableError,
} from './errors.js'
export {
  findOrphanedSandboxes,
  killOrphanedSandboxes,
  type OrphanedSandbox,
  type OrphanedSandboxesOptions,
} from './orphans.js'
