import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createLocalExecutor } from '../src/index.js'
import { parsedFiles } from '../src/module-loader.js'

function fixture(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'airlock-local-modules-'))
  const write = (name: string, files: Record<string, string>) => {
    const root = path.join(dir, 'node_modules', name)
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
      writeFileSync(path.join(root, file), text)
    }
  }
  write('fixture-ok', {
    'package.json': '{ "name": "fixture-ok", "main": "index.js" }',
    'index.js':
      "const { twice } = require('./lib/twice'); exports.four = twice(2); exports.data = require('./data.json')",
    'lib/twice.js': 'module.exports = { twice: (x) => x * 2 }',
    'data.json': '{ "k": [1, 2] }',
  })
  write('fixture-fs', {
    'package.json': '{ "name": "fixture-fs" }',
    'index.js': "module.exports = require('fs')",
  })
  write('fixture-outside', {
    'package.json': '{ "name": "fixture-outside" }',
    'index.js': "module.exports = require('../fixture-ok/index.js')",
  })
  // Every static import and export form, a cycle, CommonJS and JSON imported by an ES module,
  // package "imports", and a dependency that is not on the allowlist itself.
  write('fixture-esm', {
    'package.json': JSON.stringify({
      name: 'fixture-esm',
      type: 'module',
      exports: { '.': { require: './cjs-entry.cjs', import: './index.js' }, './extra': './lib/extra.js' },
      imports: { '#internal': './lib/internal.js' },
    }),
    'index.js': [
      "import greet, { shout as loud } from './lib/greet.js'",
      "import * as counter from './lib/counter.js'",
      "import legacy from './lib/legacy.cjs'",
      "import { size } from './lib/legacy.cjs'",
      "import data from './lib/data.json' with { type: 'json' }",
      "import { secret } from '#internal'",
      "import { helper } from 'fixture-dep'",
      "export { count, increment } from './lib/counter.js'",
      "export * from './lib/math.js'",
      "export * from './lib/math-again.js'",
      "export * as strings from './lib/strings.js'",
      "export { isEven } from './lib/cycle-a.js'",
      "export { isOdd } from './lib/cycle-b.js'",
      "export { bumpAndRead } from './lib/live.js'",
      'export const summary = [greet("ada"), loud("hi"), counter.count, legacy.kind, size, data.n, secret, helper()]',
      'export default function describe() { return "fixture-esm" }',
    ].join('\n'),
    'lib/greet.js':
      'export default (name) => `hello ${name}`\nexport function shout(text) { return text.toUpperCase() + "!" }',
    'lib/counter.js': 'export let count = 0\nexport function increment() { count += 1; return count }',
    'lib/live.js':
      "import { count, increment } from './counter.js'\nexport function bumpAndRead() { increment(); return count }",
    'lib/legacy.cjs': 'module.exports = { kind: "cjs", size: 3 }',
    'lib/data.json': '{ "n": 42 }',
    'lib/internal.js': 'export const secret = "internal"',
    'lib/math.js': 'export const add = (a, b) => a + b\nexport { add as plus }',
    // Re-exports `add` too: `export *` of both is not ambiguous, it is the same binding.
    'lib/math-again.js': "import { add } from './math.js'\nexport { add }",
    'lib/strings.js': 'export const upper = (s) => s.toUpperCase()',
    'lib/cycle-a.js':
      "import { isOdd } from './cycle-b.js'\nexport function isEven(n) { return n === 0 ? true : isOdd(n - 1) }",
    'lib/cycle-b.js':
      "import { isEven } from './cycle-a.js'\nexport function isOdd(n) { return n === 0 ? false : isEven(n - 1) }",
    'lib/extra.js': 'export default class Extra { get name() { return "extra" } }',
    'cjs-entry.cjs': 'exports.flavor = "commonjs build"',
  })
  write('fixture-dep', {
    'package.json': '{ "name": "fixture-dep", "module": "esm.js", "main": "cjs.js" }',
    'esm.js': 'export const helper = () => "from dep"',
    'cjs.js': 'exports.helper = () => "wrong build"',
  })
  write('fixture-esm-only', {
    'package.json': '{ "name": "fixture-esm-only", "exports": "./index.mjs" }',
    'index.mjs': 'export const value = 7\nexport default { value }',
  })
  write('fixture-requires-esm', {
    'package.json': '{ "name": "fixture-requires-esm" }',
    'index.js': "const esm = require('fixture-esm-only'); module.exports = esm.value + esm.default.value",
  })
  write('fixture-esm-fs', {
    'package.json': '{ "name": "fixture-esm-fs", "type": "module" }',
    'index.js': "import { readFileSync } from 'node:fs'\nexport const read = readFileSync",
  })
  write('fixture-native', {
    'package.json': '{ "name": "fixture-native", "main": "index.js" }',
    'binding.gyp': '{ "targets": [] }',
    'index.js': "module.exports = require('./build/Release/native.node')",
  })
  write('fixture-addon', {
    'package.json': '{ "name": "fixture-addon" }',
    'index.js': "module.exports = require('./addon.node')",
    'addon.node': 'not really a binary',
  })
  write('fixture-tla', {
    'package.json': '{ "name": "fixture-tla", "type": "module" }',
    'index.js': 'export const value = await Promise.resolve(1)',
  })
  write('fixture-meta', {
    'package.json': '{ "name": "fixture-meta", "type": "module" }',
    'index.js': 'export const url = import.meta.url',
  })
  write('fixture-missing-export', {
    'package.json': '{ "name": "fixture-missing-export", "type": "module" }',
    'index.js': "import { nope } from './lib.js'\nexport const value = nope",
    'lib.js': 'export const yes = 1',
  })
  write('fixture-busy', {
    'package.json': '{ "name": "fixture-busy", "type": "module" }',
    'index.js': 'let i = 0\nwhile (true) i++\nexport const never = i',
  })
  write('fixture-optional', {
    'package.json': '{ "name": "fixture-optional" }',
    'index.js':
      "let fs = null\ntry { fs = require('fs') } catch (error) { exports.why = error.message }\nexports.hasFs = fs !== null",
  })
  write('fixture-tdz', {
    'package.json': '{ "name": "fixture-tdz", "type": "module" }',
    'index.js': "import { b } from './b.js'\nexport const a = 1\nexport { b }",
    'b.js': "import { a } from './index.js'\nexport const b = a + 1",
  })
  write('fixture-changing', {
    'package.json': '{ "name": "fixture-changing", "type": "module" }',
    'index.js': 'export const version = 1',
  })
  write('fixture-dynamic', {
    'package.json': '{ "name": "fixture-dynamic", "type": "module" }',
    'index.js': "export const load = async () => (await import('./lazy.js')).value",
    'lazy.js': 'export const value = "loaded lazily"',
  })
  write('fixture-loop', {
    'package.json': '{ "name": "fixture-loop", "type": "module" }',
    'index.js': 'let total = 0\nfor (let i = 0; i < 50000; i++) total += i\nexport { total }',
  })
  return dir
}

