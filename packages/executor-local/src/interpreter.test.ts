import { describe, expect, it } from 'vitest'
import { CompileError, Interpreter, lineColumn } from './interpreter.js'

/** Runs code in a fresh interpreter; the value comes back as JSON text, computed in the sandbox. */
async function evaluate(code: string): Promise<unknown> {
  const interpreter = new Interpreter()
  interpreter.engine.meter.start({ maxOperations: 1e7, timeoutMs: 5_000, maxCallDepth: 500 })
  let value = interpreter.compile(code).run()
  if (value !== null && typeof value === 'object' && typeof value.then === 'function') value = await value
  return value
}

const cases: [string, string, unknown][] = [
  // bindings
  ['let/const/var', 'var a = 1; let b = 2; const c = 3; a + b + c', 6],
  [
    'per-iteration let',
    'const fs = []; for (let i = 0; i < 3; i++) fs.push(() => i); fs.map((f) => f()).join()',
    '0,1,2',
  ],
  [
    'for-of const per iteration',
    'const fs = []; for (const x of [1, 2]) fs.push(() => x); fs.map((f) => f()).join()',
    '1,2',
  ],
  [
    'closure counter',
    'const make = () => { let n = 0; return () => ++n }; const c = make(); c(); c(); c()',
    3,
  ],
  ['typeof undeclared', 'typeof nothingHere', 'undefined'],
  [
    'nested function declarations stay local',
    'function outer() { function inner() { return 1 } return inner() } outer() + typeof inner',
    '1undefined',
  ],
  ['block shadowing', 'let x = 1; { let x = 2; } x', 1],
  // functions
  [
    'default and rest params',
    'function f(a, b = a + 1, ...rest) { return [a, b, rest.length] } f(1).join() + "|" + f(1, 5, 6, 7).join()',
    '1,2,0|1,5,2',
  ],
  ['arguments', 'function f() { return arguments.length + arguments[1] } f(1, 2, 3)', 5],
  ['new.target', 'function F() { return new.target === F } [new F() instanceof F, F()].join()', 'true,false'],
  ['sloppy this', '(function () { return this === globalThis })()', true],
  ['strict this', '(function () { "use strict"; return this })()', undefined],
  [
    'function name inference',
    'const f = () => 1; const o = { m() {}, n: function () {} }; [f.name, o.m.name, o.n.name].join()',
    'f,m,n',
  ],
  ['recursion', 'function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) } fib(20)', 6765],
  // classes
  [
    'class fields, static, private',
    'class A { #x = 1; y = 2; static s = 3; static #p() { return 4 } get x() { return this.#x } static p() { return A.#p() } static has(o) { return #x in o } } const a = new A(); [a.x, a.y, A.s, A.p(), A.has(a) ? 1 : 0, A.has({}) ? 1 : 0].join()',
    '1,2,3,4,1,0',
  ],
  [
    'extends Error',
    'class E extends Error { constructor(m) { super(m); this.name = "E" } } const e = new E("boom"); [e instanceof E, e instanceof Error, e.message, String(e)].join()',
    'true,true,boom,E: boom',
  ],
  [
    'extends Array',
    'class L extends Array { sum() { return this.reduce((a, b) => a + b, 0) } } const l = L.of(1, 2, 3); [l.sum(), l.map((x) => x * 2) instanceof L, Array.isArray(l)].join()',
    '6,true,true',
  ],
  [
    'super method and accessor',
    'class A { f() { return "A" } get g() { return 1 } } class B extends A { f() { return super.f() + "B" } get g() { return super.g + 1 } } [new B().f(), new B().g].join()',
    'AB,2',
  ],
  ['static block', 'class A { static x; static { A.x = 5 } } A.x', 5],
  [
    'class called without new',
    'class A {} let r; try { A() } catch (e) { r = e instanceof TypeError } r',
    true,
  ],
  // expressions
  [
    'destructuring',
    'const { a, b: [c, d = 4], ...rest } = { a: 1, b: [3], e: 5 }; [a, c, d, JSON.stringify(rest)].join()',
    '1,3,4,{"e":5}',
  ],
  [
    'spread',
    'const xs = [1, 2]; const o = { ...{ a: 1 }, b: 2 }; Math.max(...xs, 0) + [...xs, 3].length + Object.keys(o).length',
    7,
  ],
  [
    'template and tagged',
    'const tag = (s, ...v) => s.raw.join("|") + v.join(); `a${1 + 1}b` + tag`x${1}y`',
    'a2bx|y1',
  ],
  [
    'optional chaining',
    'const o = { a: { f() { return 1 } } }; [o?.a?.f(), o.b?.c, o.b?.c(), o.a.g?.()].join()',
    '1,,,',
  ],
  [
    'nullish and logical assignment',
    'let a = null; a ??= 1; let b = 0; b ||= 2; let c = 1; c &&= 3; [a, b, c, null ?? "d"].join()',
    '1,2,3,d',
  ],
  ['exponent', '2 ** 10 + (-2) ** 2', 1028],
  [
    'getters and computed keys',
    'const k = "x"; const o = { [k + 1]: 1, get y() { return this.x1 + 1 }, set z(v) { this.w = v } }; o.z = 5; [o.x1, o.y, o.w].join()',
    '1,2,5',
  ],
  ['regex', '"a1b22".replace(/\\d+/g, (m) => `<${m}>`)', 'a<1>b<22>'],
  ['bigint', '(2n ** 64n).toString()', '18446744073709551616'],
  [
    'comma, void, in, instanceof, delete',
    'const o = { a: 1 }; [(1, 2), void 0, "a" in o, o instanceof Object, delete o.a, "a" in o].join()',
    '2,,true,true,true,false',
  ],
  // statements
  [
    'labeled break/continue',
    'let n = 0; outer: for (let i = 0; i < 3; i++) { for (let j = 0; j < 3; j++) { if (j === 1) continue outer; if (i === 2) break outer; n++ } } n',
    2,
  ],
  [
    'switch fallthrough',
    'function f(x) { let r = ""; switch (x) { case 1: r += "a"; case 2: r += "b"; break; default: r += "d" } return r } [f(1), f(2), f(3)].join()',
    'ab,b,d',
  ],
  ['finally overrides return', 'function f() { try { return 1 } finally { return 2 } } f()', 2],
  [
    'finally runs on break',
    'const log = []; for (const x of [1, 2]) { try { if (x === 1) break } finally { log.push(x) } } log.join()',
    '1',
  ],
  [
    'iterator closed on break',
    'let closed = false; const it = { [Symbol.iterator]() { return { next: () => ({ value: 1, done: false }), return() { closed = true; return {} } } } }; for (const x of it) break; closed',
    true,
  ],
  [
    'for-in order',
    'const o = { b: 1, a: 2 }; Object.setPrototypeOf(o, { c: 3 }); const ks = []; for (const k in o) ks.push(k); ks.join()',
    'b,a,c',
  ],
  ['do-while', 'let i = 0; do i++; while (i < 5); i', 5],
  // generators and async
  [
    'generator protocol',
    'function* g() { const x = yield 1; try { yield x } finally { yield 3 } } const it = g(); [it.next().value, it.next(2).value, it.return(9).value, it.next().value, it.next().done].join()',
    '1,2,3,9,true',
  ],
  [
    'yield* delegation',
    'function* a() { yield 1; return 2 } function* b() { const r = yield* a(); yield r } [...b()].join()',
    '1,2',
  ],
  [
    'async order',
    'const log = []; (async () => { log.push(1); await null; log.push(3) })(); Promise.resolve().then(() => log.push(4)); log.push(2); await null; await null; log.join()',
    '1,2,3,4',
  ],
  [
    'async generator and for await',
    'async function* g() { yield 1; await null; yield 2 } const out = []; for await (const v of g()) out.push(v); out.join()',
    '1,2',
  ],
  [
    'for await over sync iterable of promises',
    'const out = []; for await (const v of [Promise.resolve(1), 2]) out.push(v); out.join()',
    '1,2',
  ],
  [
    'async error caught',
    'async function f() { await null; throw new RangeError("x") } let r; try { await f() } catch (e) { r = e instanceof RangeError } r',
    true,
  ],
  ['eval and Function are interpreted', '(0, eval)("1 + 1") + Function("a", "b", "return a * b")(3, 4)', 14],
]

