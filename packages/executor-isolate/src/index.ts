export { createIsolateExecutor, IsolateExecutor, type IsolateExecutorSettings } from './isolate-executor.js'
export { MissingNodeFlagError, ModuleLoadError, SandboxStartError } from './errors.js'