const moduleDirectory = fixture()
const fixtures = [
  'fixture-ok',
  'fixture-fs',
  'fixture-outside',
  'fixture-esm',
  'fixture-esm/extra',
  'fixture-esm-only',
  'fixture-requires-esm',
  'fixture-esm-fs',
  'fixture-native',
  'fixture-addon',
  'fixture-tla',
  'fixture-missing-export',
  'fixture-busy',
  'fixture-loop',
  'fixture-optional',
  'fixture-tdz',
  'fixture-changing',
  'fixture-dynamic',
  'fixture-meta',
]
const packages = ['lodash', 'date-fns', 'acorn']

describe('allowlisted CommonJS packages run inside the interpreter', () => {
  const allowedModules = [...fixtures, 'acorn']

  it('loads files of the package, JSON, and real packages like acorn', async () => {
    await using session = await createLocalExecutor({ moduleDirectory }).createSession({ allowedModules })
    expect(await session.run("const m = require('fixture-ok')\n;[m.four, m.data.k]")).toMatchObject({
      value: [4, [1, 2]],
    })
    const acorn = await createLocalExecutor().createSession({ allowedModules })
    expect(
      await acorn.run(
        "import { parse } from 'acorn'\nparse('let x = 1 + 2', { ecmaVersion: 2022 }).body[0].declarations[0].init.operator",
      ),
    ).toMatchObject({ value: '+' })
    await acorn.dispose()
  })

  it('refuses Node built-ins, native addons and paths outside the package', async () => {
    await using session = await createLocalExecutor({ moduleDirectory }).createSession({ allowedModules })
    expect(await session.run("require('fixture-fs')")).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/built-in "fs"/) },
    })
    expect(await session.run("require('fixture-outside')")).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/Cannot find module/) },
    })
    expect(await session.run("import { read } from 'fixture-esm-fs'")).toMatchObject({
      type: 'error',
      error: {
        message: expect.stringMatching(/fixture-esm-fs needs the Node built-in "node:fs".*pure-JavaScript/),
      },
    })
    expect(await session.run("require('fixture-native')")).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/Module "fixture-native" is a native addon/) },
    })
    expect(await session.run("require('fixture-addon')")).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/fixture-addon loads a native addon \(addon\.node\)/) },
    })
    // In CommonJS a refused require is an error the package can catch (an optional dependency).
    expect(await session.run("require('fixture-optional')")).toMatchObject({
      value: { hasFs: false, why: expect.stringMatching(/fixture-optional needs the Node built-in "fs"/) },
    })
  })
})

