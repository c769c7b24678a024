import { InvalidDefinitionError } from './errors.js'
import { identifierPattern } from './value-path.js'
import { type InferSchema, type NormalizedSchema, type Schema, normalizeSchema } from './schema.js'

/** What a tool's `execute` learns about the call besides its arguments. */
export interface ToolContext {
  /** Aborted when the run ends (finished, timed out, aborted): stop work and return. */
  readonly signal: AbortSignal
  /** The executor session the call came from. */
  readonly sessionId: string
  /** Unique per call, for logs and tracing. */
  readonly toolCallId: string
}

/** A host function the model's code can call as `await name({ ...args })`. */
export interface Tool<Args = unknown, Result = unknown> {
  /** A valid JavaScript identifier: the name the code calls. */
  readonly name: string
  /** Shown to the model as the declaration's JSDoc: say what it does and when to use it. */
  readonly description: string
  readonly parameters: NormalizedSchema<Args>
  /** When given, the declaration shows the result type instead of `Promise<unknown>`. */
  readonly returns?: NormalizedSchema<Result>
  execute(args: Args, context: ToolContext): Promise<Result> | Result
}

export interface ToolDefinition<P extends Schema, R extends Schema | undefined> {
  readonly name: string
  readonly description: string
  /** A zod 4 object schema, `jsonSchema<T>({...})`, or a plain JSON Schema with `type: 'object'`. */
  readonly parameters: P
  readonly returns?: R
  readonly execute: (
    args: InferSchema<P>,
    context: ToolContext,
  ) => Promise<R extends Schema ? InferSchema<R> : unknown> | (R extends Schema ? InferSchema<R> : unknown)
}

const reservedWords = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval undefined NaN Infinity'
  ).split(' '),
)
/** Names the sandbox itself defines; a tool may not shadow them. */
const sandboxGlobals = new Set(['finalAnswer', 'console', 'require', 'globalThis'])

/** Checks a tool name, throwing an error that says how to fix it. */
export function assertToolName(name: unknown, where = 'Tool name'): asserts name is string {
  if (typeof name !== 'string' || !identifierPattern.test(name)) {
    throw new InvalidDefinitionError(
      `${where} ${JSON.stringify(name)} is not a valid JavaScript identifier: use letters, digits, _ and $, not starting with a digit (e.g. "get_weather").`,
    )
  }
  if (reservedWords.has(name) || sandboxGlobals.has(name)) {
    throw new InvalidDefinitionError(`${where} "${name}" is reserved in the sandbox; choose another name.`)
  }
}

/**
 * Defines a tool. Checks the definition now, so mistakes surface where the tool is written,
 * not when the model first calls it.
 *
 * @example
 * const weather = defineTool({
 *   name: 'get_weather',
 *   description: 'Current weather for a city.',
 *   parameters: z.object({ city: z.string() }),
 *   returns: z.object({ tempC: z.number() }),
 *   execute: async ({ city }) => ({ tempC: 21 }),
 * })
 */
export function defineTool<P extends Schema, R extends Schema | undefined = undefined>(
  definition: ToolDefinition<P, R>,
): Tool<InferSchema<P>, R extends Schema ? InferSchema<R> : unknown> {
  if (typeof definition !== 'object' || definition === null) {
    throw new InvalidDefinitionError(
      'defineTool takes one object: { name, description, parameters, returns?, execute }.',
    )
  }
  const { name, description, parameters, returns, execute } = definition
  assertToolName(name)
  if (typeof description !== 'string' || description.trim() === '') {
    throw new InvalidDefinitionError(
      `Tool ${name} needs a non-empty description: the model reads it to decide when to call the tool.`,
    )
  }
  if (typeof execute !== 'function') {
    throw new InvalidDefinitionError(`Tool ${name} needs an execute(args, context) function.`)
  }
  const normalizedParameters = normalizeSchema(parameters, `Tool ${name} parameters`)
  const { type } = normalizedParameters.jsonSchema
  if (type !== 'object') {
    throw new InvalidDefinitionError(
      `Tool ${name} parameters must describe an object (tools take one object argument), got ${JSON.stringify(type ?? 'no type')}; wrap them, e.g. z.object({ value: ... }).`,
    )
  }
  return {
    name,
    description: description.trim(),
    parameters: normalizedParameters as NormalizedSchema<InferSchema<P>>,
    ...(returns === undefined
      ? {}
      : {
          returns: normalizeSchema(returns, `Tool ${name} returns`, 'output') as NormalizedSchema<
            R extends Schema ? InferSchema<R> : unknown
          >,
        }),
    execute: execute as Tool<InferSchema<P>, R extends Schema ? InferSchema<R> : unknown>['execute'],
  }
}

/** Checks that tool names are unique, so each maps to one function in the sandbox. */
export function assertUniqueToolNames(tools: readonly Tool[]): void {
  const seen = new Set<string>()
  for (const tool of tools) {
    if (seen.has(tool.name)) {
      throw new InvalidDefinitionError(
        `Two tools are named "${tool.name}"; tool names must be unique. Rename one of them.`,
      )
    }
    seen.add(tool.name)
  }
}
