import { describe } from 'vitest'
import { describeDosCases } from './dos-harness.js'

// CPU exhaustion through interpreted code and regular expressions: operation counting, the
// deadline, and the regular-expression watchdog must end every one of these runs.
const ops = { maxOperations: 100_000 }
const time = { maxOperations: Infinity, timeoutMs: 500 }
const aaa = "('a'.repeat(40) + '!')"

describe('DoS-cpu', () => {
  describeDosCases([
    { name: 'while (true) {}', code: 'while (true) {}', limits: ops, limit: 'maxOperations' },
    { name: 'for (;;) {} against the deadline', code: 'for (;;) {}', limits: time, limit: 'timeoutMs' },
    {
      name: 'endless loop inside try/catch/finally',
      code: 'for (;;) { try { while (true) {} } catch (e) {} finally { continue } }',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'endless generator consumed by for-of',
      code: 'function* g() { for (let i = 0; ; i++) yield i }\nfor (const x of g()) {}',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'recursion that swallows its own errors',
      code: 'function f() { try { f() } catch (e) { f() } }\nf()',
      limit: 'maxCallDepth',
    },
    {
      name: 'callback of map loops',
      code: '[1].map(() => { while (true) {} })',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'sort comparator loops',
      code: '[3, 1, 2].sort(() => { for (;;) {} })',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'getter loops while JSON.stringify reads it',
      code: 'JSON.stringify({ get x() { for (;;) {} } })',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'toString loops inside a template literal',
      code: '`${{ toString() { for (;;) {} } }}`',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'endless loop in indirect eval',
      code: "(0, eval)('for (;;) {}')",
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'endless loop in new Function',
      code: "Function('for (;;) {}')()",
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'endless loop in a class static block',
      code: 'class A { static { for (;;) {} } }',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'endless loop in a proxy trap read by the interpreter',
      code: 'const p = new Proxy({}, { get() { for (;;) {} } })\np.x',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'Atomics.wait with a huge timeout',
      code: 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1e9)\nfor (;;) {}',
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'catastrophic regex with the i flag (no linear engine)',
      code: `/^(a+)+b$/i.test(${aaa})`,
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'catastrophic regex with a backreference',
      code: `/^(a|a)+\\1b$/.test(${aaa})`,
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'catastrophic regex with a lookahead',
      code: `/^(?=(a+)+b)/.test(${aaa})`,
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'catastrophic regex with the u flag in replace',
      code: `${aaa}.replace(/^(a+)+$/u, 'x')`,
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'catastrophic regex in split',
      code: `${aaa}.split(/(a+)+$/i)`,
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'catastrophic regex in matchAll',
      code: `[...${aaa}.matchAll(/(a+)+$/gi)]`,
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'catastrophic regex in search',
      code: `${aaa}.search(/^(a+)+$/i)`,
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'catastrophic regex built by the RegExp constructor',
      code: `new RegExp('^(a+)+b$', 'i').exec(${aaa})`,
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'catastrophic regex from a replacer callback',
      code: `'x'.replace(/x/, () => String(/^(a+)+b$/i.test(${aaa})))`,
      limits: time,
      limit: 'timeoutMs',
    },
    {
      // Quadratic even on the linear-time engine: the pattern is tried at every position.
      name: 'split of a long subject by a pattern that scans to the end',
      code: "'a'.repeat(1e6).split(/a*b/)",
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'replace of a long subject by a pattern that scans to the end',
      code: "'a'.repeat(2e6).replace(/a*b/g, '')",
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'exec loop over a long subject with a pattern that scans to the end',
      code: "const s = 'a'.repeat(200000)\nfor (;;) /a*b/.exec(s)",
      limits: time,
      limit: 'timeoutMs',
    },
    {
      name: 'catastrophic regex after an await',
      code: `await null;\n/^(\\w+\\s?)+$/i.test(${aaa})`,
      limits: time,
      limit: 'timeoutMs',
    },
  ])
})