describe('allowlisted ES module packages run inside the interpreter', () => {
  const allowedModules = fixtures

  it('links every import and export form, cycles, CommonJS, JSON and package imports', async () => {
    await using session = await createLocalExecutor({ moduleDirectory }).createSession({ allowedModules })
    const outcome = await session.run(`
      import describe, { summary, increment, bumpAndRead, add, plus, strings, isEven, isOdd } from 'fixture-esm'
      ;[describe(), describe.name, summary, increment(), bumpAndRead(), add(2, 3), plus(1, 1), strings.upper('x'), isEven(10), isOdd(7)]
    `)
    // bumpAndRead reads the count it imports after changing it: import bindings are live.
    expect(outcome).toMatchObject({
      type: 'value',
      value: [
        'fixture-esm',
        'describe',
        ['hello ada', 'HI!', 0, 'cjs', 3, 42, 'internal', 'from dep'],
        1,
        2,
        5,
        2,
        'X',
        true,
        true,
      ],
    })
    // The namespace object: live getters in sorted order, a `Module` tag, not extensible.
    expect(
      await session.run(`
        import * as ns from 'fixture-esm'
        ;[Object.keys(ns), ns.count, Object.prototype.toString.call(ns), Object.isExtensible(ns)]
      `),
    ).toMatchObject({
      value: [
        [
          'add',
          'bumpAndRead',
          'count',
          'default',
          'increment',
          'isEven',
          'isOdd',
          'plus',
          'strings',
          'summary',
        ],
        2,
        '[object Module]',
        false,
      ],
    })
    // A subpath the package exports, allowlisted by its full name; other subpaths stay forbidden.
    expect(
      await session.run("import Extra from 'fixture-esm/extra'\n[new Extra().name, Extra.name]"),
    ).toMatchObject({
      value: ['extra', 'Extra'],
    })
    expect(await session.run("import { shout } from 'fixture-esm/lib/greet.js'")).toMatchObject({
      type: 'error',
      error: { kind: 'forbidden' },
    })
  })

  it('resolves import() in package code from the package, not through the allowlist', async () => {
    await using session = await createLocalExecutor({ moduleDirectory }).createSession({ allowedModules })
    expect(await session.run("import { load } from 'fixture-dynamic'\nawait load()")).toMatchObject({
      value: 'loaded lazily',
    })
    expect(await session.run("await import('./lazy.js')")).toMatchObject({ error: { kind: 'forbidden' } })
  })

  it('picks the require condition for require, and require of an ES module gives its namespace', async () => {
    await using session = await createLocalExecutor({ moduleDirectory }).createSession({ allowedModules })
    expect(await session.run("require('fixture-esm').flavor")).toMatchObject({ value: 'commonjs build' })
    expect(await session.run("require('fixture-requires-esm')")).toMatchObject({ value: 14 })
    expect(await session.run("(await import('fixture-esm-only')).default.value")).toMatchObject({ value: 7 })
  })

  it('refuses top-level await and import.meta in a package, and reports a missing export before the module runs', async () => {
    await using session = await createLocalExecutor({ moduleDirectory }).createSession({ allowedModules })
    expect(await session.run("import { value } from 'fixture-tla'")).toMatchObject({
      type: 'error',
      error: {
        message: expect.stringMatching(/fixture-tla\/index\.js.*Top-level await in a package module/),
      },
    })
    expect(await session.run("import { url } from 'fixture-meta'")).toMatchObject({
      type: 'error',
      error: {
        message: expect.stringMatching(/fixture-meta\/index\.js \(line 1, column 20\).*import\.meta/),
      },
    })
    // A cycle reading a binding of a module that has not run yet: the TDZ error Node gives.
    expect(await session.run("import { a } from 'fixture-tdz'")).toMatchObject({
      type: 'error',
      error: { name: 'ReferenceError', message: "Cannot access 'a' before initialization" },
    })
    expect(await session.run("import { value } from 'fixture-missing-export'")).toMatchObject({
      type: 'error',
      error: {
        name: 'SyntaxError',
        message: "The requested module './lib.js' does not provide an export named 'nope'",
      },
    })
  })

  it('evaluates package code under the run limits', async () => {
    await using session = await createLocalExecutor({ moduleDirectory }).createSession({
      allowedModules,
      limits: { timeoutMs: 300, maxOperations: Infinity },
    })
    expect(await session.run("import { never } from 'fixture-busy'")).toMatchObject({
      type: 'error',
      error: { kind: 'limit', limit: 'timeoutMs' },
    })
    const loop = await session.run("import { total } from 'fixture-loop'\ntotal")
    expect(loop).toMatchObject({ type: 'value', value: 1249975000 })
    expect(loop.stats.operations).toBeGreaterThanOrEqual(50_000)
    // The failed import left nothing behind: the session still works, and a retry fails the same way.
    expect(await session.run("import { never } from 'fixture-busy'")).toMatchObject({
      error: { kind: 'limit' },
    })
  })

  it('parses a changed package file again', async () => {
    const allowed = { allowedModules: ['fixture-changing'] }
    await using first = await createLocalExecutor({ moduleDirectory }).createSession(allowed)
    expect(await first.run("import { version } from 'fixture-changing'\nversion")).toMatchObject({ value: 1 })
    writeFileSync(
      path.join(moduleDirectory, 'node_modules/fixture-changing/index.js'),
      'export const version = 2',
    )
    await using second = await createLocalExecutor({ moduleDirectory }).createSession(allowed)
    expect(await second.run("import { version } from 'fixture-changing'\nversion")).toMatchObject({
      value: 2,
    })
    // The first session keeps the instance it evaluated.
    expect(await first.run("import { version as again } from 'fixture-changing'\nagain")).toMatchObject({
      value: 1,
    })
  })
})

