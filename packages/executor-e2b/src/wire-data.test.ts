import type { Data } from '@airlock/core'
import { describe, expect, it } from 'vitest'
import { WireFormatError, decodeData, encodeData } from './wire-data.js'

const roundTrip = (value: Data) => decodeData(JSON.parse(JSON.stringify(encodeData(value))))

describe('wire data', () => {
  it('round-trips every kind of data through JSON text', () => {
    const sample: Data = {
      text: 'héllo ✓',
      count: 3,
      flag: false,
      nothing: null,
      missing: undefined,
      big: 12345678901234567890n,
      negativeBig: -5n,
      when: new Date('2024-01-02T03:04:05.000Z'),
      invalid: new Date(Number.NaN),
      bytes: new Uint8Array([0, 1, 254, 255]),
      lookup: new Map<Data, Data>([
        ['a', 1],
        [2, { deep: [true] }],
      ]),
      tags: new Set<Data>(['x', undefined]),
      special: [Number.NaN, Infinity, -Infinity, -0, 0],
      nested: { list: [1, [2, [3]]], empty: {} },
    }
    expect(roundTrip(sample)).toStrictEqual(sample)
  })

  it('keeps objects whose keys look like tags, and __proto__ as a key', () => {
    const tricky = JSON.parse('{"$":"date","v":1,"__proto__":{"polluted":true}}') as Data
    const decoded = roundTrip(tricky) as Record<string, Data>
    expect(Object.keys(decoded)).toEqual(['$', 'v', '__proto__'])
    expect(decoded.$).toBe('date')
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('encodes special values as tagged objects and plain JSON as itself', () => {
    expect(encodeData({ a: [1, 'x', null, true] })).toEqual({ a: [1, 'x', null, true] })
    expect(encodeData(undefined)).toEqual({ $: 'undefined' })
    expect(encodeData(-0)).toEqual({ $: 'number', v: '-0' })
    expect(encodeData(10n)).toEqual({ $: 'bigint', v: '10' })
    expect(encodeData(new Uint8Array([104, 105]))).toEqual({ $: 'bytes', v: 'aGk=' })
  })

  it('refuses malformed wire values from the sandbox', () => {
    const bad: unknown[] = [
      { $: 'nope' },
      { $: 'bigint', v: '12abc' },
      { $: 'bytes', v: '***' },
      { $: 'map', v: [[1]] },
      { $: 'number', v: 'Zero' },
      { $: 'date', v: 'yesterday' },
      { $: 'object', v: [] },
    ]
    for (const value of bad) expect(() => decodeData(value)).toThrow(WireFormatError)
    let deep: unknown = 1
    for (let level = 0; level < 500; level++) deep = [deep]
    expect(() => decodeData(deep)).toThrow(/deeper/)
  })
})
