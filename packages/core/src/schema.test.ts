import type { StandardSchemaV1 } from '@standard-schema/spec'
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { InvalidDefinitionError } from './errors.js'
import { validateJsonSchema } from './json-schema.js'
import { type JSONSchema, jsonSchema, normalizeSchema, type Schema } from './schema.js'

/** The message of the InvalidDefinitionError `run` throws; any other outcome fails the test. */
function definitionError(run: () => unknown): string {
  return thrownDefinitionError(run).message
}

function thrownDefinitionError(run: () => unknown): InvalidDefinitionError {
  try {
    run()
  } catch (error) {
    if (!InvalidDefinitionError.isInstance(error)) throw error
    return error
  }
  throw new Error('expected an InvalidDefinitionError')
}

/** A Standard Schema with a JSON Schema converter, whose parts a test can replace. */
function standardSchema(parts: {
  validate?: (value: unknown) => StandardSchemaV1.Result<unknown>
  input?: (options: { target: string }) => Record<string, unknown>
  output?: (options: { target: string }) => Record<string, unknown>
}): Schema {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: parts.validate ?? ((value: unknown) => ({ value })),
      jsonSchema: {
        input: parts.input ?? (() => ({ type: 'object' })),
        output: parts.output ?? (() => ({ type: 'object' })),
      },
    },
  } as unknown as Schema
}

describe('zod schemas', () => {
  const items = z.object({ items: z.array(z.object({ id: z.string() })) })

  test('are described by their input JSON Schema by default', () => {
    expect(normalizeSchema(items, 'where').jsonSchema).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        items: {
          type: 'array',
          items: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        },
      },
      required: ['items'],
    })
  })

  test('are described by their output JSON Schema for direction output', () => {
    const schema = z.object({ n: z.number().default(1) })
    expect(normalizeSchema(schema, 'where').jsonSchema.required).toBeUndefined()
    expect(normalizeSchema(schema, 'where', 'output').jsonSchema).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { n: { type: 'number', default: 1 } },
      required: ['n'],
      additionalProperties: false,
    })
  })

  test('issues are mapped to paths under the root name', async () => {
    const result = await normalizeSchema(items, 'where').validate({ items: [{ id: 'a' }, { id: 1 }] }, 'args')
    expect(result).toEqual({
      ok: false,
      issues: [{ path: 'args.items[1].id', message: 'Invalid input: expected string, received number' }],
    })
  })

  test('every issue is reported, and an issue at the root is at the root name', async () => {
    const schema = z.object({ a: z.string(), 'b c': z.number() })
    expect(await normalizeSchema(schema, 'where').validate({}, 'result')).toEqual({
      ok: false,
      issues: [
        { path: 'result.a', message: 'Invalid input: expected string, received undefined' },
        { path: 'result["b c"]', message: 'Invalid input: expected number, received undefined' },
      ],
    })
    expect(await normalizeSchema(schema, 'where').validate('text', 'result')).toEqual({
      ok: false,
      issues: [{ path: 'result', message: 'Invalid input: expected object, received string' }],
    })
  })

  test('a valid value is returned as zod parses it', async () => {
    const schema = z.object({
      n: z.number().default(1),
      tag: z.string().transform((tag) => tag.toUpperCase()),
    })
    expect(await normalizeSchema(schema, 'where').validate({ tag: 'a', extra: true }, 'args')).toEqual({
      ok: true,
      value: { n: 1, tag: 'A' },
    })
  })

  test('async refinements are awaited', async () => {
    const schema = z.object({
      id: z.string().refine(async (id) => id.startsWith('u_'), 'must start with u_'),
    })
    const normalized = normalizeSchema(schema, 'where')
    expect(await normalized.validate({ id: 'u_1' }, 'args')).toEqual({ ok: true, value: { id: 'u_1' } })
    expect(await normalized.validate({ id: 'x' }, 'args')).toEqual({
      ok: false,
      issues: [{ path: 'args.id', message: 'must start with u_' }],
    })
  })
})

