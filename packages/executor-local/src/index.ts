export { createLocalExecutor, LocalExecutor, type LocalExecutorSettings } from './local-executor.js'
export { Interpreter, CompileError, type EvaluateOptions, lineColumn } from './interpreter.js'
