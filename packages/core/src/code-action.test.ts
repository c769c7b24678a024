import vm from 'node:vm'
import { describe, expect, test } from 'vitest'
import { codeFrame, mayReadAsTypeScript, type PreparedCodeAction, prepareCodeAction } from './code-action.js'
import { CodeSyntaxError } from './errors.js'
import { parseScript, stripTypeScript } from './typescript.js'

const modules: Record<string, Record<string, unknown>> = {
  m: { default: 'm-default', a: 1, 'kebab-name': 'kebab' },
  n: { default: 'n-default', b: 2 },
  side: {},
}

/** A REPL session the way a harness-based executor runs code actions, in a node:vm context. */
function createSession() {
  const imported: unknown[][] = []
  const context = vm.createContext({
    imported,
    IMPORT: async (...args: unknown[]) => {
      imported.push(args)
      const name = String(args[0])
      const namespace = modules[name]
      if (namespace === undefined) throw new Error(`Module ${name} is not allowed`)
      return namespace
    },
  })
  let runs = 0
  return {
    context,
    imported,
    async run(code: string): Promise<unknown> {
      return (await this.start(code)).result
    },
    /** Runs `code`, also returning what was prepared and the script's file name. */
    async start(code: string): Promise<{ result: unknown; prepared: PreparedCodeAction; filename: string }> {
      const prepared = prepareCodeAction(code, { importFunction: 'IMPORT' })
      if (prepared.declaredNames.length > 0) {
        vm.runInContext(`var ${prepared.declaredNames.join(', ')};`, context)
      }
      const filename = `action-${++runs}.js`
      const action = vm.runInContext(prepared.script, context, { filename }) as () => Promise<unknown>
      return { result: await action(), prepared, filename }
    },
  }
}