describe('popular pure-JavaScript packages', () => {
  const allowedModules = packages
  const fixedDates = 'new Date(2024, 0, 30), new Date(2024, 2, 1), new Date(2024, 1, 1)'

  it('lodash (CommonJS) through every import form', async () => {
    await using session = await createLocalExecutor().createSession({ allowedModules })
    const data = "[{ n: 'a', k: 1 }, { n: 'b', k: 2 }, { n: 'c', k: 1 }]"
    expect(await session.run(`import _ from 'lodash'\n_.groupBy(${data}, 'k')`)).toMatchObject({
      value: { 1: [{ n: 'a' }, { n: 'c' }], 2: [{ n: 'b' }] },
    })
    expect(await session.run("import { chunk } from 'lodash'\nchunk([1, 2, 3, 4, 5], 2)")).toMatchObject({
      value: [[1, 2], [3, 4], [5]],
    })
    expect(
      await session.run("import * as ns from 'lodash'\nns.default.chunk(['a', 'b', 'c'], 2)"),
    ).toMatchObject({
      value: [['a', 'b'], ['c']],
    })
    expect(await session.run("const { sortBy } = await import('lodash'); sortBy([3, 1, 2])")).toMatchObject({
      value: [1, 2, 3],
    })
    expect(await session.run("require('lodash').uniq([1, 1, 2, 3, 3])")).toMatchObject({ value: [1, 2, 3] })
  })

  it('date-fns (its ES module build) through every import form', async () => {
    await using session = await createLocalExecutor().createSession({ allowedModules })
    expect(
      await session.run(`
        import { format, addDays, differenceInDays } from 'date-fns'
        const [start, end, from] = [${fixedDates}]
        ;[format(addDays(start, 3), 'yyyy-MM-dd'), differenceInDays(end, from), format(start, 'EEEE do MMMM')]
      `),
    ).toMatchObject({ value: ['2024-02-02', 29, 'Tuesday 30th January'] })
    expect(
      await session.run("import * as dateFns from 'date-fns'\ndateFns.isLeapYear(new Date(2024, 5, 1))"),
    ).toMatchObject({ value: true })
    expect(
      await session.run(
        "const { formatDistance } = await import('date-fns'); formatDistance(new Date(2024, 0, 1), new Date(2024, 0, 4))",
      ),
    ).toMatchObject({ value: '3 days' })
    // require picks the package's CommonJS build.
    expect(await session.run("require('date-fns').format(new Date(2020, 1, 2), 'PPP')")).toMatchObject({
      value: 'February 2nd, 2020',
    })
  })

  it('stops loading a large package at the deadline', async () => {
    // Compiling date-fns's 300 files for a session takes far longer than 5 ms; the deadline is
    // checked between files, as the operation counter cannot see compilation.
    await using session = await createLocalExecutor().createSession({
      allowedModules,
      limits: { timeoutMs: 5 },
    })
    expect(await session.run("import { format } from 'date-fns'")).toMatchObject({
      type: 'error',
      error: { kind: 'limit', limit: 'timeoutMs' },
    })
  })

  it('gives each session its own instance of a package', async () => {
    await using first = await createLocalExecutor().createSession({ allowedModules })
    await using second = await createLocalExecutor().createSession({ allowedModules })
    expect(
      await first.run(
        "import _ from 'lodash'\n_.chunk = () => 'patched'\nrequire('lodash').chunk([1, 2], 1)",
      ),
    ).toMatchObject({ value: 'patched' })
    expect(await second.run("import _ from 'lodash'\n_.chunk([1, 2], 1)")).toMatchObject({
      value: [[1], [2]],
    })
    // date-fns keeps module state (its default options): one session's change stays in it.
    expect(
      await first.run(
        "import { setDefaultOptions, getDefaultOptions } from 'date-fns'\nsetDefaultOptions({ weekStartsOn: 1 })\ngetDefaultOptions().weekStartsOn",
      ),
    ).toMatchObject({ value: 1 })
    expect(
      await second.run("import { getDefaultOptions } from 'date-fns'\ngetDefaultOptions().weekStartsOn"),
    ).toMatchObject({ value: undefined })
  })

  it('parses a package file once per process and reuses it in later sessions', async () => {
    const index = realpathSync(
      path.join(path.dirname(createRequire(import.meta.url).resolve('date-fns')), 'index.js'),
    )
    await using first = await createLocalExecutor().createSession({ allowedModules })
    await first.run("import { addDays } from 'date-fns'")
    const parsed = parsedFiles.get(index)
    expect(parsed?.record?.stars.length).toBeGreaterThan(100)
    const size = parsedFiles.size
    await using second = await createLocalExecutor().createSession({ allowedModules })
    expect(
      await second.run("import { addDays } from 'date-fns'\naddDays(new Date(2024, 0, 1), 1).getDate()"),
    ).toMatchObject({
      value: 2,
    })
    expect(parsedFiles.get(index)).toBe(parsed)
    expect(parsedFiles.size).toBe(size)
  })
})
