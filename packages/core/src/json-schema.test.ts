import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { validateJsonSchema } from './json-schema.js'
import { type JSONSchema, jsonSchema } from './schema.js'
import { defineTool } from './tool.js'

function issues(schema: JSONSchema, value: unknown, rootName = 'args') {
  return validateJsonSchema(schema, value, rootName)
}

function zodJsonSchema(schema: z.ZodType): JSONSchema {
  return schema['~standard'].jsonSchema.input({ target: 'draft-2020-12' })
}

describe('type', () => {
  test('accepts matching values', () => {
    expect(issues({ type: 'string' }, 'a')).toEqual([])
    expect(issues({ type: 'number' }, 1.5)).toEqual([])
    expect(issues({ type: 'integer' }, 3)).toEqual([])
    expect(issues({ type: 'boolean' }, false)).toEqual([])
    expect(issues({ type: 'null' }, null)).toEqual([])
    expect(issues({ type: 'array' }, [])).toEqual([])
    expect(issues({ type: 'object' }, {})).toEqual([])
    expect(issues({ type: ['string', 'null'] }, null)).toEqual([])
    expect(issues({}, Symbol('anything'))).toEqual([])
  })

  test('names what was expected and what was received', () => {
    expect(issues({ type: 'string' }, 5)).toEqual([
      { path: 'args', message: 'expected string, received number' },
    ])
    expect(issues({ type: 'object' }, [1])).toEqual([
      { path: 'args', message: 'expected object, received array' },
    ])
    expect(issues({ type: 'object' }, null)).toEqual([
      { path: 'args', message: 'expected object, received null' },
    ])
    expect(issues({ type: 'object' }, undefined)).toEqual([
      { path: 'args', message: 'expected object, received undefined' },
    ])
    expect(issues({ type: ['string', 'null'] }, 3)).toEqual([
      { path: 'args', message: 'expected string | null, received number' },
    ])
  })

  test('integer shows the non-integral number it got', () => {
    expect(issues({ type: 'integer' }, 1.5)).toEqual([
      { path: 'args', message: 'expected integer, received 1.5' },
    ])
    expect(issues({ type: 'integer' }, '1')).toEqual([
      { path: 'args', message: 'expected integer, received string' },
    ])
  })

  test('non-JSON data is named by its kind', () => {
    expect(issues({ type: 'number' }, Number.NaN)).toEqual([
      { path: 'args', message: 'expected number, received NaN' },
    ])
    expect(issues({ type: 'object' }, new Date(0))).toEqual([
      { path: 'args', message: 'expected object, received Date' },
    ])
    expect(issues({ type: 'object' }, new Map())).toEqual([
      { path: 'args', message: 'expected object, received Map' },
    ])
    expect(issues({ type: 'number' }, 1n)).toEqual([
      { path: 'args', message: 'expected number, received bigint' },
    ])
  })

  test('a failed type skips the keywords that would only repeat it', () => {
    expect(issues({ type: 'string', enum: ['a'], minLength: 3 }, 7)).toEqual([
      { path: 'args', message: 'expected string, received number' },
    ])
  })
})

