import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { schemaToTypeScript, toolDeclaration, toolDeclarations } from './declarations.js'
import type { JSONSchema } from './schema.js'
import { defineTool } from './tool.js'

function zodJsonSchema(schema: z.ZodType): JSONSchema {
  return schema['~standard'].jsonSchema.input({ target: 'draft-2020-12' })
}

function fromZod(schema: z.ZodType): string {
  return schemaToTypeScript(zodJsonSchema(schema))
}

const weather = defineTool({
  name: 'get_weather',
  description: 'Current weather for a city.',
  parameters: z.object({ city: z.string().describe('City name') }),
  returns: z.object({ tempC: z.number() }),
  execute: () => ({ tempC: 21 }),
})

describe('toolDeclaration', () => {
  test('renders the description, parameters and result type', () => {
    expect(toolDeclaration(weather)).toMatchInlineSnapshot(`
      "/**
       * Current weather for a city.
       */
      declare function get_weather(args: {
        /** City name */
        city: string
      }): Promise<{ tempC: number }>"
    `)
  })

  test('a tool without returns resolves to unknown; multi-line descriptions stay multi-line', () => {
    const search = defineTool({
      name: 'search',
      description: 'Searches the web.\n\nReturns at most `limit` results; never use */ in queries.',
      parameters: z.object({ query: z.string(), limit: z.int().min(1).max(50).default(10) }),
      execute: () => [],
    })
    expect(toolDeclaration(search)).toMatchInlineSnapshot(`
      "/**
       * Searches the web.
       *
       * Returns at most \`limit\` results; never use *\\/ in queries.
       */
      declare function search(args: {
        query: string
        /**
         * integer, min 1, max 50
         * @default 10
         */
        limit?: number
      }): Promise<unknown>"
    `)
  })

  test('described parameters and results become @param and @returns', () => {
    const lookup = defineTool({
      name: 'lookup',
      description: 'Looks a user up.',
      parameters: z.object({ id: z.string() }).describe('Who to look up'),
      returns: z.object({ name: z.string(), email: z.email().nullable() }).describe('The user, if found'),
      execute: () => ({ name: 'a', email: null }),
    })
    expect(toolDeclaration(lookup)).toMatchInlineSnapshot(`
      "/**
       * Looks a user up.
       * @param args Who to look up
       * @returns The user, if found
       */
      declare function lookup(args: { id: string }): Promise<{
        name: string
        /** format: email */
        email: string | null
      }>"
    `)
  })

  test('a tool without required parameters may be called with no argument', () => {
    const now = defineTool({
      name: 'now',
      description: 'The current time.',
      parameters: z.object({}),
      returns: z.string(),
      execute: () => '',
    })
    expect(toolDeclaration(now)).toMatchInlineSnapshot(`
      "/**
       * The current time.
       */
      declare function now(args?: {}): Promise<string>"
    `)
  })

  test('toolDeclarations separates tools with a blank line', () => {
    const add = defineTool({
      name: 'add',
      description: 'Adds two numbers.',
      parameters: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      },
      returns: { type: 'number' },
      execute: () => 0,
    })
    expect(toolDeclarations([weather, add])).toMatchInlineSnapshot(`
      "/**
       * Current weather for a city.
       */
      declare function get_weather(args: {
        /** City name */
        city: string
      }): Promise<{ tempC: number }>

      /**
       * Adds two numbers.
       */
      declare function add(args: { a: number; b: number }): Promise<number>"
    `)
    expect(toolDeclarations([])).toBe('')
  })
})

