import { describe } from 'vitest'
import { describeDosCases } from './dos-harness.js'

// Work scheduled for later: promise jobs, async loops after an await, never-settling promises.
// The deadline covers the async tail, and every continuation is counted like synchronous code.
const time = { maxOperations: Infinity, timeoutMs: 500 }
const ops = { maxOperations: 100_000 }

describe('DoS-async', () => {
  describeDosCases([
    {
      name: 'microtask flood through then',
      code: 'const spin = () => Promise.resolve().then(spin)\nspin()\nawait new Promise(() => {})',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      // The run ends with its value; its first leftover job stops the flood (the harness then
      // checks that the host is not starved: the next run answers).
      name: 'microtask flood that outlives the run',
      code: 'const spin = () => Promise.resolve().then(spin)\nspin()\n1',
      limits: ops,
      limit: 'maxOperations',
      outcome: { type: 'value' },
    },
    {
      name: 'async loop after an await',
      code: 'await null\nfor (;;) {}',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'async loop against the deadline',
      code: 'await null\nwhile (true) {}',
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'await in an endless loop',
      code: 'for (;;) await null',
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'promise that never settles',
      code: 'await new Promise(() => {})',
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'tool call that never answers',
      code: 'await slow({})',
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'async recursion',
      code: 'async function f() { await null; return f() }\nawait f()',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'thenable that re-schedules itself',
      code: 'const t = { then(resolve) { resolve(t) } }\nawait t',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'rejection flood without handlers',
      code: 'for (;;) Promise.reject(new Error("x"))',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'async generator that never ends',
      code: 'async function* g() { for (;;) yield 1 }\nfor await (const x of g()) {}',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'Promise.all over an endless generator',
      code: 'function* g() { for (;;) yield 1 }\nawait Promise.all(g())',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'Array.fromAsync over a huge native iterator',
      code: 'const a = []\na.length = 2 ** 30\nawait Array.fromAsync(a.keys())',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'endless loop inside a promise executor',
      code: 'await new Promise(() => { for (;;) {} })',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'catastrophic regex in a promise job',
      code: "await Promise.resolve().then(() => /^(a+)+$/i.test('a'.repeat(40) + '!'))",
      limits: time,
      limit: 'timeoutMs',
    },
  ])
})
