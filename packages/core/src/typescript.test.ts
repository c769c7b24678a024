import { describe, expect, test } from 'vitest'
import { CodeSyntaxError } from './errors.js'
import { lineStarts, parseScript, positionAt, stripTypeScript } from './typescript.js'

function thrownBy(action: () => unknown): CodeSyntaxError {
  let caught: unknown
  try {
    action()
  } catch (error) {
    caught = error
  }
  expect(CodeSyntaxError.isInstance(caught)).toBe(true)
  return caught as CodeSyntaxError
}

function refused(code: string): CodeSyntaxError {
  return thrownBy(() => stripTypeScript(code))
}

describe('stripTypeScript', () => {
  test('plain JavaScript passes through unchanged', () => {
    const code =
      'const a = await fetchIt({ q: 1 })\nlet b = a?.b ?? [1, 2].map((x) => x * 2)\nfunction f(x, y = 2, ...rest) { return x < y }\nclass C { #p = 1; static s = 2 }\nf(1)\n'
    expect(stripTypeScript(code)).toBe(code)
  })

  test('valid sloppy JavaScript that TypeScript refuses passes through unchanged', () => {
    for (const code of ['with (o) { x }', 'const a = 010', 'x = 1 <!-- legacy comment\n']) {
      expect(stripTypeScript(code)).toBe(code)
    }
  })

  test('types are blanked with spaces, keeping every offset and line break', () => {
    const code = [
      'interface Point {',
      '  x: number',
      '}',
      'const p: Point = { x: 1 } as Point',
      'function id<T>(value: T): T { return value! }',
      'type Alias = string | number\r\nlet s = p satisfies Point',
    ].join('\n')
    const stripped = stripTypeScript(code)
    expect(stripped).toBe(
      [
        '                 ',
        '           ',
        ' ',
        'const p        = { x: 1 }         ',
        'function id   (value   )    { return value  }',
        '                            \r\nlet s = p                ',
      ].join('\n'),
    )
    expect(stripped.length).toBe(code.length)
    expect(lineStarts(stripped)).toEqual(lineStarts(code))
  })

  test('type-only imports disappear; value imports stay', () => {
    expect(stripTypeScript('import type { A } from "m"\nimport { type B, c } from "m"')).toBe(
      '                          \nimport {         c } from "m"',
    )
  })

  test('enum is refused with what to use instead', () => {
    const error = refused('const a = 1\n  enum E { A, B }')
    expect(error.message).toBe(
      'TypeScript enums are not supported in code actions; use a const object, e.g. const Color = { Red: "red", Blue: "blue" } as const.',
    )
    expect([error.line, error.column]).toEqual([2, 3])
    expect(refused('const enum E { A }').message).toContain('TypeScript enums are not supported')
  })

  test('namespaces, parameter properties, import equals and angle-bracket casts are refused', () => {
    expect(refused('namespace N { export const a = 1 }').message).toBe(
      'TypeScript namespaces are not supported in code actions; use a plain object or top-level declarations.',
    )
    expect(refused('module M {}').message).toContain('TypeScript namespaces are not supported')
    const parameterProperty = refused('class C {\n  constructor(private x: number) {}\n}')
    expect(parameterProperty.message).toBe(
      'TypeScript parameter properties (constructor(private x: T)) are not supported in code actions; declare the field in the class body and assign it in the constructor.',
    )
    expect([parameterProperty.line, parameterProperty.column]).toEqual([2, 23])
    expect(refused('import fs = require("fs")').message).toBe(
      'import x = require("m") is not supported in code actions; use import x from "m".',
    )
    const cast = refused('const n = <number>value')
    expect(cast.message).toBe(
      'Type assertions written <T>value are not supported in code actions; write value as T.',
    )
    expect([cast.line, cast.column]).toEqual([1, 11])
  })

  test('invalid TypeScript reports swc error at its position', () => {
    const error = refused('const a: number = 1\nconst b: string = foo(;')
    expect(error.message).toBe('Expression expected.')
    expect([error.line, error.column]).toEqual([2, 23])
  })

  test('invalid JavaScript reports the acorn error at its position', () => {
    const error = refused('const a = 1\nconst b = foo(;')
    expect(error.message).toBe('Unexpected token')
    expect([error.line, error.column]).toEqual([2, 15])
  })

  test('columns count UTF-16 code units after tabs and wide characters', () => {
    const prefix = '\tconst s = "é日本🎉"; '
    const error = refused(`let x = 1\n${prefix}enum E { A }`)
    expect([error.line, error.column]).toEqual([2, prefix.length + 1])
  })

  test('a top-level return is refused with what to do instead', () => {
    for (const code of ['const a = 1\nreturn a', 'const a: number = 1\nreturn a']) {
      const error = refused(code)
      expect(error.message).toBe(
        'A top-level return is not allowed in a code action; end the code with the expression whose value you want, or call finalAnswer(value).',
      )
      expect([error.line, error.column]).toEqual([2, 1])
    }
  })

  // swc's parser overflows its WebAssembly stack on deep code, which used to leave it broken for
  // every later strip in the process.
  describe('code deep enough to overflow the stripper', () => {
    const deep = [
      ['nested parentheses', `let x: number = ${'('.repeat(2_000)}1${')'.repeat(2_000)}`],
      ['nested arrays, as JavaScript', `let y = ${'['.repeat(3_000)}${']'.repeat(3_000)}`],
      ['a chain of unary operators', `let z: number = ${'!'.repeat(20_000)}1`],
      ['a chain of conditionals', `let w: number = ${'a?b:'.repeat(10_000)}c`],
    ]
    test.each(deep)('%s: refused or read as JavaScript, and the next strip still works', (_, code) => {
      let outcome: unknown
      try {
        outcome = stripTypeScript(code) === code ? 'read as JavaScript' : 'changed'
      } catch (error) {
        outcome = CodeSyntaxError.isInstance(error) ? 'refused' : error
      }
      expect(['read as JavaScript', 'refused']).toContain(outcome)
      expect(stripTypeScript('let v: number = 1')).toBe('let v         = 1')
    })
  })
})