describe('schemaToTypeScript from zod 4', () => {
  test('objects: optional, nullable, defaults, constraints and descriptions', () => {
    expect(
      fromZod(
        z.object({
          city: z.string().min(1).max(80).describe('City name'),
          units: z.enum(['c', 'f']).default('c').describe('Temperature units'),
          days: z.int().min(1).max(7).optional(),
          email: z.email(),
          code: z.string().regex(/^[A-Z]{2}$/),
          note: z.string().nullable(),
          tags: z.array(z.string()).max(5).optional(),
        }),
      ),
    ).toMatchInlineSnapshot(`
      "{
        /**
         * City name
         * min length 1, max length 80
         */
        city: string
        /**
         * Temperature units
         * @default "c"
         */
        units?: "c" | "f"
        /** integer, min 1, max 7 */
        days?: number
        /** format: email */
        email: string
        /** pattern: /^[A-Z]{2}$/ */
        code: string
        note: string | null
        /** max items 5 */
        tags?: string[]
      }"
    `)
  })

  test('nested objects stay inline until a property has JSDoc', () => {
    expect(
      fromZod(
        z.object({
          point: z.object({ x: z.number(), y: z.number() }),
          owner: z.object({ id: z.string().describe('User id'), name: z.string() }).describe('Who owns it'),
        }),
      ),
    ).toMatchInlineSnapshot(`
      "{
        point: { x: number; y: number }
        /** Who owns it */
        owner: {
          /** User id */
          id: string
          name: string
        }
      }"
    `)
  })

  test('arrays, tuples, unions and literals', () => {
    expect(
      fromZod(
        z.object({
          ids: z.array(z.string()),
          mixed: z.array(z.union([z.string(), z.number()])),
          pair: z.tuple([z.string(), z.number()]),
          head: z.tuple([z.string()], z.boolean()),
          kind: z.literal('point'),
          level: z.union([z.literal(1), z.literal(2), z.literal(3)]),
          either: z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]),
          maybe: z.object({ a: z.string() }).nullable(),
        }),
      ),
    ).toMatchInlineSnapshot(`
      "{
        ids: string[]
        mixed: (string | number)[]
        pair: [string, number]
        head: [string, ...boolean[]]
        kind: "point"
        level: 1 | 2 | 3
        either: { a: string } | { b: number }
        maybe: { a: string } | null
      }"
    `)
  })

  test('discriminated unions', () => {
    expect(
      fromZod(
        z.discriminatedUnion('shape', [
          z.object({ shape: z.literal('circle'), radius: z.number().describe('In metres') }),
          z.object({ shape: z.literal('square'), side: z.number() }),
        ]),
      ),
    ).toMatchInlineSnapshot(`
      "{
        shape: "circle"
        /** In metres */
        radius: number
      } | { shape: "square"; side: number }"
    `)
  })

  test('records, odd keys, any and never', () => {
    expect(
      fromZod(
        z.object({
          counts: z.record(z.string(), z.number()),
          byUnit: z.record(z.enum(['c', 'f']), z.number()),
          some: z.partialRecord(z.enum(['a', 'b']), z.boolean()),
          extra: z.object({ a: z.string() }).catchall(z.number()),
          'content-type': z.string(),
          '2fa': z.boolean(),
          anything: z.any(),
          nothing: z.never().optional(),
        }),
      ),
    ).toMatchInlineSnapshot(`
      "{
        counts: Record<string, number>
        byUnit: Record<"c" | "f", number>
        some: Partial<Record<"a" | "b", boolean>>
        extra: { a: string; [key: string]: number }
        "content-type": string
        "2fa": boolean
        anything: unknown
        nothing?: never
      }"
    `)
  })

  test('$defs are expanded inline, recursion becomes unknown', () => {
    const Address = z.object({ street: z.string(), city: z.string() }).meta({
      id: 'Address',
      description: 'A postal address',
    })
    const Category = z.object({
      name: z.string(),
      get children() {
        return z.array(Category)
      },
    })
    expect(
      fromZod(
        z.object({ home: Address, work: Address.optional().describe('Office address'), category: Category }),
      ),
    ).toMatchInlineSnapshot(`
      "{
        /** A postal address */
        home: { street: string; city: string }
        /** Office address */
        work?: { street: string; city: string }
        category: { name: string; children: unknown[] }
      }"
    `)
  })
})