describe('language coverage', () => {
  it.each(cases)('%s', async (_name, code, expected) => {
    expect(await evaluate(code)).toBe(expected)
  })
})

describe('errors', () => {
  const thrown = async (code: string) => {
    try {
      await evaluate(code)
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`
    }
    return 'no error'
  }

  it('TDZ, const assignment, undeclared names, non-functions', async () => {
    expect(await thrown('x; let x = 1')).toBe("ReferenceError: Cannot access 'x' before initialization")
    expect(await thrown('const c = 1; c = 2')).toBe('TypeError: Assignment to constant variable.')
    expect(await thrown('missing + 1')).toBe('ReferenceError: missing is not defined')
    expect(await thrown('const o = {}; o.method()')).toBe('TypeError: o.method is not a function')
    expect(await thrown('null.x')).toBe("TypeError: Cannot read properties of null (reading 'x')")
    expect(await thrown('"use strict"; undeclared = 1')).toBe('ReferenceError: undeclared is not defined')
    expect(await thrown('function f(a = a) {} f()')).toBe(
      "ReferenceError: Cannot access 'a' before initialization",
    )
  })

  it('records where an error was raised', async () => {
    const interpreter = new Interpreter()
    interpreter.engine.meter.start({ maxOperations: 1e6, timeoutMs: 1_000, maxCallDepth: 100 })
    const program = interpreter.compile('const a = 1\nconst b = a.b.c')
    let error: unknown
    try {
      program.run()
    } catch (caught) {
      error = caught
    }
    const loc = interpreter.positionOf(error)!
    expect(lineColumn(loc.source, loc.offset)).toEqual({ line: 2, column: 11 })
  })

  it('refuses what it does not implement, naming the construct', () => {
    const interpreter = new Interpreter()
    expect(() => interpreter.compile('with ({}) {}')).toThrow(CompileError)
    expect(() => interpreter.compile('with ({}) {}')).toThrow(/with statement is not supported/)
    expect(() => interpreter.compile('const x = ;')).toThrow(/Unexpected token/)
  })

  it('refuses direct eval with access to local variables', async () => {
    expect(await thrown('function f() { const x = 1; return eval("x") } f()')).toMatch(
      /EvalError: direct eval/,
    )
    expect(await evaluate('eval("1 + 2")')).toBe(3)
  })
})

const throws = (f: () => unknown): boolean => {
  try {
    f()
    return false
  } catch {
    return true
  }
}

describe('limits', () => {
  it('counts operations and stops endless loops, uncatchably', () => {
    const interpreter = new Interpreter()
    const { meter } = interpreter.engine
    meter.start({ maxOperations: 1_000, timeoutMs: 10_000, maxCallDepth: 100 })
    expect(throws(() => interpreter.compile('try { while (true) {} } catch {}').run())).toBe(true)
    expect(meter.tripped?.limit).toBe('maxOperations')
  })

  it('stops at the deadline', () => {
    const interpreter = new Interpreter()
    const { meter } = interpreter.engine
    meter.start({ maxOperations: Infinity, timeoutMs: 50, maxCallDepth: 100 })
    const started = performance.now()
    expect(throws(() => interpreter.compile('for (;;) {}').run())).toBe(true)
    expect(meter.tripped?.limit).toBe('timeoutMs')
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it('bounds call depth', () => {
    const interpreter = new Interpreter()
    const { meter } = interpreter.engine
    meter.start({ maxOperations: Infinity, timeoutMs: 5_000, maxCallDepth: 50 })
    expect(
      throws(() => interpreter.compile('function f(n) { return f(n + 1) } try { f(0) } catch {}').run()),
    ).toBe(true)
    expect(meter.tripped?.limit).toBe('maxCallDepth')
  })
})
