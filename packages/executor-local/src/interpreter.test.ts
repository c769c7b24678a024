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
  // Function.prototype.toString: a sandbox function prints its own source, as V8 prints it
  [
    'functions print their own source text',
    'function f(a, /* b */ b) { return a }\nconst o = { m() {}, get x() { return 1 } };\nclass C { static async s() {} constructor() {} }\n[String(f), String((x) => x), String(o.m), String(Object.getOwnPropertyDescriptor(o, "x").get), String(C.s), String(C), String(async function* g() {})].join("|")',
    'function f(a, /* b */ b) { return a }|(x) => x|m() {}|get x() { return 1 }|async s() {}|class C { static async s() {} constructor() {} }|async function* g() {}',
  ],
  [
    "the interpreter's own functions print as native code",
    'Function.prototype.toString.call(Function.prototype.toString) + String([].map) + String(Promise.all)',
    'function toString() { [native code] }function map() { [native code] }function all() { [native code] }',
  ],
  // Annex B.3.3/B.3.4: sloppy code also assigns a block's function to a var of its name
  [
    'sloppy block functions reach the enclosing function once declared',
    'function f() { const before = typeof g; { function g() { return 1 } } if (true) function h() { return 2 } return [before, g() + h()].join() } f()',
    'undefined,3',
  ],
  [
    'a block function stays in its block when a var would clash',
    'function f() { let g = "outer"; { function g() {} } try { throw {} } catch ({ k }) { { function k() {} } } return [g, typeof k].join() } f()',
    'outer,undefined',
  ],
  [
    'strict block functions stay in their block',
    '"use strict"; function f() { { function g() {} } return typeof g } f()',
    'undefined',
  ],
  ['a function in a bare block of a script reaches the script', '{ function top() { return 5 } } top()', 5],
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
  [
    'function length, and arguments from built-ins past or short of the parameters',
    'const f = (a, b) => a; function g(a, b) { return arguments.length } const o = { m(x, ...r) { return r.length }, d(x, y = 2) { return y } }; [f.length, g.length, o.m.length, o.d.length, g(1), g(1, 2, 3), [1].map(g)[0], [1].map(o.m)[0], [7].map(o.d)[0], Object.getOwnPropertyNames(f).join("+"), [[1, 2]].map(([x, y], i) => x + y + i)[0]].join()',
    '2,2,1,1,1,3,3,2,0,length+name,3',
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
  [
    'parenthesised optional chain callee keeps this',
    'const a = { b() { return this.v }, v: 42 }; const n = null; let e; try { (n?.b)() } catch (x) { e = x.constructor.name } [(a?.b)(), (a.b)?.(), (a?.b)?.(), (n?.b)?.(), e].join()',
    '42,42,42,,TypeError',
  ],
  [
    'optional chain short-circuits around await',
    '(async () => { const u = undefined; const o = { a: [1, 2], f() { return this.a } }; return [u?.a[await Promise.reject(1)], o?.a[await 1], (o?.f)(await 0)[0]].join() })()',
    ',2,1',
  ],
  [
    'completion values of statements, as eval returns them',
    '[eval("1; if (true) {}"), eval("2; do { 3; break } while (false)"), eval("1; try { 2 } finally { 3 }"), eval("1; try { throw 0 } catch (e) {}"), eval("1; switch (1) { case 1: 4 }"), eval("5; var v; l: { 6; break l }"), eval("1; do { try { 2 } finally { break } } while (false)")].join()',
    ',3,2,,4,6,',
  ],
  [
    'array destructuring assignment: target first, close on error, not after a throwing next()',
    'const log = []; const it = (next) => ({ [Symbol.iterator]: () => ({ next, return() { log.push("return"); return {} } }) }); const o = { get t() { return log.push("get t"), {} } }; try { [o.t[(() => { throw "key" })()]] = it(() => { log.push("next"); return { done: false } }) } catch (e) { log.push(e) } try { [o.x] = it(() => { throw "next" }) } catch (e) { log.push(e) } log.join()',
    'get t,return,key,next',
  ],
  [
    'yield* reads next once',
    'let gets = 0, i = 0; const inner = { [Symbol.iterator]() { return this }, get next() { gets++; return () => ({ done: ++i > 2, value: i }) } }; function* g() { yield* inner } [...g()].join() + ":" + gets',
    '1,2:1',
  ],
  [
    'async yield* over a sync iterator: a rejected value closes it and is thrown',
    '(async () => { let closed = 0; const it = { [Symbol.iterator]() { return { next: () => ({ done: false, value: Promise.reject("boom") }), return() { closed++; return {} } } } }; async function* g() { yield* it } const i = g(); let r; try { await i.next() } catch (e) { r = e } return [r, closed, (await i.next()).done].join() })()',
    'boom,1,true',
  ],
  [
    'closures in parameter expressions do not see body declarations',
    'var x = "outside"; let p, b; (function (_ = (p = () => x), y = 1) { var x = "inside"; var y; b = () => x + y })(); p() + "," + b()',
    'outside,inside1',
  ],
  [
    'class code is strict; the heritage sees the class binding in its TDZ',
    'let seen; function f() { var K = Object; return class K extends (() => { try { return K } catch (e) { seen = e.name; return Object } })() {} } f(); class A { m() { return this } s() { undeclared = 1 } } const m = new A().m; let e; try { new A().s() } catch (err) { e = err.name } [m() === undefined, e, seen, typeof undeclared].join()',
    'true,ReferenceError,ReferenceError,undefined',
  ],
  [
    'var arguments starts as the arguments object; invalid escapes cook to undefined',
    'function f() { const t = typeof arguments; var arguments; return t + arguments.length } const tag = (s) => s[0]; [f(1, 2), tag`\\unicode` === undefined].join()',
    'object2,true',
  ],
  [
    'await in destructuring defaults, keys and targets',
    '(async () => { const o = {}; const [a = await 1, { b = await Promise.resolve(2) } = {}, f = () => 0] = []; [o[await "k"]] = [3]; ({ [await "c"]: o.c } = { c: 4 }); for (const [x = await 5] of [[]]) o.x = x; return [a, b, o.k, o.c, o.x, f.name].join() })()',
    '1,2,3,4,5,f',
  ],
  [
    'return() at a yield inside an array pattern closes its iterator',
    'let closed = 0; const it = { [Symbol.iterator]() { return { next: () => ({ done: false }), return() { closed++; return {} } } } }; function* g() { const o = {}; [o[yield]] = it } const i = g(); i.next(); i.return(); closed',
    1,
  ],
  [
    'object literals: await in method keys, names of computed and __proto__ values',
    '(async () => { const o = { get [await "g"]() { return 1 }, [await "m"]() { return 2 }, [await "f"]: () => 3 }; const p = { __proto__: function () {} }; return [o.g, o.m(), o.f.name, Object.getPrototypeOf(p).name].join() })()',
    '1,2,f,',
  ],
  [
    'super[key] evaluates this first; for-in/of heads see their bindings in the TDZ',
    'class B {} class D extends B { constructor() { let r; try { super[super()] } catch (e) { r = e.name } return { r } } } let t; try { for (const x in { x }) {} } catch (e) { t = e.name } [new D().r, t].join()',
    'ReferenceError,ReferenceError',
  ],
  [
    'a parenthesized assignment target names no function',
    'let f, g; (f) = function () {}; g = () => 1; [f.name, g.name].join()',
    ',g',
  ],
  [
    'parameter expressions read outer names, not body declarations',
    'var x = "outer"; let y = "outer"; function f(a = x, b = y) { var x = 1; let y = 2; return [a, b, x, y].join() } f()',
    'outer,outer,1,2',
  ],
  [
    'await inside assignment targets',
    '(async () => { const o = { n: 1 }; o[await "a"] = 1; o[await "b"] ??= 2; (await o).n += 1; ({ x: o[await "c"] } = { x: 3 }); return JSON.stringify(o) })()',
    '{"n":2,"a":1,"b":2,"c":3}',
  ],
  [
    'await inside tagged templates and ++/-- targets',
    '(async () => { const tag = (s, ...v) => s.raw.join("|") + ":" + v.join(); const o = { n: 1 }; const a = tag`x${await 1}y${2}`; o[await "n"]++; ++o[await "n"]; return a + "," + o.n })()',
    'x|y|:1,2,3',
  ],
  [
    'strict functions with parameters get this as passed',
    'class C { m(a) { return this } } const { m } = C.prototype; [[1].map(function (v) { "use strict"; return this === undefined })[0], m(1) === undefined, typeof (function (a) { return this }).call(5)].join()',
    'true,true,object',
  ],
  [
    'anonymous async arrows have an empty name',
    'const named = async () => 1; [named.name, (async () => 1).name === "", Object.getPrototypeOf(async () => 1) === Object.getPrototypeOf(async function () {})].join()',
    'named,true,true',
  ],
  [
    '#name in an awaited value',
    'class A { #x; static async has(p) { return #x in (await p) } } (async () => [await A.has(new A()), await A.has({})].join())()',
    'true,false',
  ],
  [
    'eval?.() is indirect',
    'var v = "global"; function f() { const v = "local"; return eval?.("v") } f()',
    'global',
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
    expect(() => interpreter.compile('class A { async m() { return super[await 1] } }')).toThrow(
      /await or yield inside a super property key is not supported/,
    )
    expect(() => interpreter.compile('async () => class { [await 1]() {} }')).toThrow(
      /await or yield inside ClassExpression is not supported/,
    )
  })

  it('refuses using declarations wherever they stand, rather than leave their resources undisposed', () => {
    const interpreter = new Interpreter()
    for (const code of [
      '{ using handle = { [Symbol.dispose]() {} } }',
      'for (using handle of []) {}',
      'for (using handle = null; false; ) {}',
      'function* g() { using handle = null; yield 1 }',
      'async function f() { await using handle = null }',
      'async function f() { for (await using handle of []) {} }',
    ]) {
      expect(() => interpreter.compile(code)).toThrow(
        /a (await )?using declaration \(explicit resource management\) is not supported/,
      )
    }
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
