const airlockMarker = Symbol.for('airlock.error')

function hasMarker(value: unknown, marker: symbol): boolean {
  return typeof value === 'object' && value !== null && marker in value
}

/**
 * Base class of every error airlock throws. `isInstance` checks a `Symbol.for` marker instead of
 * the prototype chain, so it answers correctly when two copies of `@airlock/core` are installed.
 */
export class AirlockError extends Error {
  private readonly [airlockMarker] = true

  constructor(name: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = name
  }

  static isInstance(error: unknown): error is AirlockError {
    return hasMarker(error, airlockMarker)
  }
}

const invalidDefinitionMarker = Symbol.for('airlock.error.InvalidDefinitionError')

/** A tool, agent, limit or other definition is malformed; the message says what to change. */
export class InvalidDefinitionError extends AirlockError {
  private readonly [invalidDefinitionMarker] = true

  constructor(message: string, options?: { cause?: unknown }) {
    super('InvalidDefinitionError', message, options)
  }

  static override isInstance(error: unknown): error is InvalidDefinitionError {
    return hasMarker(error, invalidDefinitionMarker)
  }
}

const dataBoundaryMarker = Symbol.for('airlock.error.DataBoundaryError')

/**
 * A value could not cross between sandbox and host: a function, getter, proxy, thenable, class
 * instance, cycle, or a value over the size limit. `path` locates it (`result.items[3].fn`).
 */
export class DataBoundaryError extends AirlockError {
  private readonly [dataBoundaryMarker] = true
  readonly path: string

  constructor(path: string, problem: string) {
    super('DataBoundaryError', `${path}: ${problem}`)
    this.path = path
  }

  static override isInstance(error: unknown): error is DataBoundaryError {
    return hasMarker(error, dataBoundaryMarker)
  }
}

const toolInputMarker = Symbol.for('airlock.error.ToolInputError')

/** Arguments given to a tool do not match its parameter schema. */
export class ToolInputError extends AirlockError {
  private readonly [toolInputMarker] = true
  readonly toolName: string
  readonly issues: readonly { path: string; message: string }[]

  constructor(toolName: string, issues: readonly { path: string; message: string }[]) {
    const listed = issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n')
    super('ToolInputError', `Invalid arguments for tool ${toolName}:\n${listed}`)
    this.toolName = toolName
    this.issues = issues
  }

  static override isInstance(error: unknown): error is ToolInputError {
    return hasMarker(error, toolInputMarker)
  }
}

const agentModelMarker = Symbol.for('airlock.error.AgentModelError')

/**
 * The model call of an agent step failed (network, provider, auth, ...), after whatever retries
 * the model does itself. The run ends with `state: 'error'` and this as `error`; `cause` is the
 * model's own error.
 */
export class AgentModelError extends AirlockError {
  private readonly [agentModelMarker] = true
  /** The model's `id`. */
  readonly modelId: string

  constructor(modelId: string, message: string, options?: { cause?: unknown }) {
    super('AgentModelError', message, options)
    this.modelId = modelId
  }

  static override isInstance(error: unknown): error is AgentModelError {
    return hasMarker(error, agentModelMarker)
  }
}

const agentExecutorMarker = Symbol.for('airlock.error.AgentExecutorError')

/**
 * The executor failed the agent itself, not the model's code: creating the session failed, or
 * `run` rejected instead of returning an error outcome. The run ends with `state: 'error'`.
 */
export class AgentExecutorError extends AirlockError {
  private readonly [agentExecutorMarker] = true
  /** The executor's `kind`. */
  readonly executorKind: string

  constructor(executorKind: string, message: string, options?: { cause?: unknown }) {
    super('AgentExecutorError', message, options)
    this.executorKind = executorKind
  }

  static override isInstance(error: unknown): error is AgentExecutorError {
    return hasMarker(error, agentExecutorMarker)
  }
}

const unscriptedCallMarker = Symbol.for('airlock.error.UnscriptedCallError')

/** A `ScriptedModel` was called more often than it has scripted outputs. */
export class UnscriptedCallError extends AirlockError {
  private readonly [unscriptedCallMarker] = true
  /** 0-based index of the call that had no output. */
  readonly callIndex: number
  readonly scripted: number

  constructor(callIndex: number, scripted: number) {
    super(
      'UnscriptedCallError',
      `ScriptedModel got call #${callIndex + 1}, but only ${scripted} output${scripted === 1 ? ' was' : 's were'} scripted. Script more outputs, or pass a function to answer any call.`,
    )
    this.callIndex = callIndex
    this.scripted = scripted
  }

  static override isInstance(error: unknown): error is UnscriptedCallError {
    return hasMarker(error, unscriptedCallMarker)
  }
}

const codeSyntaxMarker = Symbol.for('airlock.error.CodeSyntaxError')

/**
 * Submitted code does not parse, or uses syntax code actions do not support (a TypeScript `enum`,
 * `export`, a top-level `return`). `line` and `column` (1-based) locate it in the submitted code
 * when known; the message says what to write instead.
 */
export class CodeSyntaxError extends AirlockError {
  private readonly [codeSyntaxMarker] = true
  /** 1-based line in the submitted code. */
  readonly line: number | undefined
  /** 1-based column (UTF-16 code units) in the submitted code. */
  readonly column: number | undefined

  constructor(
    message: string,
    position?: { readonly line: number; readonly column: number },
    options?: { cause?: unknown },
  ) {
    super('CodeSyntaxError', message, options)
    this.line = position?.line
    this.column = position?.column
  }

  static override isInstance(error: unknown): error is CodeSyntaxError {
    return hasMarker(error, codeSyntaxMarker)
  }
}