describe('objects', () => {
  const point: JSONSchema = {
    type: 'object',
    properties: { x: { type: 'number' }, y: { type: 'number' }, label: { type: 'string' } },
    required: ['x', 'y'],
  }

  test('reports missing required properties and wrong property types, in schema order', () => {
    expect(issues(point, { label: 3, y: 'a' })).toEqual([
      { path: 'args.x', message: 'missing required property' },
      { path: 'args.y', message: 'expected number, received string' },
      { path: 'args.label', message: 'expected string, received number' },
    ])
  })

  test('a property set to undefined counts as missing', () => {
    expect(issues(point, { x: 1, y: undefined })).toEqual([
      { path: 'args.y', message: 'missing required property' },
    ])
  })

  test('required properties not listed in properties are still required', () => {
    expect(issues({ type: 'object', required: ['id'] }, {})).toEqual([
      { path: 'args.id', message: 'missing required property' },
    ])
  })

  test('additionalProperties: false lists what is allowed', () => {
    const closed = { ...point, additionalProperties: false }
    expect(issues(closed, { x: 1, y: 2, z: 3 })).toEqual([
      { path: 'args.z', message: 'unexpected property (allowed: x, y, label)' },
    ])
    expect(issues({ type: 'object', additionalProperties: false }, { a: 1 })).toEqual([
      { path: 'args.a', message: 'unexpected property (no properties allowed)' },
    ])
  })

  test('additionalProperties as a schema validates the extra values', () => {
    const map = { type: 'object', additionalProperties: { type: 'number' } }
    expect(issues(map, { a: 1, b: 'two' })).toEqual([
      { path: 'args.b', message: 'expected number, received string' },
    ])
  })

  test('odd keys use bracket notation in paths', () => {
    const schema = {
      type: 'object',
      properties: { 'odd key': { type: 'boolean' } },
      required: ['odd key', '0'],
    }
    expect(issues(schema, { 'odd key': 'yes' })).toEqual([
      { path: 'args["odd key"]', message: 'expected boolean, received string' },
      { path: 'args["0"]', message: 'missing required property' },
    ])
  })

  test('inherited names are not mistaken for properties', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'string' } },
      required: ['constructor'],
      additionalProperties: false,
    }
    expect(issues(schema, JSON.parse('{"__proto__": 1, "toString": 2}'))).toEqual([
      { path: 'args.constructor', message: 'missing required property' },
      { path: 'args.__proto__', message: 'unexpected property (allowed: a)' },
      { path: 'args.toString', message: 'unexpected property (allowed: a)' },
    ])
  })

  test('minProperties, maxProperties, patternProperties and propertyNames', () => {
    expect(issues({ type: 'object', minProperties: 1 }, {})).toEqual([
      { path: 'args', message: 'must have at least 1 property, received 0' },
    ])
    expect(issues({ type: 'object', maxProperties: 1 }, { a: 1, b: 2 })).toEqual([
      { path: 'args', message: 'must have at most 1 property, received 2' },
    ])
    const byPattern = {
      type: 'object',
      patternProperties: { '^n_': { type: 'number' } },
      additionalProperties: false,
    }
    expect(issues(byPattern, { n_a: 1, n_b: 'x', other: 1 })).toEqual([
      { path: 'args.n_b', message: 'expected number, received string' },
      { path: 'args.other', message: 'unexpected property (allowed: /^n_/)' },
    ])
    const names = { type: 'object', propertyNames: { enum: ['a', 'b'] } }
    expect(issues(names, { a: 1, c: 2 })).toEqual([
      { path: 'args.c', message: 'invalid property name: expected one of "a" | "b", received "c"' },
    ])
  })
})

describe('arrays', () => {
  test('items validates every element', () => {
    expect(issues({ type: 'array', items: { type: 'string' } }, ['a', 1, 'b', null])).toEqual([
      { path: 'args[1]', message: 'expected string, received number' },
      { path: 'args[3]', message: 'expected string, received null' },
    ])
  })

  test('prefixItems tuples, closed by items: false', () => {
    const tuple = { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false }
    expect(issues(tuple, ['a', 1])).toEqual([])
    expect(issues(tuple, [1, 1, true])).toEqual([
      { path: 'args[0]', message: 'expected string, received number' },
      { path: 'args', message: 'must have at most 2 items, received 3' },
    ])
    const withRest = { type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'number' } }
    expect(issues(withRest, ['a', 1, 'b'])).toEqual([
      { path: 'args[2]', message: 'expected number, received string' },
    ])
  })

  test('draft-07 tuples: items array and additionalItems', () => {
    const tuple = { type: 'array', items: [{ type: 'string' }], additionalItems: { type: 'boolean' } }
    expect(issues(tuple, ['a', true, 1])).toEqual([
      { path: 'args[2]', message: 'expected boolean, received number' },
    ])
    const closed = { type: 'array', items: [{ type: 'string' }], additionalItems: false }
    expect(issues(closed, ['a', 'b'])).toEqual([
      { path: 'args', message: 'must have at most 1 item, received 2' },
    ])
  })

  test('minItems, maxItems, uniqueItems and contains', () => {
    expect(issues({ type: 'array', minItems: 2 }, [1])).toEqual([
      { path: 'args', message: 'must have at least 2 items, received 1' },
    ])
    expect(issues({ type: 'array', maxItems: 1 }, [1, 2])).toEqual([
      { path: 'args', message: 'must have at most 1 item, received 2' },
    ])
    expect(
      issues({ type: 'array', uniqueItems: true }, [{ a: 1, b: 2 }, 'x', { b: 2, a: 1 }, 'x', '1', 1]),
    ).toEqual([
      { path: 'args[2]', message: 'duplicate item (same as [0])' },
      { path: 'args[3]', message: 'duplicate item (same as [1])' },
    ])
    expect(issues({ type: 'array', contains: { type: 'number' } }, ['a'])).toEqual([
      { path: 'args', message: 'must contain at least one item matching "contains"' },
    ])
  })
})