describe('parseScript', () => {
  test('parses a sloppy script with top-level await and import declarations', () => {
    const program = parseScript('import x from "m"\nvar let = await x')
    expect(program.body.map((statement) => statement.type)).toEqual([
      'ImportDeclaration',
      'VariableDeclaration',
    ])
  })

  test('reports a syntax error without acorn position suffix', () => {
    const sameLine = thrownBy(() => parseScript('a b'))
    expect([sameLine.message, sameLine.line, sameLine.column]).toEqual(['Unexpected token', 1, 3])
    const laterLine = thrownBy(() => parseScript('\n\n  )'))
    expect([laterLine.message, laterLine.line, laterLine.column]).toEqual(['Unexpected token', 3, 3])
  })
})

describe('positions', () => {
  test('lines break at \\n, \\r\\n, \\r, U+2028 and U+2029', () => {
    const text = 'a\nb\r\nc\rd\u2028e\u2029f'
    const starts = lineStarts(text)
    expect(starts).toEqual([0, 2, 5, 7, 9, 11])
    expect(positionAt(starts, 0)).toEqual({ line: 1, column: 1 })
    expect(positionAt(starts, 3)).toEqual({ line: 2, column: 2 })
    expect(positionAt(starts, 11)).toEqual({ line: 6, column: 1 })
    expect(positionAt(starts, 12)).toEqual({ line: 6, column: 2 })
  })

  test('line starts at the ends of the text, and next to other control characters', () => {
    expect(lineStarts('')).toEqual([0])
    expect(lineStarts('\n')).toEqual([0, 1])
    expect(lineStarts('a\r')).toEqual([0, 2])
    expect(lineStarts('\r\r\n\n')).toEqual([0, 1, 3, 4])
    expect(lineStarts('a\tb\vc\fd\u0085e\u2027f\u202ag')).toEqual([0])
  })
})
