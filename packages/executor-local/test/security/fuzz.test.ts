import { isDeepStrictEqual } from 'node:util'
import vm from 'node:vm'
import type { RunOutcome } from '@airlock/core'
import { describe, expect, it } from 'vitest'
import { createLocalExecutor } from '../../src/index.js'

// Differential fuzzing: small generated programs (arithmetic, strings, arrays, objects, closures,
// loops, try/catch) run by the interpreter and by V8 in a node:vm context must give the same
// result; the interpreter may instead end with a clean run error (a refused construct), never a
// crash or a rejected run. CI runs a fixed seed; FUZZ_LONG=1 runs many more programs from a
// random seed (printed, so a failure can be replayed with FUZZ_SEED).
const long = process.env.FUZZ_LONG === '1'
const seed = Number(process.env.FUZZ_SEED ?? (long ? Date.now() % 2 ** 31 : 20261204))
const programs = Number(process.env.FUZZ_PROGRAMS ?? (long ? 5_000 : 150))

/** mulberry32: a small seeded generator, so a seed always gives the same programs. */
function random(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

class Generator {
  readonly #next: () => number

  constructor(next: () => number) {
    this.#next = next
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)]!
  }

  int(max: number): number {
    return Math.floor(this.#next() * max)
  }

  number(): string {
    return this.pick(['0', '1', '2', '-3', '7', '0.5', '1e3', 'NaN', '-0', 'Infinity', String(this.int(100))])
  }

  numeric(depth = 0): string {
    if (depth > 2 || this.#next() < 0.3)
      return this.pick(['a', 'b', 'c', this.number(), 'arr.length', 's.length'])
    const op = this.pick(['+', '-', '*', '/', '%', '**', '&', '|', '^', '<<', '>>', '>>>'])
    const right = op === '**' ? this.pick(['2', '3', '0.5']) : this.numeric(depth + 1)
    return `(${this.numeric(depth + 1)} ${op} ${right})`
  }

  text(): string {
    return this.pick([
      's',
      "'ab'",
      "'x,y,z'",
      `String(${this.numeric()})`,
      's.slice(1, 3)',
      's.toUpperCase()',
      "s.padStart(6, '-')",
      's.repeat(2)',
      "s.split('').reverse().join('')",
      "s.replace(/[aeiou]/g, '_')",
      `\`t\${${this.numeric()}}\``,
      "arr.join('-')",
      'JSON.stringify(obj)',
    ])
  }

  statement(depth = 0): string {
    const choices = [
      () => `a = ${this.numeric()}`,
      () => `b = ${this.numeric()}`,
      () =>
        `c = ${this.numeric()} ${this.pick(['<', '>', '===', '!=='])} ${this.numeric()} ? ${this.numeric()} : ${this.numeric()}`,
      () => `s = ${this.text()}`,
      () => `s += ${this.text()}`,
      () => `arr.push(${this.numeric()})`,
      () =>
        `arr = arr.${this.pick(['map((x) => x * 2)', 'filter((x) => x > 1)', 'slice(1)', 'concat([a, b])', 'reverse()'])}`,
      () => `arr.sort((x, y) => x - y)`,
      () => `obj.${this.pick(['k', 'm', 'n'])} = ${this.numeric()}`,
      () => `obj = { ...obj, ${this.pick(['p', 'q'])}: ${this.text()} }`,
      () => `({ k: a = a, ...rest } = obj)`,
      () => `[a, b = 2] = [b, ${this.numeric()}]`,
      () => `a = fns.length ? fns[${this.int(3)} % fns.length](${this.numeric()}) : a`,
      () => `fns.push(((k) => (x) => x + k + a)(${this.numeric()}))`,
      () => `for (let i = 0; i < ${this.int(5)}; i++) { ${this.statement(depth + 1)} }`,
      () => `{ let n = 0; while (n < ${this.int(4)}) { n++; ${this.statement(depth + 1)} } }`,
      () => `for (const x of arr.slice(0, 3)) { b += x }`,
      () => `for (const key in obj) { s += key }`,
      () =>
        `try { ${this.statement(depth + 1)}; ${this.pick(['null.x', 'undefinedName', '(1)()', 'BigInt(1.5)', "JSON.parse('{')", '1'])} } catch (e) { log.push(e.name) }`,
      () =>
        `try { throw ${this.pick(['new RangeError("r")', '7', "'str'", '{ code: 1 }'])} } catch (e) { log.push(typeof e === 'object' && e !== null ? e.name ?? e.code : e) } finally { log.push('f') }`,
      () =>
        `if (${this.numeric()} > ${this.numeric()}) { ${this.statement(depth + 1)} } else { ${this.statement(depth + 1)} }`,
      () => `log.push(typeof ${this.pick(['a', 's', 'arr', 'obj', 'fns[0]', 'rest', 'null'])})`,
      () => `switch (${this.int(3)}) { case 0: a++; break; case 1: b--; default: c = 1 }`,
      () => `a = [1, 2, 3].reduce((t, x) => t + x * ${this.numeric()}, 0)`,
      () => `s = Object.keys(obj).sort().join('') + Object.values(obj).length`,
      () => `c = Math.max(${this.numeric()}, ${this.numeric()}) + Math.floor(${this.numeric()})`,
      () => `s = [...new Set(s.split(''))].join('')`,
      () => `a = parseInt(${this.text()}, 10) || a`,
    ]
    if (depth > 1) return this.pick(choices.slice(0, 14))()
    return this.pick(choices)()
  }

  program(): string {
    const body = Array.from({ length: 3 + this.int(10) }, () => `  ${this.statement()}`).join('\n')
    return [
      '(function () {',
      "  let a = 1, b = 2, c = 3, s = 'hello', arr = [3, 1, 2], obj = { k: 1 }, fns = [], log = [], rest",
      body,
      '  const show = (v) => (typeof v === "number" && Object.is(v, -0) ? "-0" : String(v))',
      '  return [show(a), show(b), show(c), s.length > 200 ? s.length : s, JSON.stringify(arr), JSON.stringify(obj), JSON.stringify(rest), log.join()].join("|")',
      '})()',
    ].join('\n')
  }
}

function native(code: string): { ok: true; value: unknown } | { ok: false; name: string } {
  try {
    return { ok: true, value: vm.runInNewContext(code, {}, { timeout: 1_000 }) }
  } catch (error) {
    return { ok: false, name: String((error as Error)?.name) }
  }
}

/** 'same', 'clean error', or what went wrong. */
function judge(outcome: RunOutcome, expected: ReturnType<typeof native>): string {
  if (outcome.type === 'value') {
    if (!expected.ok)
      return `V8 threw ${expected.name}, the interpreter returned ${JSON.stringify(outcome.value)}`
    return isDeepStrictEqual(outcome.value, expected.value)
      ? 'same'
      : `V8 returned ${JSON.stringify(expected.value)}, the interpreter ${JSON.stringify(outcome.value)}`
  }
  if (outcome.type !== 'error') return `unexpected outcome ${outcome.type}`
  const { kind, name } = outcome.error
  if (kind !== 'runtime' && kind !== 'syntax') return `not a clean error: ${JSON.stringify(outcome.error)}`
  if (kind === 'runtime' && !expected.ok && name !== expected.name)
    return `V8 threw ${expected.name}, the interpreter ${name}`
  return 'clean error'
}

describe(`differential fuzzing against V8 (seed ${seed}, ${programs} programs)`, () => {
  it('gives the same results as native V8, or a clean run error', async () => {
    const generator = new Generator(random(seed))
    const session = await createLocalExecutor().createSession({ limits: { timeoutMs: 5_000 } })
    let compared = 0
    const mismatches: string[] = []
    for (let i = 0; i < programs; i++) {
      const code = generator.program()
      const expected = native(code)
      const outcome = await session.run(code)
      const verdict = judge(outcome, expected)
      if (verdict === 'same') compared++
      else if (verdict !== 'clean error') mismatches.push(`program ${i} (seed ${seed}): ${verdict}\n${code}`)
    }
    expect(mismatches).toEqual([])
    // Most programs must actually be compared, or the generator tests nothing.
    expect(compared).toBeGreaterThan(programs * 0.8)
    await session.dispose()
  }, 120_000)
})