describe('schemaToTypeScript from JSON Schema', () => {
  test('primitives, literals and empty schemas', () => {
    expect(schemaToTypeScript({})).toBe('unknown')
    expect(schemaToTypeScript({ description: 'anything' })).toBe('unknown')
    expect(schemaToTypeScript({ type: 'integer' })).toBe('number')
    expect(schemaToTypeScript({ type: ['string', 'null'] })).toBe('string | null')
    expect(schemaToTypeScript({ type: 'string', nullable: true })).toBe('string | null')
    expect(schemaToTypeScript({ enum: ['a', 'b"c', 1, null] })).toBe('"a" | "b\\"c" | 1 | null')
    expect(schemaToTypeScript({ const: { x: [1] } })).toBe('{"x":[1]}')
    expect(schemaToTypeScript({ enum: [] })).toBe('never')
    expect(schemaToTypeScript({ type: 'object' })).toBe('Record<string, unknown>')
    expect(schemaToTypeScript({ type: 'array' })).toBe('unknown[]')
    expect(schemaToTypeScript({ type: 'array', items: { type: ['string', 'number'] } })).toBe(
      '(string | number)[]',
    )
  })

  test('objects with odd keys, index signatures and inferred types', () => {
    expect(
      schemaToTypeScript({
        properties: {
          'a b': { type: 'string' },
          $ok: { type: 'boolean' },
          nested: { properties: { deep: { type: 'array', items: { type: 'object' } } } },
        },
        required: ['a b'],
        additionalProperties: { type: 'string' },
      }),
    ).toMatchInlineSnapshot(`
      "{
        "a b": string
        $ok?: boolean
        nested?: { deep?: Record<string, unknown>[] }
        [key: string]: string
      }"
    `)
  })

  test('descriptions, constraints and annotations in JSDoc', () => {
    expect(
      schemaToTypeScript({
        type: 'object',
        properties: {
          ratio: {
            type: 'number',
            exclusiveMinimum: 0,
            exclusiveMaximum: 1,
            description: 'Share of the total',
          },
          step: { type: 'number', multipleOf: 0.5 },
          code: { type: 'string', minLength: 3, maxLength: 3 },
          slug: { type: 'string', pattern: '^[a-z-]+$' },
          ids: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true },
          old: { type: 'string', deprecated: true },
          note: { type: 'string', description: 'Line one\nLine two, with */ inside' },
        },
        required: ['ratio'],
      }),
    ).toMatchInlineSnapshot(`
      "{
        /**
         * Share of the total
         * greater than 0, less than 1
         */
        ratio: number
        /** multiple of 0.5 */
        step?: number
        /** length 3 */
        code?: string
        /** pattern: /^[a-z-]+$/ */
        slug?: string
        /** min items 1, unique items */
        ids?: string[]
        /** @deprecated */
        old?: string
        /**
         * Line one
         * Line two, with *\\/ inside
         */
        note?: string
      }"
    `)
  })

  test('$ref to $defs, definitions and the root; recursion stops at unknown', () => {
    expect(
      schemaToTypeScript({
        type: 'object',
        properties: {
          value: { type: 'number' },
          left: { $ref: '#' },
          tag: { $ref: '#/definitions/tag' },
          child: { $ref: '#/$defs/child' },
          broken: { $ref: '#/$defs/missing' },
        },
        required: ['value'],
        definitions: { tag: { enum: ['x', 'y'], description: 'A tag' } },
        $defs: { child: { type: 'object', properties: { self: { $ref: '#/$defs/child' } } } },
      }),
    ).toMatchInlineSnapshot(`
      "{
        value: number
        left?: unknown
        /** A tag */
        tag?: "x" | "y"
        child?: { self?: unknown }
        broken?: unknown
      }"
    `)
  })

  test('tuples: 2020-12 prefixItems and draft-07 items arrays', () => {
    expect(
      schemaToTypeScript({
        type: 'array',
        prefixItems: [{ type: 'string' }, { anyOf: [{ type: 'number' }, { type: 'null' }] }],
        minItems: 1,
      }),
    ).toBe('[string, (number | null)?]')
    expect(
      schemaToTypeScript({
        type: 'array',
        items: [{ type: 'string' }],
        additionalItems: { type: 'boolean' },
      }),
    ).toBe('[string, ...boolean[]]')
  })

  test('combinators: intersections, and anyOf narrowing a base type', () => {
    expect(
      schemaToTypeScript({
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { anyOf: [{ type: 'object', properties: { b: { type: 'number' } } }, { type: 'null' }] },
        ],
      }),
    ).toBe('{ a: string } & ({ b?: number } | null)')
    expect(schemaToTypeScript({ type: 'string', anyOf: [{ const: 'a' }, { const: 'b' }] })).toBe('"a" | "b"')
    expect(schemaToTypeScript({ anyOf: [{ type: 'string' }, {}] })).toBe('unknown')
    expect(schemaToTypeScript({ not: {} })).toBe('never')
    expect(schemaToTypeScript({ type: 'object', properties: { a: false, b: true }, required: ['a'] })).toBe(
      '{ a: never; b?: unknown }',
    )
  })

  test('long objects break onto lines even without JSDoc; indent is configurable', () => {
    const schema = {
      type: 'object',
      properties: {
        firstName: { type: 'string' },
        lastName: { type: 'string' },
        dateOfBirth: { type: 'string' },
        placeOfBirth: { type: 'string' },
        items: {
          type: 'array',
          items: { type: 'object', properties: { id: { type: 'string', description: 'Id' } } },
        },
      },
    }
    expect(schemaToTypeScript(schema, { indent: '    ' })).toMatchInlineSnapshot(`
      "{
          firstName?: string
          lastName?: string
          dateOfBirth?: string
          placeOfBirth?: string
          items?: {
              /** Id */
              id?: string
          }[]
      }"
    `)
  })
})