describe('literals', () => {
  test('enum lists the options', () => {
    expect(issues({ type: 'string', enum: ['c', 'f'] }, 'k')).toEqual([
      { path: 'args', message: 'expected one of "c" | "f", received "k"' },
    ])
    expect(issues({ enum: ['c'] }, 'k')).toEqual([{ path: 'args', message: 'expected "c", received "k"' }])
    expect(issues({ enum: [1, null] }, { a: 1 })).toEqual([
      { path: 'args', message: 'expected one of 1 | null, received object' },
    ])
  })

  test('enum and const compare JSON values structurally', () => {
    expect(issues({ enum: [{ a: [1, 2] }] }, { a: [1, 2] })).toEqual([])
    expect(issues({ const: { a: 1, b: 2 } }, { b: 2, a: 1 })).toEqual([])
    expect(issues({ const: 'x' }, 'y')).toEqual([{ path: 'args', message: 'expected "x", received "y"' }])
    expect(issues({ const: 1 }, '1')).toEqual([{ path: 'args', message: 'expected 1, received "1"' }])
  })

  test('long received strings are cut short', () => {
    expect(issues({ const: 'a' }, 'b'.repeat(100))).toEqual([
      { path: 'args', message: `expected "a", received "${'b'.repeat(40)}…"` },
    ])
  })
})

describe('numbers and strings', () => {
  test('bounds', () => {
    const range = { type: 'number', minimum: 1, maximum: 10 }
    expect(issues(range, 0)).toEqual([{ path: 'args', message: 'must be >= 1, received 0' }])
    expect(issues(range, 11)).toEqual([{ path: 'args', message: 'must be <= 10, received 11' }])
    const open = { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 5 }
    expect(issues(open, 0)).toEqual([{ path: 'args', message: 'must be > 0, received 0' }])
    expect(issues(open, 5)).toEqual([{ path: 'args', message: 'must be < 5, received 5' }])
    const draft04 = { type: 'number', minimum: 0, exclusiveMinimum: true }
    expect(issues(draft04, 0)).toEqual([{ path: 'args', message: 'must be > 0, received 0' }])
  })

  test('multipleOf tolerates binary floating point', () => {
    expect(issues({ multipleOf: 0.1 }, 0.3)).toEqual([])
    expect(issues({ multipleOf: 2 }, 3)).toEqual([
      { path: 'args', message: 'must be a multiple of 2, received 3' },
    ])
  })

  test('lengths count code points', () => {
    expect(issues({ type: 'string', maxLength: 2 }, '😀😀')).toEqual([])
    expect(issues({ type: 'string', minLength: 3 }, 'ab')).toEqual([
      { path: 'args', message: 'must be at least 3 characters, received 2' },
    ])
    expect(issues({ type: 'string', maxLength: 1 }, 'ab')).toEqual([
      { path: 'args', message: 'must be at most 1 character, received 2' },
    ])
  })

  test('pattern, and format named instead of its generated pattern', () => {
    expect(issues({ type: 'string', pattern: '^a+$' }, 'ab')).toEqual([
      { path: 'args', message: 'must match pattern /^a+$/, received "ab"' },
    ])
    expect(issues({ type: 'string', pattern: '^\\p{Lu}' }, 'Élan')).toEqual([])
    expect(issues({ type: 'string', format: 'email', pattern: '@' }, 'nope')).toEqual([
      { path: 'args', message: 'must be a valid email, received "nope"' },
    ])
    // `format` on its own is an annotation.
    expect(issues({ type: 'string', format: 'email' }, 'nope')).toEqual([])
  })

  test('a pattern that does not compile is reported, not ignored', () => {
    const schema = { type: 'string', pattern: '(' }
    const expected = [
      {
        path: 'args',
        message:
          'schema error: pattern "(" is not a valid regular expression (Invalid regular expression: /(/: Unterminated group)',
      },
    ]
    expect(issues(schema, 'a')).toEqual(expected)
    // Served from the cache the second time, with the same report.
    expect(issues(schema, 'b')).toEqual(expected)
  })
})