describe('other Standard Schemas', () => {
  test('path segments may be keys or { key } objects', async () => {
    const schema = standardSchema({
      validate: () => ({
        issues: [
          { message: 'first', path: [{ key: 'list' }, 0, { key: 2 }, 'odd key'] },
          { message: 'second' },
          { message: 'third', path: [] },
        ],
      }),
    })
    expect(await normalizeSchema(schema, 'where').validate({}, 'args')).toEqual({
      ok: false,
      issues: [
        { path: 'args.list[0][2]["odd key"]', message: 'first' },
        { path: 'args', message: 'second' },
        { path: 'args', message: 'third' },
      ],
    })
  })

  test('the converter is asked for draft 2020-12 in the requested direction', () => {
    const calls: string[] = []
    const schema = standardSchema({
      input: (options) => {
        calls.push(`input ${options.target}`)
        return { type: 'object', title: 'in' }
      },
      output: (options) => {
        calls.push(`output ${options.target}`)
        return { type: 'object', title: 'out' }
      },
    })
    expect(normalizeSchema(schema, 'where').jsonSchema).toEqual({ type: 'object', title: 'in' })
    expect(normalizeSchema(schema, 'where', 'output').jsonSchema).toEqual({ type: 'object', title: 'out' })
    expect(calls).toEqual(['input draft-2020-12', 'output draft-2020-12'])
  })

  test('a converter that throws is reported with the schema’s location and the cause', () => {
    const failure = new Error('recursive types are not supported')
    const schema = standardSchema({
      input: () => {
        throw failure
      },
    })
    const error = thrownDefinitionError(() => normalizeSchema(schema, 'Tool lookup parameters'))
    expect(error.message).toBe(
      'Tool lookup parameters cannot be converted to JSON Schema: recursive types are not supported',
    )
    expect(error.cause).toBe(failure)
  })

  test('a zod schema the converter cannot represent is reported the same way', () => {
    expect(
      definitionError(() => normalizeSchema(z.object({ id: z.bigint() }), 'Tool lookup returns', 'output')),
    ).toBe(
      'Tool lookup returns cannot be converted to JSON Schema: BigInt cannot be represented in JSON Schema',
    )
  })

  test('a Standard Schema without jsonSchema is refused', () => {
    const validateOnly = {
      '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => ({ value }) },
    }
    expect(
      definitionError(() => normalizeSchema(validateOnly as unknown as Schema, 'Tool lookup parameters')),
    ).toBe(
      'Tool lookup parameters validates but cannot describe itself as JSON Schema (no "~standard.jsonSchema"); use zod 4.2+ or pass a JSON Schema.',
    )
  })
})

describe('JSON Schemas', () => {
  const schema: JSONSchema = {
    type: 'object',
    properties: {
      items: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' } } } },
    },
    required: ['items'],
  }

  test('are kept as given', () => {
    expect(normalizeSchema(schema, 'where').jsonSchema).toBe(schema)
    expect(normalizeSchema(schema, 'where', 'output').jsonSchema).toBe(schema)
  })

  test('validate with validateJsonSchema, paths under the root name', async () => {
    const value = { items: [{ id: 'a' }, { id: 1 }] }
    const expected = [{ path: 'args.items[1].id', message: 'expected string, received number' }]
    expect(validateJsonSchema(schema, value, 'args')).toEqual(expected)
    expect(await normalizeSchema(schema, 'where').validate(value, 'args')).toEqual({
      ok: false,
      issues: expected,
    })
  })

  test('a valid value is returned as it is', async () => {
    const value = { items: [{ id: 'a' }], extra: 1 }
    const result = await normalizeSchema(schema, 'where').validate(value, 'args')
    expect(result).toEqual({ ok: true, value })
    expect(result.ok && result.value).toBe(value)
  })

  test('an empty schema accepts anything', async () => {
    expect(await normalizeSchema({}, 'where').validate([1, 'two'], 'args')).toEqual({
      ok: true,
      value: [1, 'two'],
    })
  })

  test('a schema with only a $ref, a const or annotations is accepted', () => {
    expect(() => normalizeSchema({ $ref: '#/$defs/a', $defs: { a: {} } }, 'where')).not.toThrow()
    expect(() => normalizeSchema({ const: 1 }, 'where')).not.toThrow()
    expect(() => normalizeSchema({ description: 'anything' }, 'where')).not.toThrow()
  })
})

