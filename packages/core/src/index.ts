export { abortable } from './abortable.js'
export {
  type ActionStep,
  type AgentEvent,
  type AgentRunOptions,
  type AgentStep,
  CodeAgent,
  type CodeAgentOptions,
  type FinalAnswerCheck,
  type FinalAnswerCheckContext,
  type FinalStep,
  type ManagedAgentArgs,
  type PlanningStep,
  type RunResult,
  type StepCallback,
  type StepEndContext,
  type StepError,
} from './code-agent.js'
export {
  CODE_STOP_SEQUENCES,
  type CodeLanguage,
  END_CODE,
  type ExtractedCode,
  extractCode,
} from './code-extraction.js'
export {
  codeFrame,
  mayReadAsTypeScript,
  type PreparedCodeAction,
  type PrepareCodeActionOptions,
  prepareCodeAction,
} from './code-action.js'
export { prepareCodeActionQuickly } from './quick-code-action.js'
export { type Data, type ToDataOptions, toData } from './data.js'
export {
  schemaToTypeScript,
  type SchemaToTypeScriptOptions,
  toolDeclaration,
  toolDeclarations,
} from './declarations.js'
export {
  AirlockError,
  CodeSyntaxError,
  DataBoundaryError,
  InvalidDefinitionError,
  ToolInputError,
} from './errors.js'
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
  abortedRunError,
  copySessionVariables,
  LogCollector,
  prepareRun,
  prepareRunQuickly,
  type RunEnding,
  type RunEndingContext,
  RunRecorder,
  type RunRecorderOptions,
  sessionDisposedError,
  SessionRuns,
  syntaxRunError,
  toRunEnding,
} from './run-support.js'
export {
  type CopyOutcome,
  createSandboxRuntime,
  type SandboxRunResult,
  type SandboxRuntime,
  type SandboxRuntimeHooks,
  sandboxRuntimeSource,
  type ThrownError,
} from './sandbox-runtime.js'
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
export {
  copyToolArguments,
  createToolCaller,
  type ToolArgumentsCopy,
  type ToolCaller,
  type ToolCallerOptions,
  type ToolCallOutcome,
} from './tool-calls.js'
export { codeActionParseOptions, lineStarts, positionAt, stripTypeScript } from './typescript.js'
export { validateJsonSchema } from './json-schema.js'
export { formatData } from './format-data.js'
export { formatObservation, type ObservationOptions, truncateText } from './observation.js'
export { buildSystemPrompt, buildTaskMessage, type SystemPromptOptions } from './prompt.js'
export { entryScript } from './entry-script.js'