describe('combinators', () => {
  test('anyOf with no branch of the right type summarizes the branches', () => {
    const schema = { anyOf: [{ type: 'string' }, { type: 'number' }] }
    expect(issues(schema, 'a')).toEqual([])
    expect(issues(schema, true)).toEqual([
      { path: 'args', message: 'expected string | number, received boolean' },
    ])
    const literals = { anyOf: [{ const: 'a' }, { const: 'b' }, { type: 'number' }] }
    expect(issues(literals, 'c')).toEqual([
      { path: 'args', message: 'expected "a" | "b" | number, received "c"' },
    ])
  })

  test('anyOf reports the closest branch: the one whose discriminator matches', () => {
    const schema = zodJsonSchema(
      z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('circle'), radius: z.number() }),
        z.object({ kind: z.literal('square'), side: z.number() }),
      ]),
    )
    expect(issues(schema, { kind: 'square', side: 'big' })).toEqual([
      { path: 'args.side', message: 'expected number, received string' },
    ])
    expect(issues(schema, { kind: 'square' })).toEqual([
      { path: 'args.side', message: 'missing required property' },
    ])
    // Every branch rejects the discriminator: one issue names all its values.
    expect(issues(schema, { kind: 'triangle' })).toEqual([
      { path: 'args.kind', message: 'expected "circle" | "square", received "triangle"' },
    ])
  })

  test('without a shared discriminator, the branch with the fewest issues speaks', () => {
    const schema = {
      anyOf: [
        { type: 'object', properties: { a: { type: 'string' } }, required: ['a', 'b'] },
        { type: 'object', properties: { a: { type: 'number' } }, required: ['a', 'd'] },
        { type: 'object', properties: { kind: { const: 'x' } }, required: ['kind'] },
      ],
    }
    expect(issues(schema, { a: 'x', kind: 'y' })).toEqual([
      { path: 'args.b', message: 'missing required property' },
    ])
    expect(issues(schema, { a: 1, kind: 'y' })).toEqual([
      { path: 'args.d', message: 'missing required property' },
    ])
    // A wrong discriminator ranks a branch last even with fewer issues.
    expect(issues(schema, { a: true, kind: 'y' })).toEqual([
      { path: 'args.a', message: 'expected string, received boolean' },
      { path: 'args.b', message: 'missing required property' },
    ])
  })

  test('a nullable object reports the object branch', () => {
    const schema = zodJsonSchema(z.object({ a: z.string() }).nullable())
    expect(issues(schema, null)).toEqual([])
    expect(issues(schema, { a: 1 })).toEqual([
      { path: 'args.a', message: 'expected string, received number' },
    ])
    expect(issues(schema, 'x')).toEqual([
      { path: 'args', message: 'expected object | null, received string' },
    ])
  })

  test('oneOf must match exactly one branch', () => {
    const schema = { oneOf: [{ type: 'number' }, { type: 'integer' }] }
    expect(issues(schema, 1.5)).toEqual([])
    expect(issues(schema, 2)).toEqual([
      { path: 'args', message: 'matches 2 oneOf alternatives (0, 1), expected exactly one' },
    ])
    expect(issues(schema, 'x')).toEqual([
      { path: 'args', message: 'expected number | integer, received string' },
    ])
  })

  test('allOf reports every branch, without repeats', () => {
    const schema = {
      allOf: [
        { type: 'object', required: ['a'] },
        { type: 'object', required: ['a', 'b'] },
      ],
    }
    expect(issues(schema, {})).toEqual([
      { path: 'args.a', message: 'missing required property' },
      { path: 'args.b', message: 'missing required property' },
    ])
  })

  test('not, and zod never', () => {
    expect(issues({ not: { type: 'string' } }, 'a')).toEqual([
      { path: 'args', message: 'must not match the schema in "not"' },
    ])
    expect(issues({ not: { type: 'string' } }, 1)).toEqual([])
    expect(issues({ not: {} }, 1)).toEqual([{ path: 'args', message: 'no value is allowed here' }])
  })

  test('if / then / else', () => {
    const schema = {
      if: { properties: { kind: { const: 'a' } } },
      // `then` is the JSON Schema keyword here; this object is never awaited.
      // oxlint-disable-next-line unicorn/no-thenable
      then: { required: ['a'] },
      else: { required: ['b'] },
    }
    expect(issues(schema, { kind: 'a' })).toEqual([{ path: 'args.a', message: 'missing required property' }])
    expect(issues(schema, { kind: 'z' })).toEqual([{ path: 'args.b', message: 'missing required property' }])
  })

  test('OpenAPI nullable accepts null', () => {
    expect(issues({ type: 'string', nullable: true }, null)).toEqual([])
    expect(issues({ type: 'string', nullable: true }, 1)).toEqual([
      { path: 'args', message: 'expected string, received number' },
    ])
  })
})

