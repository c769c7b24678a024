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
