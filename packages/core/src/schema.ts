import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec'
import { InvalidDefinitionError } from './errors.js'
import { validateJsonSchema } from './json-schema.js'
import { childPath } from './value-path.js'

/** A JSON Schema (draft 2020-12 or draft-07 subset) as a plain object. */
export type JSONSchema = { readonly [keyword: string]: unknown }

/**
 * A schema library value that validates and describes itself as JSON Schema, as zod 4 does
 * (`z.object({...})`), through the Standard Schema and Standard JSON Schema interfaces.
 */
export type StandardSchemaWithJSON<Input = unknown, Output = Input> = StandardSchemaV1<Input, Output> &
  StandardJSONSchemaV1<Input, Output>

/** A plain JSON Schema carrying the TypeScript type it describes, made by `jsonSchema<T>()`. */
export interface TypedJSONSchema<T> {
  readonly '~airlock.jsonSchema': JSONSchema
  /** Phantom: only carries `T` for inference. */
  readonly '~airlock.type'?: T
}

/** What `defineTool` accepts as `parameters` or `returns`. */
export type Schema<T = unknown> = StandardSchemaWithJSON<unknown, T> | TypedJSONSchema<T> | JSONSchema

/** The type a schema validates to: inferred for zod and `jsonSchema<T>()`, `unknown` for raw JSON Schema. */
export type InferSchema<S> =
  S extends StandardSchemaV1<unknown, infer Output>
    ? Output
    : S extends TypedJSONSchema<infer T>
      ? T
      : unknown

/**
 * Marks a JSON Schema with the type it describes, so tool arguments are typed without zod.
 *
 * @example
 * const parameters = jsonSchema<{ city: string }>({
 *   type: 'object', properties: { city: { type: 'string' } }, required: ['city'],
 * })
 */
export function jsonSchema<T>(schema: JSONSchema): TypedJSONSchema<T> {
  return { '~airlock.jsonSchema': schema }
}

export interface SchemaIssue {
  /** Where in the value: `args.city`, `args.items[2].id`. */
  readonly path: string
  readonly message: string
}

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly SchemaIssue[] }

/** A schema in the one form the rest of core uses: its JSON Schema and a validator. */
export interface NormalizedSchema<T = unknown> {
  readonly jsonSchema: JSONSchema
  validate(value: unknown, rootName: string): Promise<ValidationResult<T>>
}

function isStandardSchema(value: object): value is StandardSchemaV1 {
  const standard = (value as { '~standard'?: unknown })['~standard']
  return (
    typeof standard === 'object' &&
    standard !== null &&
    typeof (standard as { validate?: unknown }).validate === 'function'
  )
}

function formatPath(
  rootName: string,
  path: ReadonlyArray<PropertyKey | StandardSchemaV1.PathSegment> | undefined,
): string {
  let result = rootName
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' ? segment.key : segment
    result = childPath(result, typeof key === 'number' ? key : String(key))
  }
  return result
}

/**
 * Normalizes any accepted schema form. `where` names the schema in errors (`tool get_weather parameters`).
 *
 * @throws InvalidDefinitionError when the value is not a schema or cannot describe itself as JSON Schema.
 */
export function normalizeSchema<T>(
  schema: Schema<T>,
  where: string,
  direction: 'input' | 'output' = 'input',
): NormalizedSchema<T> {
  if (typeof schema !== 'object' || schema === null) {
    throw new InvalidDefinitionError(
      `${where} must be a zod 4 schema or a JSON Schema object, got ${schema === null ? 'null' : typeof schema}.`,
    )
  }
  if ('~airlock.jsonSchema' in schema)
    return fromJsonSchema(schema['~airlock.jsonSchema'] as JSONSchema, where)
  if (isStandardSchema(schema)) {
    const converter = (schema as Partial<StandardJSONSchemaV1>)['~standard']?.jsonSchema
    if (converter === undefined) {
      throw new InvalidDefinitionError(
        `${where} validates but cannot describe itself as JSON Schema (no "~standard.jsonSchema"); use zod 4.2+ or pass a JSON Schema.`,
      )
    }
    let jsonSchemaValue: Record<string, unknown>
    try {
      // Arguments are described as the model must write them (input); results as the tool returns them (output).
      jsonSchemaValue = converter[direction]({ target: 'draft-2020-12' })
    } catch (error) {
      throw new InvalidDefinitionError(
        `${where} cannot be converted to JSON Schema: ${(error as Error).message}`,
        { cause: error },
      )
    }
    const standard = schema['~standard']
    return {
      jsonSchema: jsonSchemaValue,
      async validate(value, rootName) {
        const result = await standard.validate(value)
        if (result.issues === undefined) return { ok: true, value: result.value as T }
        return {
          ok: false,
          issues: result.issues.map((issue) => ({
            path: formatPath(rootName, issue.path),
            message: issue.message,
          })),
        }
      },
    }
  }
  return fromJsonSchema(schema as JSONSchema, where)
}

const jsonSchemaKeywords = [
  'type',
  'properties',
  'items',
  'prefixItems',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  '$ref',
  'additionalProperties',
  'required',
  'description',
  'title',
  '$schema',
  '$defs',
  'definitions',
]

function fromJsonSchema<T>(schema: JSONSchema, where: string): NormalizedSchema<T> {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new InvalidDefinitionError(
      `${where} must be a JSON Schema object, got ${schema === null ? 'null' : Array.isArray(schema) ? 'an array' : typeof schema}.`,
    )
  }
  // An object with none of the keywords is most likely a mistake such as { city: 'string' }.
  if (
    Object.keys(schema).length > 0 &&
    !jsonSchemaKeywords.some((keyword) => Object.hasOwn(schema, keyword))
  ) {
    throw new InvalidDefinitionError(
      `${where} is neither a zod 4 schema nor a JSON Schema (none of ${jsonSchemaKeywords.slice(0, 6).join(', ')}, ...); write e.g. { type: 'object', properties: { city: { type: 'string' } } }.`,
    )
  }
  return {
    jsonSchema: schema,
    async validate(value, rootName) {
      const issues = validateJsonSchema(schema, value, rootName)
      return issues.length === 0 ? { ok: true, value: value as T } : { ok: false, issues }
    },
  }
}
