import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import vm from 'node:vm'
import { tokenizer } from 'acorn'
import { describe, expect, test } from 'vitest'
import { prepareCodeAction } from './code-action.js'
import { codeVariations } from './code-variations.js'
import { prepareCodeActionQuickly } from './quick-code-action.js'

const options = { importFunction: '__airlock_import' }

/**
 * Checks the contract of the quick reading on `code` and says which way it went: it gave up, or
 * its script does not compile (the caller falls back), or its result is the full preparation's.
 */
function checkContract(code: string): 'gave up' | 'does not compile' | 'same' {
  const quick = prepareCodeActionQuickly(code, options)
  if (quick === undefined) return 'gave up'
  try {
    new vm.Script(quick.script)
  } catch (error) {
    if (error instanceof SyntaxError) return 'does not compile'
    throw error
  }
  let full
  try {
    full = prepareCodeAction(code, options)
  } catch (error) {
    throw new Error(
      `The quick script compiles where the full preparation refuses ${JSON.stringify(code)}: ${error}`,
    )
  }
  expect({ code, script: quick.script, names: quick.declaredNames }).toEqual({
    code,
    script: full.script,
    names: full.declaredNames,
  })
  return 'same'
}

const rows = Array.from({ length: 50 }, (_, i) => `${i},${['north', 'south'][i % 2]},${i * 3}`)

describe('prepareCodeActionQuickly: what it reads', () => {
  test.each([
    // A typical step: data in a string, then a chain of array methods, then a value.
    `const csv = ${JSON.stringify(['id,region,units', ...rows].join('\n'))}
const [header, ...lines] = csv.split(/\\n/)
const records = lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [header.split(',')[i], i === 1 ? v : Number(v)])))
const groups = {}
records.forEach((r) => { (groups[r.region] ??= []).push(r) })
const report = Object.entries(groups).map(([region, items]) => \`\${region}: \${items.length}\`).join('\\n')
report`,
    'const x = await get_data({ id: 1 })\nconsole.log(x)\nx.length',
    'let a, b = 2, c\na = b + 1;\n[a, b] = [b, a]\na',
    'const { a, b: [c = 1, , ...d] = [], ["e" + 1]: f, ...g } = obj; a',
    'const f = async (x) => {\n  const y = await g(x)\n  return y * 2\n}\nconst r = await f(3)\nr',
    'function twice(x) { return x * 2 }\nasync function* gen() { yield 1 }\nfunction* h() {}\ntwice(2)',
    'for (const x of xs) { total += x }\nif (total > 3) { console.log("big") } else if (total) {} else { total = 0 }\ntotal',
    'try { risky() } catch { recover() } finally { done() }\nwhile (n--) {}\ndo { n++ } while (n < 3);\nswitch (n) { case 1: break; default: }',
    'const mod = await import("m")\nconst lazy = () => import("n")\nmod.default',
    'const t = `a ${b ? `c ${d}` : "e"} f ${{ g: 1 }.g}`\nt',
    'const ratio = a / b / 2\nconst re = /[/\\]]+/gi.test(s) ? 1 : 0\nratio + re',
    'const o = {\n  a: 1,\n  "b": 2,\n  [c]: 3,\n}\n// a comment\n/* a block\n comment */\no',
    'const f = function () {}\n(g)\nconst h = x => x\n(1)',
    'const n = 1\n+ 2\nconst m = n\n.toString()\nm',
    'let x\nx = 1;;',
    'const big = 10n ** 20n, hex = 0xff, float = .5e-3, sep = 1_000\nbig',
    'x = a ? b : c\ny = { k: a ? (b) : c }\nz = a?.b?.[c]?.(d) ?? e',
    'console.log(i++)\nlet i = 0\nfor (let j = 0; j < 3; ++j) { i += j }',
    'const total = 2 * await rate()\ntotal',
    // `async` is a name here: a line break may not follow it in an async function.
    'async\nfunction f() {}',
    '',
    '// only a comment',
  ])('the full reading of %j', (code) => {
    expect(checkContract(code)).toBe('same')
  })
})