describe('$ref', () => {
  const tree: JSONSchema = {
    $ref: '#/$defs/node',
    $defs: {
      node: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          children: { type: 'array', items: { $ref: '#/$defs/node' } },
        },
        required: ['name'],
      },
    },
  }

  test('follows $defs recursively', () => {
    expect(issues(tree, { name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] })).toEqual([])
    expect(issues(tree, { name: 'a', children: [{ name: 'b', children: [{ name: 1 }] }] })).toEqual([
      { path: 'args.children[0].children[0].name', message: 'expected string, received number' },
    ])
  })

  test('follows draft-07 definitions and the root', () => {
    const list = {
      definitions: { item: { type: 'string' } },
      type: 'object',
      properties: { item: { $ref: '#/definitions/item' }, next: { $ref: '#' } },
    }
    expect(issues(list, { item: 'a', next: { item: 'b', next: { item: 3 } } })).toEqual([
      { path: 'args.next.next.item', message: 'expected string, received number' },
    ])
  })

  test('decodes JSON pointer escapes', () => {
    const schema = { $defs: { 'a/b': { type: 'string' } }, $ref: '#/$defs/a~1b' }
    expect(issues(schema, 1)).toEqual([{ path: 'args', message: 'expected string, received number' }])
  })

  test('reports refs it cannot follow', () => {
    expect(issues({ $ref: '#/$defs/missing' }, 1)).toEqual([
      { path: 'args', message: 'schema error: cannot resolve $ref "#/$defs/missing"' },
    ])
    expect(issues({ $ref: 'https://example.com/schema.json' }, 1)).toEqual([
      {
        path: 'args',
        message:
          'schema error: unsupported $ref "https://example.com/schema.json" (only local "#/..." references are supported)',
      },
    ])
  })

  test('a ref loop that never reaches a value is reported, not followed forever', () => {
    const schema = {
      $ref: '#/$defs/a',
      $defs: { a: { anyOf: [{ $ref: '#/$defs/b' }] }, b: { $ref: '#/$defs/a' } },
    }
    expect(issues(schema, 1)).toEqual([
      { path: 'args', message: 'schema error: circular $ref "#/$defs/a" never reaches a value' },
    ])
  })

  test('one definition used by two branches is not a loop', () => {
    const schema = {
      $defs: { s: { type: 'string' } },
      allOf: [{ $ref: '#/$defs/s' }, { anyOf: [{ $ref: '#/$defs/s' }] }],
    }
    expect(issues(schema, 'x')).toEqual([])
  })
})

