import { describe } from 'vitest'
import { describeDosCases } from './dos-harness.js'

// Stack depth: sandbox recursion is bounded by maxCallDepth. Each sandbox call through a built-in
// takes several host frames, so those cases use a depth the host stack always holds; the default
// depth may instead end in a sandbox RangeError (stack-overflow.test.ts), never a crash.
describe('DoS-stack', () => {
  describeDosCases([
    { name: 'plain recursion', code: 'function f() { return f() }\nf()', limit: 'maxCallDepth' },
    {
      name: 'mutual recursion',
      code: 'const a = () => b()\nconst b = () => a()\na()',
      limit: 'maxCallDepth',
    },
    {
      name: 'recursion through a getter',
      code: 'const o = { get x() { return this.x } }\no.x',
      limits: { maxCallDepth: 100 },
      limit: 'maxCallDepth',
    },
    {
      name: 'recursion through toString',
      code: 'const o = { toString() { return `${o}` } }\nString(o)',
      limits: { maxCallDepth: 100 },
      limit: 'maxCallDepth',
    },
    {
      name: 'recursion through a proxy trap',
      code: 'const p = new Proxy({}, { get(t, k, r) { return r[k] } })\np.x',
      limits: { maxCallDepth: 100 },
      limit: 'maxCallDepth',
    },
    {
      name: 'recursion through Array.prototype.map',
      code: 'function f() { return [1].map(f) }\nf()',
      limits: { maxCallDepth: 100 },
      limit: 'maxCallDepth',
    },
    {
      name: 'recursion through a sort comparator',
      code: 'function f() { return [2, 1].sort(f) }\nf()',
      limits: { maxCallDepth: 100 },
      limit: 'maxCallDepth',
    },
    {
      name: 'recursion through JSON.parse reviver',
      code: "function f() { return JSON.parse('[1]', f) }\nf()",
      limits: { maxCallDepth: 100 },
      limit: 'maxCallDepth',
    },
    {
      name: 'recursion through new and class constructors',
      code: 'class A { constructor() { new A() } }\nnew A()',
      limits: { maxCallDepth: 100 },
      limit: 'maxCallDepth',
    },
    {
      // Generator resumptions nest on the host stack, not in maxCallDepth: a sandbox RangeError.
      name: 'recursion through a generator',
      code: 'function* g() { yield* g() }\n[...g()]',
      limit: 'maxCallDepth',
      outcome: { type: 'error', error: { kind: 'runtime', name: 'RangeError' } },
    },
    {
      name: 'host stack overflow inside a promise job reaches the handler as a realm error',
      code: [
        'const o = { get x() { return this.x } }',
        'const e = await Promise.resolve().then(() => o.x).catch((e) => e)',
        "e instanceof RangeError && e.constructor.constructor('return typeof process')() === 'undefined' ? null.x : 0",
      ].join('\n'),
      limits: { maxCallDepth: 1_000_000 },
      limit: 'maxCallDepth',
      outcome: { type: 'error', error: { kind: 'runtime', name: 'TypeError' } },
    },
    {
      name: 'a 200,000-long member chain',
      code: 'const b = {}\nb.b = b\nb' + '.b'.repeat(200_000),
      limit: 'maxCallDepth',
      outcome: { type: 'error', error: { kind: 'syntax' } },
    },
    {
      name: 'a 100,000-long call chain',
      code: 'const f = () => f\nf' + '()'.repeat(100_000),
      limit: 'maxCallDepth',
      outcome: { type: 'error', error: { kind: 'syntax' } },
    },
    {
      name: '10,000 nested brackets',
      code: '['.repeat(10_000) + ']'.repeat(10_000),
      limit: 'maxCallDepth',
      outcome: { type: 'error', error: { kind: 'syntax' } },
    },
    {
      name: 'deeply nested JSON parsed then stringified',
      code: "const v = JSON.parse('['.repeat(100000) + ']'.repeat(100000))\nJSON.stringify(v).length",
      limit: 'maxCallDepth',
      outcome: { type: 'error', error: { kind: 'runtime', name: 'RangeError' } },
    },
    {
      name: 'deeply nested value returned to the host',
      code: "JSON.parse('['.repeat(100000) + ']'.repeat(100000))",
      limit: 'maxCallDepth',
      outcome: { type: 'error' },
    },
    {
      name: 'recursion with a very high maxCallDepth still ends cleanly',
      code: 'function f(n) { return f(n + 1) + 1 }\ntry { f(0) } catch (e) { for (;;) {} }',
      limits: { maxCallDepth: 1_000_000, maxOperations: 1_000_000 },
      limit: 'maxOperations',
    },
  ])
})