describe('prepareCodeActionQuickly: where it gives up', () => {
  test.each([
    ['TypeScript type arguments', 'f<T>(x)'],
    ['a comparison TypeScript reads as type arguments', 'a < b > (c)'],
    ['a conditional TypeScript reads as an arrow with a return type', 'c ? (x) : y => y'],
    ['a TypeScript declaration word', 'type\nFoo = 1'],
    ['a TypeScript type alias', 'type Point = { x: number }'],
    ['a TypeScript interface', 'interface Point { x: number }'],
    ['a TypeScript assertion', 'const n = value as number'],
    ['a TypeScript satisfies', 'const p = { x: 1 } satisfies Point'],
    ['a static import', 'import x from "m"\nx'],
    ['import.meta', 'import.meta.url'],
    ['an import with options', 'await import("m", { with: { type: "json" } })'],
    ['a method named import', '({ import() {} })'],
    ['var at the top level', 'var x = 1'],
    ['a class', 'class A {}'],
    ['export', 'export const a = 1'],
    ['a label', 'outer: for (;;) break outer'],
    ['a reserved name', 'const __airlock_x = 1'],
    ['the import function as a name', '__airlock_import("m")'],
    ['return outside a function', 'if (x) { return 1 }'],
    ['return in a method it cannot place', '({ m() { return 1 } })'],
    ['a call as an assignment target', 'f() = 1'],
    ['a call as an increment target', '++f()'],
    ['a call as a loop target', 'for (f() of xs) {}'],
    ['a slash after a brace', 'x = {}\n/re/.test(s)'],
    ['a slash after a control head', 'if (x) /re/.test(s)'],
    ['a directive', '"use strict"; x'],
    ['a name declared twice', 'let a = 1; let a = 2'],
    ['a name declared twice in one pattern', 'const [a, a] = x'],
    ['a reserved word as a binding', 'let yield = 1'],
    ['new.target', 'new.target'],
    ['await as a parameter name', 'function f(await) {}'],
    ['await naming a function expression', '(function await() {})'],
    ['await naming a generator expression', '(function* await() {})'],
    ['for (var ... in) with an initializer', 'function f() { for (var x = 1 in o) {} }'],
    ['an increment across a line break', 'a\n++b'],
    ['non-ASCII outside strings', 'const café = 1'],
    ['a hashbang', '#!/usr/bin/env node\nx'],
    ['an HTML comment', 'x <!-- y'],
    ['a statement body without braces', 'if (x) y()'],
    ['a string that does not end', '"abc'],
  ])('%s', (_, code) => {
    expect(prepareCodeActionQuickly(code, options)).toBeUndefined()
  })

  // Acorn refuses code nested a few hundred levels deep, where V8 reads it: the quick reading must
  // give up first, or it would run code the full preparation refuses.
  test.each([
    ['brackets', `x = ${'['.repeat(200)}${']'.repeat(200)}`],
    ['templates', `x = ${'`${'.repeat(200)}1${'}`'.repeat(200)}`],
    ['arrow functions', `x = ${'() => '.repeat(300)}1`],
    ['a chain of operators', `x = ${'1 +\n'.repeat(1_500)}1`],
    ['a chain of calls', `x = f${'()'.repeat(1_500)}`],
  ])('code nested deeper than the full parse reads: %s', (_, code) => {
    expect(prepareCodeActionQuickly(code, options)).toBeUndefined()
  })

  test('patterns nested past the stack give up instead of throwing', () => {
    const depth = 200_000
    const code = `const ${'['.repeat(depth)}a${']'.repeat(depth)} = x`
    expect(prepareCodeActionQuickly(code, options)).toBeUndefined()
  })

  test('an import function that is not a name gives up', () => {
    expect(prepareCodeActionQuickly('x', { importFunction: 'not a name' })).toBeUndefined()
  })
})

describe('prepareCodeActionQuickly: code only the full preparation reads', () => {
  test.each([
    ['TypeScript annotations', 'const f = (a: number): number => a\nf(1)'],
    ['a syntax error', 'const x = (1 +\nx'],
    ['an unterminated template', 'x = `abc ${d}'],
  ])('%s comes out as a script that does not compile', (_, code) => {
    expect(checkContract(code)).not.toBe('same')
  })
})

/** String literals in core's own sources and tests: code snippets, most of them. */
function corpus(): string[] {
  const root = join(import.meta.dirname, '..')
  const found: string[] = []
  for (const directory of ['src', 'src/testing', 'test']) {
    for (const name of readdirSync(join(root, directory))) {
      if (!name.endsWith('.ts')) continue
      const text = readFileSync(join(root, directory, name), 'utf8')
      for (const token of tokenizer(text, { ecmaVersion: 'latest', sourceType: 'module' })) {
        // Acorn's token type leaves out the value its tokens carry.
        const { value } = token as unknown as { value: unknown }
        if ((token.type.label === 'string' || token.type.label === 'template') && typeof value === 'string') {
          found.push(value)
        }
      }
    }
  }
  return found
}

test('the contract holds over every string in core and thousands of variations of them', () => {
  const outcomes = { 'gave up': 0, 'does not compile': 0, same: 0 }
  corpus().forEach((code, index) => {
    outcomes[checkContract(code)]++
    for (const variation of codeVariations(code, 6, index + 1)) outcomes[checkContract(variation)]++
  })
  // The corpus exercises all three ways, so a reading that always gave up would fail here.
  expect(outcomes.same).toBeGreaterThan(5_000)
  expect(outcomes['does not compile']).toBeGreaterThan(1_000)
  expect(outcomes['gave up']).toBeGreaterThan(1_000)
})
