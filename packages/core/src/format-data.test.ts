import { describe, expect, it } from 'vitest'
import type { Data } from './data.js'
import { formatData } from './format-data.js'

describe('formatData', () => {
  it.each<[Data, string]>([
    [null, 'null'],
    [undefined, 'undefined'],
    [true, 'true'],
    [42, '42'],
    [-0, '-0'],
    [Number.NaN, 'NaN'],
    [-Infinity, '-Infinity'],
    [12n, '12n'],
    ['a "quoted"\nline', '"a \\"quoted\\"\\nline"'],
    [new Date(Date.UTC(2024, 2, 1)), 'Date(2024-03-01T00:00:00.000Z)'],
    [new Date(Number.NaN), 'Date(invalid)'],
  ])('renders %s', (value, expected) => {
    expect(formatData(value)).toBe(expected)
  })

  it('keeps types distinguishable inside structures', () => {
    expect(formatData([1, '1', 1n, null, undefined])).toBe('[1, "1", 1n, null, undefined]')
  })

  it('renders objects with bare identifier keys and quoted others', () => {
    expect(formatData({ id: 7, 'first name': 'Ada', $ref: true })).toBe(
      '{ id: 7, "first name": "Ada", $ref: true }',
    )
  })

  it('renders Map, Set and Uint8Array with their sizes', () => {
    expect(
      formatData(
        new Map<Data, Data>([
          ['a', 1],
          [2, [3]],
        ]),
      ),
    ).toBe('Map(2) { "a" => 1, 2 => [3] }')
    expect(formatData(new Set(['x', 'y']))).toBe('Set(2) { "x", "y" }')
    expect(formatData(new Uint8Array([104, 105]))).toBe('Uint8Array(2) [104, 105]')
  })

  it('renders empty containers compactly', () => {
    expect(formatData([])).toBe('[]')
    expect(formatData({})).toBe('{}')
    expect(formatData(new Map())).toBe('Map(0) {}')
    expect(formatData(new Set())).toBe('Set(0) {}')
    expect(formatData(new Uint8Array())).toBe('Uint8Array(0) []')
  })

  it('shows the first 32 bytes of a long byte array and counts the rest', () => {
    const rendered = formatData(new Uint8Array(100))
    expect(rendered).toMatch(/^Uint8Array\(100\) \[\n/)
    expect(rendered).toContain('… 68 more')
    expect(rendered.match(/\b0,/g)).toHaveLength(32)
  })

  it('breaks large structures one entry per line, with nested indentation', () => {
    const value = {
      user: { name: 'Ada Lovelace', email: 'ada@example.com', roles: ['admin', 'editor'] },
      createdAt: new Date(0),
      tags: new Set(['one', 'two']),
    }
    expect(formatData(value)).toBe(
      [
        '{',
        '  user: { name: "Ada Lovelace", email: "ada@example.com", roles: ["admin", "editor"] },',
        '  createdAt: Date(1970-01-01T00:00:00.000Z),',
        '  tags: Set(2) { "one", "two" },',
        '}',
      ].join('\n'),
    )
  })

  it('packs long arrays of short primitives into lines', () => {
    const rendered = formatData(Array.from({ length: 40 }, (_, index) => index))
    const lines = rendered.split('\n')
    expect(lines[0]).toBe('[')
    expect(lines.at(-1)).toBe(']')
    expect(lines.length).toBeLessThan(8)
    expect(lines.every((line) => line.length <= 80)).toBe(true)
  })

  it('is deterministic and keeps insertion order', () => {
    const value = {
      b: 1,
      a: new Map<Data, Data>([
        ['z', 1],
        ['y', 2],
      ]),
    }
    expect(formatData(value)).toBe(formatData(structuredClone(value)))
    expect(formatData(value)).toBe('{ b: 1, a: Map(2) { "z" => 1, "y" => 2 } }')
  })

  it('marks a cycle instead of recursing forever', () => {
    const cyclic: Data[] = []
    cyclic.push(cyclic)
    expect(formatData(cyclic)).toBe('[[Circular]]')
  })
})
