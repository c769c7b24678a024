export { type Data, type ToDataOptions, toData } from './data.js'
export { AirlockError, DataBoundaryError, InvalidDefinitionError, ToolInputError } from './errors.js'
export type {
  Executor,
  ExecutorCapabilities,
  ExecutorSession,
  RunError,
  RunErrorKind,
  RunOptions,
  RunOutcome,
  RunStats,
  SessionOptions,
  ToolCallRecord,
} from './executor.js'
export { DEFAULT_LIMITS, type Limits, resolveLimits } from './limits.js'
export {
  addUsage,
  type ChatMessage,
  type GenerateOptions,
  type Model,
  type ModelDelta,
  type ModelOutput,
  type Usage,
  ZERO_USAGE,
} from './model.js'
export {
  type InferSchema,
  type JSONSchema,
  jsonSchema,
  type NormalizedSchema,
  type Schema,
  type SchemaIssue,
  type StandardSchemaWithJSON,
  type TypedJSONSchema,
  type ValidationResult,
} from './schema.js'
export {
  assertToolName,
  assertUniqueToolNames,
  defineTool,
  type Tool,
  type ToolContext,
  type ToolDefinition,
} from './tool.js'
