import type { JSONSchema, SchemaIssue } from './schema.js'

/** Placeholder until the validator lands. */
export function validateJsonSchema(_schema: JSONSchema, _value: unknown, _rootName: string): SchemaIssue[] {
  return []
}
