import { describe, expect, test } from 'vitest'
import { InvalidDefinitionError } from './errors.js'
import { DEFAULT_LIMITS, type Limits, resolveLimits } from './limits.js'

const defaults: Limits = {
  timeoutMs: 30_000,
  maxOperations: 10_000_000,
  memoryMb: 128,
  maxOutputBytes: 65_536,
  maxToolCalls: 200,
  maxCallDepth: 1_000,
  maxValueBytes: 8_388_608,
}

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

describe('DEFAULT_LIMITS', () => {
  test('has the documented values', () => {
    expect(DEFAULT_LIMITS).toEqual(defaults)
  })

  test('is frozen', () => {
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true)
    expect(() => {
      ;(DEFAULT_LIMITS as Limits).timeoutMs = 1
    }).toThrow(TypeError)
    expect(DEFAULT_LIMITS.timeoutMs).toBe(30_000)
  })
})

describe('resolveLimits', () => {
  test('without overrides returns the defaults as a new, mutable object', () => {
    const limits = resolveLimits()
    expect(limits).toEqual(defaults)
    expect(limits).not.toBe(DEFAULT_LIMITS)
    expect(Object.isFrozen(limits)).toBe(false)
    expect(resolveLimits({})).toEqual(defaults)
  })

  test('overrides replace only the fields they set', () => {
    expect(resolveLimits({ timeoutMs: 5_000, maxToolCalls: 3 })).toEqual({
      ...defaults,
      timeoutMs: 5_000,
      maxToolCalls: 3,
    })
  })

  test('the smallest accepted value is 1', () => {
    expect(resolveLimits({ maxCallDepth: 1 }).maxCallDepth).toBe(1)
  })

  test('the largest safe integer is accepted', () => {
    expect(resolveLimits({ maxOperations: Number.MAX_SAFE_INTEGER }).maxOperations).toBe(
      Number.MAX_SAFE_INTEGER,
    )
  })

  test('Infinity is accepted and means no limit', () => {
    const limits = resolveLimits({ timeoutMs: Infinity, maxValueBytes: Infinity })
    expect(limits.timeoutMs).toBe(Infinity)
    expect(limits.maxValueBytes).toBe(Infinity)
    expect(limits.memoryMb).toBe(128)
  })

  test('an undefined override keeps the default', () => {
    expect(resolveLimits({ timeoutMs: undefined, memoryMb: 64 } as Partial<Limits>)).toEqual({
      ...defaults,
      memoryMb: 64,
    })
  })

  test('does not change DEFAULT_LIMITS or the overrides', () => {
    const overrides = { timeoutMs: 10 }
    const limits = resolveLimits(overrides)
    limits.maxToolCalls = 1
    expect(overrides).toEqual({ timeoutMs: 10 })
    expect(DEFAULT_LIMITS.maxToolCalls).toBe(200)
    expect(resolveLimits().maxToolCalls).toBe(200)
  })

  test('an unknown limit is refused, listing the known ones', () => {
    const known =
      'timeoutMs, maxOperations, memoryMb, maxOutputBytes, maxToolCalls, maxCallDepth, maxValueBytes'
    expect(definitionError(() => resolveLimits({ timeout: 1000 } as Partial<Limits>))).toBe(
      `Unknown limit "timeout". Known limits: ${known}.`,
    )
    // Even when its value is undefined, so a typo never passes silently.
    expect(definitionError(() => resolveLimits({ maxToolcalls: undefined } as Partial<Limits>))).toBe(
      `Unknown limit "maxToolcalls". Known limits: ${known}.`,
    )
    // Inherited names of Object.prototype are not limits.
    expect(definitionError(() => resolveLimits(JSON.parse('{"toString": 5}') as Partial<Limits>))).toBe(
      `Unknown limit "toString". Known limits: ${known}.`,
    )
  })

  test.each([
    [0, '0'],
    [-1, '-1'],
    [-Infinity, '-Infinity'],
    [1.5, '1.5'],
    [NaN, 'NaN'],
    [2 ** 53, '9007199254740992'],
    ['1000', '"1000"'],
    ['many', '"many"'],
    [null, 'null'],
    [true, 'true'],
    [10n, '10'],
  ])('%s is refused', (value, shown) => {
    expect(definitionError(() => resolveLimits({ maxToolCalls: value } as unknown as Partial<Limits>))).toBe(
      `Limit maxToolCalls must be a positive integer or Infinity, got ${shown}.`,
    )
  })
})