describe('jsonSchema<T>()', () => {
  test('wraps the schema without copying it', () => {
    const inner = { type: 'object', properties: { n: { type: 'number' } } }
    const typed = jsonSchema<{ n: number }>(inner)
    expect(typed).toEqual({ '~airlock.jsonSchema': inner })
    expect(typed['~airlock.jsonSchema']).toBe(inner)
  })

  test('normalizes to the wrapped schema and validates with it', async () => {
    const inner = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] }
    const normalized = normalizeSchema(jsonSchema<{ n: number }>(inner), 'where')
    expect(normalized.jsonSchema).toBe(inner)
    expect(await normalized.validate({ n: 'one' }, 'args')).toEqual({
      ok: false,
      issues: [{ path: 'args.n', message: 'expected number, received string' }],
    })
    expect(await normalized.validate({ n: 1 }, 'args')).toEqual({ ok: true, value: { n: 1 } })
  })

  test('a wrapped non-schema is refused like an unwrapped one', () => {
    expect(
      definitionError(() =>
        normalizeSchema(jsonSchema<{ city: string }>({ city: 'string' }), 'Tool get_weather parameters'),
      ),
    ).toBe(
      "Tool get_weather parameters is neither a zod 4 schema nor a JSON Schema (none of type, properties, items, prefixItems, enum, const, ...); write e.g. { type: 'object', properties: { city: { type: 'string' } } }.",
    )
  })
})

describe('values that are not schemas', () => {
  test.each([
    [null, 'null'],
    [undefined, 'undefined'],
    [42, 'number'],
    ['object', 'string'],
    [true, 'boolean'],
    [() => ({}), 'function'],
  ])('%s is refused', (value, shown) => {
    expect(definitionError(() => normalizeSchema(value as unknown as Schema, 'Tool lookup parameters'))).toBe(
      `Tool lookup parameters must be a zod 4 schema or a JSON Schema object, got ${shown}.`,
    )
  })

  test('jsonSchema() around a non-object is refused with the same kind of error', () => {
    expect(
      definitionError(() => normalizeSchema(jsonSchema(null as unknown as JSONSchema), 'Tool t parameters')),
    ).toBe('Tool t parameters must be a JSON Schema object, got null.')
    expect(
      definitionError(() => normalizeSchema(jsonSchema([] as unknown as JSONSchema), 'Tool t parameters')),
    ).toBe('Tool t parameters must be a JSON Schema object, got an array.')
  })

  test('an object with no JSON Schema keyword is refused', () => {
    for (const value of [{ city: 'string' }, { city: { type: 'string' } }, { types: 'object' }]) {
      expect(definitionError(() => normalizeSchema(value, 'Tool lookup parameters'))).toBe(
        "Tool lookup parameters is neither a zod 4 schema nor a JSON Schema (none of type, properties, items, prefixItems, enum, const, ...); write e.g. { type: 'object', properties: { city: { type: 'string' } } }.",
      )
    }
  })

  test('a keyword is only recognized as an own property', () => {
    const inherited = Object.create({ type: 'object' }) as JSONSchema
    Object.assign(inherited, { city: 'string' })
    expect(definitionError(() => normalizeSchema(inherited, 'where'))).toBe(
      "where is neither a zod 4 schema nor a JSON Schema (none of type, properties, items, prefixItems, enum, const, ...); write e.g. { type: 'object', properties: { city: { type: 'string' } } }.",
    )
  })
})
