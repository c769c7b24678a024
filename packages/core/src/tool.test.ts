import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { InvalidDefinitionError } from './errors.js'
import { jsonSchema } from './schema.js'
import { assertUniqueToolNames, defineTool, type Tool, type ToolContext } from './tool.js'

const context: ToolContext = {
  signal: new AbortController().signal,
  sessionId: 'session-1',
  toolCallId: 'call-1',
}

/** A definition that passes every check, to vary one field at a time. */
function valid(overrides: Record<string, unknown> = {}): never {
  return {
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: z.object({ city: z.string() }),
    execute: () => ({ tempC: 21 }),
    ...overrides,
  } as never
}

/** Calls `define` and returns what it threw, failing the test when it did not throw. */
function thrown(define: () => unknown): Error {
  try {
    define()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected defineTool to throw')
}

/** The message of the InvalidDefinitionError `define` throws; any other outcome fails the test. */
function definitionError(define: () => unknown): string {
  const error = thrown(define)
  if (!InvalidDefinitionError.isInstance(error) || error.name !== 'InvalidDefinitionError') throw error
  return error.message
}

describe('defineTool with valid definitions', () => {
  test('a zod tool keeps name, description and execute, and describes parameters as JSON Schema', async () => {
    const execute = async ({ city }: { city: string; units?: 'c' | 'f' | undefined }) => ({
      city,
      tempC: 21,
    })
    const tool = defineTool({
      name: 'get_weather',
      description: 'Current weather for a city.',
      parameters: z.object({ city: z.string(), units: z.enum(['c', 'f']).optional() }),
      execute,
    })

    expect(tool.name).toBe('get_weather')
    expect(tool.description).toBe('Current weather for a city.')
    expect(tool.execute).toBe(execute)
    expect(tool.returns).toBeUndefined()
    expect('returns' in tool).toBe(false)
    expect(tool.parameters.jsonSchema).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        city: { type: 'string' },
        units: { type: 'string', enum: ['c', 'f'] },
      },
      required: ['city'],
    })
    expect(await tool.execute({ city: 'Oslo' }, context)).toEqual({ city: 'Oslo', tempC: 21 })
    expect(await tool.parameters.validate({ city: 'Oslo', units: 'c' }, 'args')).toEqual({
      ok: true,
      value: { city: 'Oslo', units: 'c' },
    })
    expect(await tool.parameters.validate({ city: 3 }, 'args')).toEqual({
      ok: false,
      issues: [{ path: 'args.city', message: 'Invalid input: expected string, received number' }],
    })
  })

  test('a plain JSON Schema tool keeps the schema as given and validates with it', async () => {
    const parameters = {
      type: 'object',
      properties: { n: { type: 'number' } },
      required: ['n'],
    }
    const tool = defineTool({
      name: 'double',
      description: 'Doubles a number.',
      parameters,
      execute: (args) => (args as { n: number }).n * 2,
    })

    expect(tool.parameters.jsonSchema).toBe(parameters)
    expect(await tool.execute({ n: 4 }, context)).toBe(8)
    expect(await tool.parameters.validate({ n: 'four' }, 'args')).toEqual({
      ok: false,
      issues: [{ path: 'args.n', message: 'expected number, received string' }],
    })
  })

  test('a jsonSchema<T>() tool unwraps the JSON Schema', async () => {
    const schema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] }
    const tool = defineTool({
      name: 'square',
      description: 'Squares a number.',
      parameters: jsonSchema<{ n: number }>(schema),
      execute: ({ n }) => n * n,
    })

    expect(tool.parameters.jsonSchema).toBe(schema)
    expect(await tool.execute({ n: 3 }, context)).toBe(9)
    expect(await tool.parameters.validate({}, 'args')).toEqual({
      ok: false,
      issues: [{ path: 'args.n', message: 'missing required property' }],
    })
  })

  test('the description is trimmed', () => {
    const tool = defineTool(valid({ description: '\n  Current weather for a city.  \t\n' }))
    expect(tool.description).toBe('Current weather for a city.')
  })

  test('names with _, $ and digits after the first character are accepted', () => {
    expect(defineTool(valid({ name: '_private' })).name).toBe('_private')
    expect(defineTool(valid({ name: '$fetch2' })).name).toBe('$fetch2')
    expect(defineTool(valid({ name: 'getWeather_v2' })).name).toBe('getWeather_v2')
  })
})