describe('hostile values', () => {
  const nested: JSONSchema = {
    $ref: '#/$defs/n',
    $defs: { n: { type: 'object', properties: { a: { $ref: '#/$defs/n' } } } },
  }

  test('deep nesting stops with one issue', () => {
    let value: unknown = {}
    for (let index = 0; index < 300; index++) value = { a: value }
    const result = issues(nested, value)
    expect(result).toEqual([
      { path: `args${'.a'.repeat(201)}`, message: 'value is nested more than 200 levels deep' },
    ])
  })

  test('nesting under the cap validates', () => {
    let value: unknown = {}
    for (let index = 0; index < 150; index++) value = { a: value }
    expect(issues(nested, value)).toEqual([])
  })

  test('issues stop at 100', () => {
    const result = issues(
      { type: 'array', items: { type: 'number' } },
      Array.from({ length: 1000 }, () => 'x'),
    )
    expect(result).toHaveLength(101)
    expect(result[99]).toEqual({ path: 'args[99]', message: 'expected number, received string' })
    expect(result[100]).toEqual({ path: 'args', message: 'more issues not shown (stopped after 100)' })
  })

  test('a value that throws when read becomes an issue, not an exception', () => {
    const value = {
      get a(): never {
        throw new Error('boom')
      },
    }
    expect(issues({ type: 'object', properties: { a: { type: 'string' } } }, value)).toEqual([
      { path: 'args', message: 'could not finish validation: boom' },
    ])
  })

  test('malformed schema parts are ignored rather than thrown on', () => {
    const schema = { type: 'object', properties: { a: null, b: 'string' }, required: [1, 'c'], 'x-custom': 1 }
    expect(issues(schema as JSONSchema, { a: 1, b: 2 })).toEqual([
      { path: 'args.c', message: 'missing required property' },
    ])
  })
})

describe('zod 4 JSON Schema', () => {
  test('validates the schemas zod generates', () => {
    const schema = zodJsonSchema(
      z.object({
        city: z.string().min(1),
        units: z.enum(['c', 'f']).optional(),
        days: z.int().min(1).max(7),
        email: z.email(),
        note: z.string().nullable(),
        pair: z.tuple([z.string(), z.number()]),
        tags: z.record(z.string(), z.number()),
        strict: z.strictObject({ a: z.string() }),
      }),
    )
    expect(
      issues(schema, {
        city: 'Paris',
        days: 3,
        email: 'a@b.co',
        note: null,
        pair: ['a', 1],
        tags: { x: 1 },
        strict: { a: 'x' },
      }),
    ).toEqual([])
    expect(
      issues(schema, {
        city: '',
        units: 'k',
        days: 8,
        email: 'nope',
        note: 1,
        pair: ['a'],
        tags: { x: '1' },
        strict: { a: 'x', b: 1 },
      }),
    ).toEqual([
      { path: 'args.city', message: 'must be at least 1 character, received 0' },
      { path: 'args.units', message: 'expected one of "c" | "f", received "k"' },
      { path: 'args.days', message: 'must be <= 7, received 8' },
      { path: 'args.email', message: 'must be a valid email, received "nope"' },
      { path: 'args.note', message: 'expected string | null, received number' },
      { path: 'args.pair', message: 'must have at least 2 items, received 1' },
      { path: 'args.tags.x', message: 'expected number, received string' },
      { path: 'args.strict.b', message: 'unexpected property (allowed: a)' },
    ])
  })
})

describe('through defineTool', () => {
  const tool = defineTool({
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: jsonSchema<{ city: string; units?: 'c' | 'f' }>({
      type: 'object',
      properties: { city: { type: 'string' }, units: { type: 'string', enum: ['c', 'f'] } },
      required: ['city'],
      additionalProperties: false,
    }),
    execute: () => ({ tempC: 21 }),
  })

  test('valid arguments pass through', async () => {
    expect(await tool.parameters.validate({ city: 'Oslo', units: 'c' }, 'args')).toEqual({
      ok: true,
      value: { city: 'Oslo', units: 'c' },
    })
  })

  test('invalid arguments come back as issues', async () => {
    expect(await tool.parameters.validate({ units: 'k', country: 'NO' }, 'args')).toEqual({
      ok: false,
      issues: [
        { path: 'args.city', message: 'missing required property' },
        { path: 'args.units', message: 'expected one of "c" | "f", received "k"' },
        { path: 'args.country', message: 'unexpected property (allowed: city, units)' },
      ],
    })
  })

  test('a plain JSON Schema tool validates the same way', async () => {
    const plain = defineTool({
      name: 'add',
      description: 'Adds two numbers.',
      parameters: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      },
      execute: () => 0,
    })
    expect(await plain.parameters.validate({ a: 1, b: '2' }, 'input')).toEqual({
      ok: false,
      issues: [{ path: 'input.b', message: 'expected number, received string' }],
    })
  })
})
