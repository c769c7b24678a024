// Type-level tests: compiled by the typecheck task (tsc over src/**), not run by vitest.
import { describe, expectTypeOf, test } from 'vitest'
import { z } from 'zod'
import { type InferSchema, jsonSchema, type NormalizedSchema, type TypedJSONSchema } from './schema.js'
import { defineTool, type Tool, type ToolContext } from './tool.js'

describe('defineTool parameters', () => {
  test('execute args are inferred from a zod schema', () => {
    const tool = defineTool({
      name: 'get_weather',
      description: 'Current weather for a city.',
      parameters: z.object({ city: z.string(), units: z.enum(['c', 'f']).optional() }),
      execute: (args, context) => {
        expectTypeOf(args).toEqualTypeOf<{ city: string; units?: 'c' | 'f' | undefined }>()
        expectTypeOf(context).toEqualTypeOf<ToolContext>()
        return args.city
      },
    })
    expectTypeOf(tool).toEqualTypeOf<Tool<{ city: string; units?: 'c' | 'f' | undefined }, unknown>>()
    expectTypeOf(tool.execute).parameter(0).toEqualTypeOf<{ city: string; units?: 'c' | 'f' | undefined }>()
    expectTypeOf(tool.parameters).toEqualTypeOf<
      NormalizedSchema<{ city: string; units?: 'c' | 'f' | undefined }>
    >()
  })

  test('zod args are the parsed output: a defaulted field is required inside execute', () => {
    defineTool({
      name: 'search',
      description: 'Searches.',
      parameters: z.object({ query: z.string(), limit: z.number().default(10) }),
      execute: (args) => {
        expectTypeOf(args).toEqualTypeOf<{ query: string; limit: number }>()
      },
    })
  })

  test('execute args are inferred from jsonSchema<T>()', () => {
    const tool = defineTool({
      name: 'square',
      description: 'Squares a number.',
      parameters: jsonSchema<{ n: number }>({ type: 'object', properties: { n: { type: 'number' } } }),
      execute: ({ n }) => {
        expectTypeOf(n).toEqualTypeOf<number>()
        return n * n
      },
    })
    expectTypeOf(tool.execute).parameter(0).toEqualTypeOf<{ n: number }>()
  })

  test('execute args are unknown for a raw JSON Schema', () => {
    const tool = defineTool({
      name: 'echo',
      description: 'Echoes.',
      parameters: { type: 'object', properties: { text: { type: 'string' } } },
      execute: (args) => {
        expectTypeOf(args).toBeUnknown()
        return args
      },
    })
    expectTypeOf(tool.execute).parameter(0).toBeUnknown()
  })

  test('args of the wrong type are refused', () => {
    const parameters = z.object({ city: z.string() })
    expectTypeOf<{ city: number }>().not.toExtend<InferSchema<typeof parameters>>()
    defineTool({
      name: 'get_weather',
      description: 'Current weather for a city.',
      parameters,
      // @ts-expect-error city is a string, not a number
      execute: ({ city }: { city: number }) => city,
    })
  })
})

describe('defineTool returns', () => {
  test('the result type is unknown without returns', () => {
    const tool = defineTool({
      name: 'now',
      description: 'The time.',
      parameters: z.object({}),
      execute: () => 42,
    })
    expectTypeOf(tool.execute).returns.toEqualTypeOf<unknown>()
    expectTypeOf(tool.returns).toEqualTypeOf<NormalizedSchema<unknown> | undefined>()
  })

  test('the result type comes from a zod returns schema', () => {
    const tool = defineTool({
      name: 'get_weather',
      description: 'Current weather for a city.',
      parameters: z.object({ city: z.string() }),
      returns: z.object({ tempC: z.number(), units: z.enum(['c', 'f']).default('c') }),
      execute: async () => ({ tempC: 21, units: 'c' as const }),
    })
    expectTypeOf(tool).toEqualTypeOf<Tool<{ city: string }, { tempC: number; units: 'c' | 'f' }>>()
    expectTypeOf(tool.execute).returns.toEqualTypeOf<
      Promise<{ tempC: number; units: 'c' | 'f' }> | { tempC: number; units: 'c' | 'f' }
    >()
    expectTypeOf(tool.returns).toEqualTypeOf<
      NormalizedSchema<{ tempC: number; units: 'c' | 'f' }> | undefined
    >()
  })

  test('the result type comes from a jsonSchema<T>() returns schema', () => {
    const tool = defineTool({
      name: 'count',
      description: 'Counts.',
      parameters: z.object({}),
      returns: jsonSchema<number>({ type: 'number' }),
      execute: () => 3,
    })
    expectTypeOf(tool).toEqualTypeOf<Tool<Record<string, never>, number>>()
  })

  test('an execute returning the wrong type is refused when returns is given', () => {
    const returns = z.object({ tempC: z.number() })
    expectTypeOf<{ tempC: string }>().not.toExtend<InferSchema<typeof returns>>()
    defineTool({
      name: 'get_weather',
      description: 'Current weather for a city.',
      parameters: z.object({ city: z.string() }),
      returns,
      // @ts-expect-error tempC must be a number
      execute: () => ({ tempC: 'warm' }),
    })
    defineTool({
      name: 'get_weather',
      description: 'Current weather for a city.',
      parameters: z.object({ city: z.string() }),
      returns,
      // @ts-expect-error a promise of the wrong type is refused too
      execute: async () => 'warm',
    })
  })

  test('any result is allowed without returns', () => {
    const tool = defineTool({
      name: 'anything',
      description: 'Returns anything.',
      parameters: z.object({}),
      execute: async () => ({ tempC: 'warm' }),
    })
    expectTypeOf(tool).toEqualTypeOf<Tool<Record<string, never>, unknown>>()
  })
})

describe('InferSchema', () => {
  test('is the output type of a zod schema', () => {
    const schema = z.object({ name: z.string(), tags: z.array(z.string()).default([]) })
    expectTypeOf<InferSchema<typeof schema>>().toEqualTypeOf<{ name: string; tags: string[] }>()
    expectTypeOf<InferSchema<z.ZodString>>().toEqualTypeOf<string>()
    expectTypeOf<
      InferSchema<z.ZodPipe<z.ZodString, z.ZodTransform<number, string>>>
    >().toEqualTypeOf<number>()
  })

  test('is T of jsonSchema<T>()', () => {
    const schema = jsonSchema<{ id: string }>({ type: 'object' })
    expectTypeOf(schema).toEqualTypeOf<TypedJSONSchema<{ id: string }>>()
    expectTypeOf<InferSchema<typeof schema>>().toEqualTypeOf<{ id: string }>()
  })

  test('is unknown for a raw JSON Schema and for anything else', () => {
    expectTypeOf<InferSchema<{ type: 'object' }>>().toBeUnknown()
    expectTypeOf<InferSchema<string>>().toBeUnknown()
  })
})