/** Runs code expected to throw and returns the error and where its first frame in the script maps to. */
async function thrownAt(code: string, session = createSession()) {
  const prepared = prepareCodeAction(code, { importFunction: 'IMPORT' })
  vm.runInContext(`var ${['__unused', ...prepared.declaredNames].join(', ')};`, session.context)
  const action = vm.runInContext(prepared.script, session.context, {
    filename: 'thrown.js',
  }) as () => Promise<unknown>
  let caught: unknown
  try {
    await action()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeDefined()
  const stack = String((caught as Error).stack)
  const frame = /thrown\.js:(\d+):(\d+)/.exec(stack)
  expect(frame).not.toBeNull()
  const scriptPosition = { line: Number(frame![1]), column: Number(frame![2]) }
  return {
    error: caught as Error,
    scriptPosition,
    position: prepared.originalPosition(scriptPosition.line, scriptPosition.column),
  }
}

function syntaxError(code: string, importFunction = 'IMPORT'): CodeSyntaxError {
  let caught: unknown
  try {
    prepareCodeAction(code, { importFunction })
  } catch (error) {
    caught = error
  }
  expect(CodeSyntaxError.isInstance(caught)).toBe(true)
  return caught as CodeSyntaxError
}

function parsesAsJavaScript(code: string): boolean {
  try {
    parseScript(code)
    return true
  } catch {
    return false
  }
}

/** 1-based line and column of `offset` in `text`, counting JavaScript's line terminators. */
function positionIn(text: string, offset: number): { line: number; column: number } {
  expect(offset).toBeGreaterThanOrEqual(0)
  const lines = text.slice(0, offset).split(/\r\n?|[\n\u2028\u2029]/)
  return { line: lines.length, column: lines.at(-1)!.length + 1 }
}

/** 1-based line and column of the first `needle` in `code`. */
function positionOf(code: string, needle: string): { line: number; column: number } {
  return positionIn(code, code.indexOf(needle))
}

describe('prepareCodeAction: state across runs', () => {
  test('top-level bindings persist into later runs', async () => {
    const session = createSession()
    expect(await session.run('const x = 40\nlet y = 1\nvar z = 1')).toBeUndefined()
    expect(await session.run('y += 1\nx + y')).toBe(42)
    expect(await session.run('z')).toBe(1)
  })

  test('const, let, function and class can be declared again in a later run', async () => {
    const session = createSession()
    await session.run(
      'const x = 1\nlet y = "a"\nfunction f() { return "first" }\nclass C { get v() { return 1 } }',
    )
    await session.run(
      'const x = 2\nlet y = "b"\nfunction f() { return "second" }\nclass C { get v() { return 2 } }',
    )
    expect(await session.run('[x, y, f(), new C().v]')).toEqual([2, 'b', 'second', 2])
  })

  test('let without initializer resets the binding; var without initializer keeps it', async () => {
    const session = createSession()
    await session.run('let a = 1\nvar b = 2')
    await session.run('let a\nvar b')
    expect(await session.run('[a, b]')).toEqual([undefined, 2])
  })

  test('destructuring declarations assign every name they declare', async () => {
    const session = createSession()
    const { prepared, result } = await session.start(
      'const o = { a: 1, b: [2, 3], d: 4, e: 5 }\nconst { a, b: [c, ...tail], ...rest } = o\nlet [first = 10, , third] = [undefined, 0, 30]',
    )
    expect(result).toBeUndefined()
    expect(prepared.declaredNames).toEqual(['o', 'a', 'c', 'tail', 'rest', 'first', 'third'])
    expect(await session.run('[a, c, tail, rest, first, third]')).toEqual([1, 2, [3], { d: 4, e: 5 }, 10, 30])
  })

  test('var declarations outside functions are top-level wherever they are', async () => {
    const session = createSession()
    const { prepared } = await session.start(
      'for (var i = 0; i < 3; i++) {}\nfor (var key in { k: 1 }) {}\nfor (var [p, q] of [[1, 2]]) {}\nif (true) { var inBlock = "yes" }\nfunction g() { var local = 1; return local }',
    )
    expect(prepared.declaredNames).toEqual(['i', 'key', 'p', 'q', 'inBlock', 'g'])
    expect(await session.run('[i, key, p, q, inBlock, typeof local]')).toEqual([
      3,
      'k',
      1,
      2,
      'yes',
      'undefined',
    ])
  })

  test('a top-level function is hoisted: callable before its declaration, and persistent', async () => {
    const session = createSession()
    expect(await session.run('const r = f(2)\nfunction f(n) { return n * 21 }\nr')).toBe(42)
    expect(await session.run('f(1)')).toBe(21)
  })

  test('async and generator functions are hoisted too', async () => {
    const session = createSession()
    const code =
      'const values = [...gen()]\nconst later = await twice(4)\nasync function twice(n) { await null; return n * 2 }\nfunction* gen() { yield 1; yield 2 }\nasync function* agen() { yield 3 }\n[values, later]'
    expect(await session.run(code)).toEqual([[1, 2], 8])
    expect(await session.run('const out = []\nfor await (const v of agen()) out.push(v)\nout')).toEqual([3])
  })

  test('a class is assigned where it is declared and keeps its name', async () => {
    const session = createSession()
    await session.run('class Point { constructor(x) { this.x = x } static origin() { return new Point(0) } }')
    expect(await session.run('[Point.name, Point.origin().x, new Point(3).x]')).toEqual(['Point', 0, 3])
  })

  test('names assigned without a declaration become globals in sloppy mode', async () => {
    const session = createSession()
    await session.run('undeclared = 5')
    expect(await session.run('undeclared')).toBe(5)
  })

  test('a leading "use strict" makes the action strict', async () => {
    const session = createSession()
    const { prepared } = await session.start('"use strict"\nconst a = 1')
    expect(prepared.script.startsWith('(async function () {"use strict";')).toBe(true)
    await expect(session.run('"use strict"\nnotDeclared = 1')).rejects.toThrow('notDeclared is not defined')
  })

  test('missing semicolons do not join rewritten statements', async () => {
    const session = createSession()
    const code =
      'const o = { a: 1 }\nlet list = []\nlist.push(0)\nconst { a } = o\nlet x\n[1, 2].forEach((n) => list.push(n))\nclass K {}\n(function () { list.push(3) })()\nvar v\n`t`\nlist'
    expect(await session.run(code)).toEqual([0, 1, 2, 3])
    expect(await session.run('[a, x, typeof K]')).toEqual([1, undefined, 'function'])
  })

  test('a var named async or let in a for-of head still parses', async () => {
    const session = createSession()
    expect(await session.run('for (var async of [1, 2]) {}\nfor (var let of [3]) {}\n[async, let]')).toEqual([
      2, 3,
    ])
  })

  test('an exported declaration is declared without the export', async () => {
    const session = createSession()
    await session.run('export const a = 1\nexport function f() { return 2 }\nexport class C {}')
    expect(await session.run('[a, f(), typeof C]')).toEqual([1, 2, 'function'])
  })
})

describe('prepareCodeAction: the value of a run', () => {
  test('is the last expression statement', async () => {
    const session = createSession()
    expect(await session.run('1 + 1')).toBe(2)
    expect(await session.run('const a = 3;\na * 2;')).toBe(6)
    expect(await session.run('(1, "sequence")')).toBe('sequence')
    expect(await session.run('"just a string"')).toBe('just a string')
    expect(await session.run('({ answer: 42 }) // trailing comment')).toEqual({ answer: 42 })
    expect(await session.run('"after empty statements";;\n;')).toBe('after empty statements')
  })

  test('awaits a promise and an async IIFE', async () => {
    const session = createSession()
    expect(await session.run('Promise.resolve(5)')).toBe(5)
    expect(await session.run('(async () => { await null; return 7 })()')).toBe(7)
    expect(await session.run('const v = await Promise.resolve(8)\nv')).toBe(8)
  })

  test('is undefined when the last statement is not an expression statement', async () => {
    const session = createSession()
    expect(await session.run('1\nconst y = 3')).toBeUndefined()
    expect(await session.run('1\nfunction g() { return 1 }')).toBeUndefined()
    expect(await session.run('1\nclass D {}')).toBeUndefined()
    expect(await session.run('if (true) { 1 }')).toBeUndefined()
    expect(await session.run('')).toBeUndefined()
    expect(await session.run('// only a comment')).toBeUndefined()
  })
})

describe('prepareCodeAction: imports', () => {
  test('static imports load through the import function, before other code runs', async () => {
    const session = createSession()
    const { prepared, result } = await session.start(
      'const early = d\nimport d, { a as renamed, "kebab-name" as kebab } from "m"\nimport * as ns from "n"\nimport nd, * as ns2 from "n"\nimport "side"\n[early, d, renamed, kebab, ns.b, nd, ns2 === ns]',
    )
    expect(result).toEqual(['m-default', 'm-default', 1, 'kebab', 2, 'n-default', true])
    expect(prepared.declaredNames).toEqual(['early', 'd', 'renamed', 'kebab', 'ns', 'nd', 'ns2'])
    expect(session.imported).toEqual([['m'], ['n'], ['n'], ['side']])
    expect(await session.run('renamed + ns.b')).toBe(3)
  })

  test('import attributes are passed on', async () => {
    const session = createSession()
    await session.run('import data from "m" with { type: "json" }')
    expect(session.imported).toEqual([['m', { with: { type: 'json' } }]])
  })

  test('dynamic import() anywhere calls the import function', async () => {
    const session = createSession()
    const result = await session.run(
      'const m = await import("m")\nasync function load(name) { return (await import(name)).default }\n[m.a, await load("n")]',
    )
    expect(result).toEqual([1, 'n-default'])
    expect(session.imported).toEqual([['m'], ['n']])
  })

  test('import declarations below the top level and export are refused', () => {
    const nested = syntaxError('if (true) {\n  import x from "m"\n}')
    expect(nested.message).toBe(
      'import declarations are only allowed at the top level of a code action; here, use await import("m").',
    )
    expect([nested.line, nested.column]).toEqual([2, 3])
    for (const code of ['export default 1', 'const a = 1\nexport { a }', 'export * from "m"']) {
      const error = syntaxError(code)
      expect(error.message).toBe('export is not supported in code actions; declare the value and use it.')
      expect(error.line).toBe(code.split('\n').length)
      expect(error.column).toBe(1)
    }
  })

  test('import.meta is refused', () => {
    const error = syntaxError('const u = import.meta.url')
    expect(error.message).toBe('import.meta is not available in code actions.')
    expect([error.line, error.column]).toEqual([1, 11])
  })
})

describe('prepareCodeAction: TypeScript', () => {
  test('erasable TypeScript runs', async () => {
    const session = createSession()
    const code = [
      'import type { Thing } from "m"',
      'interface Point { x: number; y: number }',
      'type Pair<T> = [T, T]',
      'declare const injected: string',
      'const p: Point = { x: 1, y: 2 } satisfies Point',
      'function swap<T>(pair: Pair<T>): Pair<T> { return [pair[1], pair[0]] }',
      'abstract class Shape { abstract area(): number; protected name?: string }',
      'class Square extends Shape { constructor(private readonly side: number) { super() } area() { return this.side ** 2 } }',
    ].join('\n')
    // Parameter properties are not erasable; everything before them is.
    expect(syntaxError(code).message).toBe(
      'TypeScript parameter properties (constructor(private x: T)) are not supported in code actions; declare the field in the class body and assign it in the constructor.',
    )
    const erasable = code.replace(
      'constructor(private readonly side: number) { super() }',
      'side: number; constructor(side: number) { super(); this.side = side }',
    )
    await session.run(erasable)
    expect(
      await session.run('const s = swap<number>([p.x, p.y]);\n[s, new Square(3).area(), (p as Point).x!]'),
    ).toEqual([[2, 1], 9, 1])
  })

  test('type-only declarations declare nothing', () => {
    const prepared = prepareCodeAction(
      'interface A {}\ntype B = string\ndeclare const c: number\nconst d: B = "d"',
      {
        importFunction: 'IMPORT',
      },
    )
    expect(prepared.declaredNames).toEqual(['d'])
  })

  test('an enum is refused with a position and what to use instead', () => {
    const error = syntaxError('const a = 1\n  enum Color { Red, Blue }')
    expect(error.message).toBe(
      'TypeScript enums are not supported in code actions; use a const object, e.g. const Color = { Red: "red", Blue: "blue" } as const.',
    )
    expect([error.line, error.column]).toEqual([2, 3])
  })

  test('a namespace is refused', () => {
    const error = syntaxError('namespace N { export const a = 1 }')
    expect(error.message).toBe(
      'TypeScript namespaces are not supported in code actions; use a plain object or top-level declarations.',
    )
    expect([error.line, error.column]).toEqual([1, 1])
  })
})

describe('prepareCodeAction: JavaScript that TypeScript reads differently', () => {
  // Code that parses as JavaScript skips the TypeScript strip unless TypeScript could read it
  // differently; then the TypeScript reading wins, as it did when every code action was stripped.
  const readDifferently = [
    'f<T>(x)',
    'a < b > (c)',
    'a<b>\nc',
    'x = y\n<T>\n(z)',
    'a < b, c > (d)',
    'a < ")" > (b)',
    'a < b /* c */ > (d)',
    'tag<T>`raw`',
    'declare\nconst x = 1',
    'if (a) declare\nconst y = 1',
    'namespace\nfoo\n{}',
    'global\n{}',
  ]

  test('is prepared as its TypeScript reading', () => {
    const outcomes = readDifferently.map((code) => {
      const stripped = stripTypeScript(code)
      const prepared = prepareCodeAction(code, { importFunction: 'IMPORT' })
      const ofStripped = prepareCodeAction(stripped, { importFunction: 'IMPORT' })
      return {
        code,
        javascript: parsesAsJavaScript(code),
        typeScriptDiffers: stripped !== code,
        script: prepared.script === ofStripped.script,
        declaredNames: prepared.declaredNames.join() === ofStripped.declaredNames.join(),
      }
    })
    expect(outcomes).toEqual(
      readDifferently.map((code) => ({
        code,
        javascript: true,
        typeScriptDiffers: true,
        script: true,
        declaredNames: true,
      })),
    )
  })

  test('mayReadAsTypeScript tells such code from JavaScript the strip gives back unchanged', () => {
    expect(readDifferently.filter((code) => !mayReadAsTypeScript(parseScript(code), code))).toEqual([])
    const plain = [
      'for (let i = 0; i < 3; i++) n += i',
      'const a = [1].map((x) => x * 2)\na.length > 1 ? a[0] : 0',
    ]
    expect(
      plain.map((code) => [mayReadAsTypeScript(parseScript(code), code), stripTypeScript(code) === code]),
    ).toEqual([
      [false, true],
      [false, true],
    ])
  })

  test('a generic call runs as a call, not as comparisons', async () => {
    const session = createSession()
    expect(await session.run('const f = (x) => x * 2\nconst T = 1\nf<T>(21)')).toBe(42)
    expect(await session.run('const tag = (strings) => strings[0]\ntag<T>`raw`')).toBe('raw')
  })

  test('what TypeScript refuses in such code is still refused', () => {
    for (const code of ['global\n{ x = 1 }', 'namespace\nN\n{ x = 1 }']) {
      const error = syntaxError(code)
      expect(error.message).toBe(
        'TypeScript namespaces are not supported in code actions; use a plain object or top-level declarations.',
      )
      expect([error.line, error.column]).toEqual([1, 1])
    }
  })

  test('comparisons, shifts and conditionals that cannot be TypeScript stay JavaScript', async () => {
    const session = createSession()
    const code = [
      'let n = 0',
      'for (let i = 0; i < 3; i++) n += i > 0 ? i : 10',
      'const a = 1, b = 2;',
      '[n, a < b && b > a, a < b ? "lt" : "ge", (a) < (b), a << 2 > 3, a < b || b > a, a < "b" === b > "a"]',
    ].join('\n')
    expect(stripTypeScript(code)).toBe(code)
    expect(await session.run(code)).toEqual([13, true, 'lt', true, true, true, true])
    expect(await session.run('const c = true\nconst g = c ? (a) : (x) => x\ng')).toBe(1)
  })
})

describe('prepareCodeAction: the walk over every node', () => {
  test('names are checked in every kind of node', () => {
    const codes = [
      'class A { static { __airlock_x } }',
      'class A { f = __airlock_x }',
      'class A { [__airlock_x]() {} }',
      'class A extends __airlock_x {}',
      '`${__airlock_x}`',
      'tag`${__airlock_x}`',
      'switch (a) { case __airlock_x: }',
      'switch (a) { case 1: __airlock_x }',
      'label: __airlock_x',
      'try {} catch (__airlock_x) {}',
      'try {} finally { __airlock_x }',
      'for (const a of __airlock_x) {}',
      'for (const a in __airlock_x) {}',
      'for (;; __airlock_x) {}',
      'f(...__airlock_x)',
      'a?.[__airlock_x]',
      'new A(__airlock_x)',
      'function* g() { yield __airlock_x }',
      'async function g() { await __airlock_x }',
      'function g(a = __airlock_x) {}',
      'const f = () => __airlock_x',
      '({ [__airlock_x]: 1 })',
      '({ a: __airlock_x })',
      'const { a = __airlock_x } = o',
      'const [, ...__airlock_x] = o',
      'with (o) __airlock_x',
      'do __airlock_x; while (0)',
      'while (a) __airlock_x',
      'if (a) {} else __airlock_x',
      'x ? y : __airlock_x',
      '(a, __airlock_x)',
      'import(__airlock_x)',
      'import("m", __airlock_x)',
      'x ||= __airlock_x',
      '-__airlock_x',
      '__airlock_x++',
      'throw __airlock_x',
      '[, __airlock_x]',
      'export const a = __airlock_x',
    ]
    const reserved =
      "The name __airlock_x is reserved for airlock's own use in code actions; choose another name."
    expect(
      codes.map((code) => {
        const error = syntaxError(code)
        return { code, message: error.message, line: error.line, column: error.column }
      }),
    ).toEqual(codes.map((code) => ({ code, message: reserved, ...positionOf(code, '__airlock_x') })))
  })

  test('the first refused construct is the one reported', () => {
    const error = syntaxError('const a = import.meta\nconst __airlock_b = 1')
    expect(error.message).toBe('import.meta is not available in code actions.')
    expect([error.line, error.column]).toEqual([1, 11])
  })

  test('import() is rewritten wherever it is', async () => {
    const session = createSession()
    const code =
      'const r = `${(await import("m")).a}`\nclass K { static p = import("n"); static { this.q = import("m") } }\nfunction load(name = "n") { return import(name) }\n[r, (await K.p).b, (await K.q).a, (await load()).b]'
    expect(await session.run(code)).toEqual(['1', 2, 1, 2])
  })
})

describe('prepareCodeAction: positions', () => {
  test('a runtime error after an edit on the same line maps to its column in the code', async () => {
    const code = 'const a = 1\nlet b = 2\nconst c = a+b; let d=4;throw new Error("boom")\n'
    // V8 places a thrown `new Error` at `new`: column 30 of line 3.
    expect(positionOf(code, 'new Error')).toEqual({ line: 3, column: 30 })
    const { error, position, scriptPosition } = await thrownAt(code)
    expect(error.message).toBe('boom')
    // Rewriting `const` and `let` earlier on the line moved it in the script...
    expect(scriptPosition.column).not.toBe(30)
    // ...and it maps back exactly.
    expect(position).toEqual({ line: 3, column: 30 })
  })

  test('a runtime error maps back through stripped types', async () => {
    const code =
      'const n: number = 1\nconst s: Array<string> = []; const t: { a: number } = { a: 1 }; missing()'
    const { error, position } = await thrownAt(code)
    expect(error.message).toBe('missing is not defined')
    expect(position).toEqual(positionOf(code, 'missing()'))
  })

  test('a runtime error inside a hoisted function maps to its original line', async () => {
    const code = 'const x = 1\n\nfail()\n\nfunction fail() {\n  return null.property\n}'
    const { error, position } = await thrownAt(code)
    expect(error.name).toBe('TypeError')
    expect(position).toEqual(positionOf(code, 'property'))
  })

  test('a runtime error in the returned last expression maps back', async () => {
    const code = 'let o = undefined\no.field'
    const { position } = await thrownAt(code)
    expect(position).toEqual(positionOf(code, 'field'))
  })

  test('a failed import maps to the import statement', async () => {
    const code = 'const x = 1\n  import nope from "not-allowed"\nnope'
    const { error, position } = await thrownAt(code)
    expect(error.message).toBe('Module not-allowed is not allowed')
    expect(position).toEqual({ line: 2, column: 3 })
  })

  test('positions in the wrapper itself map to nothing', () => {
    const prepared = prepareCodeAction('1', { importFunction: 'IMPORT' })
    expect(prepared.script).toBe('(async function () {\nreturn (1)\n})')
    expect(prepared.originalPosition(1, 1)).toBeUndefined()
    expect(prepared.originalPosition(2, 9)).toEqual({ line: 1, column: 1 })
    // `return (` stands for the statement it returns.
    expect(prepared.originalPosition(2, 1)).toEqual({ line: 1, column: 1 })
    expect(prepared.originalPosition(3, 1)).toBeUndefined()
    expect(prepared.originalPosition(9, 1)).toBeUndefined()
    expect(prepared.originalPosition(0, 1)).toBeUndefined()
  })

  test('every unchanged character maps to itself, with CRLF and U+2028 line breaks', () => {
    const code =
      'const alpha = 1\r\nlet beta\u2028call()\nfunction f() { return 1 }\nimport x from "m"\nvar c = 2; alpha + beta + c'
    const prepared = prepareCodeAction(code, { importFunction: 'IMPORT' })
    for (const needle of [
      'alpha = 1',
      'beta',
      'call()',
      'function f',
      'return 1',
      'c = 2',
      'alpha + beta + c',
    ]) {
      const inScript = positionIn(prepared.script, prepared.script.indexOf(needle))
      expect(prepared.originalPosition(inScript.line, inScript.column)).toEqual(positionOf(code, needle))
    }
  })
})

describe('prepareCodeAction: positions of every token', () => {
  test('every name in the script of TypeScript with hoisted functions, imports and rewritten declarations maps back', () => {
    const code = [
      'import d, { a as renamed } from "m"',
      'const first: number = f(1), { b }: { b: string } = { b: "x" }',
      'let later: string\r\nvar counter = 0; for (var i = 0; i < 3; i++) counter += i',
      'function f(n: number): number {',
      '  return n * twice<number>(n)',
      '}',
      'class Box<T> { constructor(readonly_: T) { this.v = readonly_ } }',
      'export function twice<T>(v: T): T { return v }',
      'const result = await import("n")\u2028const total = first + counter as number',
      'total',
    ].join('\n')
    const prepared = prepareCodeAction(code, { importFunction: 'IMPORT' })
    // Each name in the script maps to the same name in the code, or, when generated (the hoisted
    // import, `f = ` before a hoisted function, `;C = class`), to the construct it stands for.
    const scriptLines = prepared.script.split(/\r\n?|[\n\u2028\u2029]/)
    const codeLines = code.split(/\r\n?|[\n\u2028\u2029]/)
    const exact: string[] = []
    const generated: { name: string; mapsTo: string }[] = []
    scriptLines.forEach((text, lineIndex) => {
      for (const match of text.matchAll(/[A-Za-z_]\w*/g)) {
        const original = prepared.originalPosition(lineIndex + 1, match.index + 1)
        // Generated keywords: `void (` for a declaration, `= void 0` after `let x`, `return (`.
        if (original === undefined || match[0] === 'void' || match[0] === 'return') continue
        const codeText = codeLines[original.line - 1]!.slice(original.column - 1)
        if (codeText.startsWith(match[0])) exact.push(match[0])
        else generated.push({ name: match[0], mapsTo: /^\w+/.exec(codeText)?.[0] ?? codeText })
      }
    })
    expect(exact.length).toBeGreaterThan(35)
    for (const { mapsTo } of generated) {
      expect(['import', 'export', 'function', 'class', 'const', 'let', 'var']).toContain(mapsTo)
    }
  })
})

describe('prepareCodeAction: refused code', () => {
  test('syntax errors carry acorn message and position in the code', () => {
    const error = syntaxError('const a = 1\nfoo(;')
    expect(error.message).toBe('Unexpected token')
    expect([error.line, error.column]).toEqual([2, 5])
  })

  test('a syntax error after TypeScript syntax is reported where it is', () => {
    const error = syntaxError('const a: number = 1\nconst b: string = ;')
    expect(error.message).toBe('Expression expected.')
    expect([error.line, error.column]).toEqual([2, 19])
  })

  test('a syntax error after a tab and wide characters is located by code unit', () => {
    const error = syntaxError('const s: string = "日本🎉"\n\tenum E { A }')
    expect([error.line, error.column]).toEqual([2, 2])
    const sameLine = syntaxError('const s: string = "日本🎉"; enum E { A }')
    expect([sameLine.line, sameLine.column]).toEqual([1, 'const s: string = "日本🎉"; '.length + 1])
  })

  test('a top-level return is refused', () => {
    const error = syntaxError('const a = 1\nreturn a')
    expect(error.message).toBe(
      'A top-level return is not allowed in a code action; end the code with the expression whose value you want, or call finalAnswer(value).',
    )
    expect([error.line, error.column]).toEqual([2, 1])
    const typed = syntaxError('const a: number = 1\n  return a')
    expect(typed.message).toBe(error.message)
    expect([typed.line, typed.column]).toEqual([2, 3])
  })

  test('names starting with __airlock, and the import function, are refused', () => {
    const declared = syntaxError('const x = 1\nconst __airlock_value = 2')
    expect(declared.message).toBe(
      "The name __airlock_value is reserved for airlock's own use in code actions; choose another name.",
    )
    expect([declared.line, declared.column]).toEqual([2, 7])
    expect(syntaxError('function f(__airlockArg) {}').column).toBe(12)
    expect(syntaxError('__airlock_import("m")').message).toContain('__airlock_import is reserved')
    expect(syntaxError('const IMPORT = 1').message).toContain('IMPORT is reserved')
    // Property names are not bindings.
    expect(
      prepareCodeAction('const o = { __airlock: 1 }\no.__airlock', { importFunction: 'IMPORT' })
        .declaredNames,
    ).toEqual(['o'])
  })

  test('await as a name is refused outside functions', () => {
    const error = syntaxError('const await = 1')
    expect(error.message).toBe(
      'await cannot be used as a name in a code action (code actions run as async functions); choose another name.',
    )
    expect(
      prepareCodeAction('function f() { var await = 1; return await }', { importFunction: 'IMPORT' }),
    ).toBeDefined()
  })

  test('declaring a top-level arguments and top-level using are refused', () => {
    const argumentsError = syntaxError('let a = 1\nconst arguments = [1]')
    expect(argumentsError.message).toBe(
      'A code action cannot declare a top-level "arguments"; choose another name.',
    )
    expect([argumentsError.line, argumentsError.column]).toEqual([2, 7])
    const usingError = syntaxError('using handle = open()')
    expect(usingError.message).toBe(
      'using declarations are not supported at the top level of a code action; put them inside a block.',
    )
    expect([usingError.line, usingError.column]).toEqual([1, 1])
  })

  test('valid sloppy JavaScript that TypeScript refuses passes through', async () => {
    const session = createSession()
    expect(await session.run('const o = { v: 7 }\nlet r\nwith (o) { r = v }\nr')).toBe(7)
  })

  test('the import function must be an identifier', () => {
    expect(() => prepareCodeAction('1', { importFunction: 'a.b' })).toThrow(TypeError)
  })
})

describe('codeFrame', () => {
  test('shows the lines around the position with a caret', () => {
    const code = 'const x = 1\nconst y = x +\nfoo(\nbar\nbaz\nqux'
    expect(codeFrame(code, 3, 4)).toBe(
      ['  1 | const x = 1', '  2 | const y = x +', '> 3 | foo(', '    |    ^', '  4 | bar', '  5 | baz'].join(
        '\n',
      ),
    )
  })

  test('pads line numbers and keeps tabs under the caret', () => {
    const code = Array.from({ length: 10 }, (_, index) => `line${index + 1}`)
    code[9] = '\tx = oops'
    expect(codeFrame(code.join('\n'), 10, 6, 1)).toBe(
      ['   9 | line9', '> 10 | \tx = oops', '     | \t    ^'].join('\n'),
    )
  })

  test('is empty for a line outside the code', () => {
    expect(codeFrame('a', 2, 1)).toBe('')
  })
})