describe('defineTool returns', () => {
  test('returns is described as zod outputs it, parameters as the model writes them', () => {
    const shape = { units: z.enum(['c', 'f']).default('c'), city: z.string() }
    const tool = defineTool({
      name: 'get_weather',
      description: 'Current weather for a city.',
      parameters: z.object(shape),
      returns: z.object(shape),
      execute: (args) => args,
    })

    // A defaulted field may be left out by the caller, but is always present in the result.
    expect(tool.parameters.jsonSchema.required).toEqual(['city'])
    expect(tool.returns?.jsonSchema.required).toEqual(['units', 'city'])
    expect(tool.returns?.jsonSchema).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        units: { type: 'string', enum: ['c', 'f'], default: 'c' },
        city: { type: 'string' },
      },
      required: ['units', 'city'],
      additionalProperties: false,
    })
  })

  test('returns may be any schema, not only an object', async () => {
    const tool = defineTool(valid({ returns: z.number() }))
    expect(tool.returns?.jsonSchema).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'number',
    })
    expect(await tool.returns?.validate('21', 'result')).toEqual({
      ok: false,
      issues: [{ path: 'result', message: 'Invalid input: expected number, received string' }],
    })
  })

  test('a returns schema that is not a schema is refused with its location', () => {
    expect(definitionError(() => defineTool(valid({ returns: { tempC: 'number' } })))).toBe(
      "Tool get_weather returns is neither a zod 4 schema nor a JSON Schema (none of type, properties, items, prefixItems, enum, const, ...); write e.g. { type: 'object', properties: { city: { type: 'string' } } }.",
    )
  })
})

describe('defineTool definition errors', () => {
  test('the definition must be an object', () => {
    for (const definition of [undefined, null, 'get_weather']) {
      expect(definitionError(() => defineTool(definition as never))).toBe(
        'defineTool takes one object: { name, description, parameters, returns?, execute }.',
      )
    }
  })

  test.each([
    ['get-weather', '"get-weather"'],
    ['1abc', '"1abc"'],
    ['', '""'],
    ['get weather', '"get weather"'],
    ['météo', '"météo"'],
    [42, '42'],
    [undefined, 'undefined'],
    [null, 'null'],
  ])('name %j is not an identifier', (name, shown) => {
    expect(definitionError(() => defineTool(valid({ name })))).toBe(
      `Tool name ${shown} is not a valid JavaScript identifier: use letters, digits, _ and $, not starting with a digit (e.g. "get_weather").`,
    )
  })

  test.each(['finalAnswer', 'console', 'require', 'globalThis', 'class', 'await', 'eval', 'undefined'])(
    'name %s is reserved',
    (name) => {
      expect(definitionError(() => defineTool(valid({ name })))).toBe(
        `Tool name "${name}" is reserved in the sandbox; choose another name.`,
      )
    },
  )

  test.each([[''], ['   \n\t'], [undefined], [42]])('description %j is refused', (description) => {
    expect(definitionError(() => defineTool(valid({ description })))).toBe(
      'Tool get_weather needs a non-empty description: the model reads it to decide when to call the tool.',
    )
  })

  test('execute must be a function', () => {
    for (const execute of [undefined, 'run', { call() {} }]) {
      expect(definitionError(() => defineTool(valid({ execute })))).toBe(
        'Tool get_weather needs an execute(args, context) function.',
      )
    }
  })

  test('a zod schema that is not an object is refused', () => {
    expect(definitionError(() => defineTool(valid({ parameters: z.string() })))).toBe(
      'Tool get_weather parameters must describe an object (tools take one object argument), got "string"; wrap them, e.g. z.object({ value: ... }).',
    )
  })

  test('a JSON Schema that is not an object is refused', () => {
    expect(definitionError(() => defineTool(valid({ parameters: { type: 'string' } })))).toBe(
      'Tool get_weather parameters must describe an object (tools take one object argument), got "string"; wrap them, e.g. z.object({ value: ... }).',
    )
    expect(
      definitionError(() => defineTool(valid({ parameters: jsonSchema<string[]>({ type: 'array' }) }))),
    ).toBe(
      'Tool get_weather parameters must describe an object (tools take one object argument), got "array"; wrap them, e.g. z.object({ value: ... }).',
    )
  })

  test('a JSON Schema without a type is refused', () => {
    expect(definitionError(() => defineTool(valid({ parameters: {} })))).toBe(
      'Tool get_weather parameters must describe an object (tools take one object argument), got "no type"; wrap them, e.g. z.object({ value: ... }).',
    )
  })

  test('an object of type names is neither zod nor JSON Schema', () => {
    expect(definitionError(() => defineTool(valid({ parameters: { city: 'string' } })))).toBe(
      "Tool get_weather parameters is neither a zod 4 schema nor a JSON Schema (none of type, properties, items, prefixItems, enum, const, ...); write e.g. { type: 'object', properties: { city: { type: 'string' } } }.",
    )
  })

  test('parameters that are not an object are refused', () => {
    expect(definitionError(() => defineTool(valid({ parameters: undefined })))).toBe(
      'Tool get_weather parameters must be a zod 4 schema or a JSON Schema object, got undefined.',
    )
    expect(definitionError(() => defineTool(valid({ parameters: 'object' })))).toBe(
      'Tool get_weather parameters must be a zod 4 schema or a JSON Schema object, got string.',
    )
  })

  test('a Standard Schema that cannot describe itself as JSON Schema is refused', () => {
    const validateOnly = {
      '~standard': {
        version: 1,
        vendor: 'fake',
        validate: (value: unknown) => ({ value }),
      },
    }
    expect(definitionError(() => defineTool(valid({ parameters: validateOnly })))).toBe(
      'Tool get_weather parameters validates but cannot describe itself as JSON Schema (no "~standard.jsonSchema"); use zod 4.2+ or pass a JSON Schema.',
    )
  })

  test('a zod schema that JSON Schema cannot represent is refused with its location', () => {
    const error = thrown(() => defineTool(valid({ parameters: z.object({ when: z.date() }) })))
    expect(InvalidDefinitionError.isInstance(error)).toBe(true)
    expect(error.message).toBe(
      'Tool get_weather parameters cannot be converted to JSON Schema: Date cannot be represented in JSON Schema',
    )
    expect((error.cause as Error).message).toBe('Date cannot be represented in JSON Schema')
  })

  test('the name is checked before anything else', () => {
    expect(
      definitionError(() => defineTool(valid({ name: 'get-weather', description: '', execute: undefined }))),
    ).toBe(
      'Tool name "get-weather" is not a valid JavaScript identifier: use letters, digits, _ and $, not starting with a digit (e.g. "get_weather").',
    )
  })
})

describe('assertUniqueToolNames', () => {
  const tool = (name: string): Tool => defineTool(valid({ name }))

  test('accepts distinct names and no tools', () => {
    expect(() => assertUniqueToolNames([])).not.toThrow()
    expect(() => assertUniqueToolNames([tool('a'), tool('b'), tool('c')])).not.toThrow()
  })

  test('names are compared exactly, so case differs', () => {
    expect(() => assertUniqueToolNames([tool('search'), tool('Search')])).not.toThrow()
  })

  test('refuses a repeated name and says which', () => {
    expect(
      definitionError(() => assertUniqueToolNames([tool('a'), tool('search'), tool('b'), tool('search')])),
    ).toBe('Two tools are named "search"; tool names must be unique. Rename one of them.')
  })
})
