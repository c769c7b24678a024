import { describe } from 'vitest'
import { describeDosCases } from './dos-harness.js'

// Memory grown by many small steps: each step is counted, so maxOperations bounds the total
// (there is no heap limit; see the README). The RSS assertion of the harness checks the bound.
const ops = { maxOperations: 100_000 }

describe('DoS-memory', () => {
  describeDosCases([
    {
      name: 'string doubling past the maximum length, errors swallowed',
      code: "let s = 'x'\nfor (;;) { try { s += s } catch {} }",
      limits: { maxOperations: 20_000 },
      limit: 'maxOperations',
    },
    { name: 'push loop', code: 'const a = []\nfor (;;) a.push(1)', limits: ops, limit: 'maxOperations' },
    {
      name: 'object with ever more keys',
      code: "const o = {}\nfor (let i = 0; ; i++) o['k' + i] = i",
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'Map growth',
      code: 'const m = new Map()\nfor (let i = 0; ; i++) m.set(i, i)',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'closures kept alive',
      code: 'const keep = []\nfor (let i = 0; ; i++) keep.push(() => i)',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'preallocated arrays kept alive',
      code: 'const keep = []\nfor (;;) keep.push(new Array(16000))',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: '2 KiB strings kept alive',
      code: "const keep = []\nfor (let i = 0; ; i++) keep.push(String(i).padEnd(2048, 'x'))",
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'typed arrays kept alive',
      code: 'const keep = []\nfor (;;) keep.push(new Uint8Array(1 << 16).fill(1))',
      limits: { maxOperations: 10_000_000, memoryMb: 128 },
      limit: 'maxOperations',
    },
    {
      name: 'repeat of a growing string',
      code: "let s = 'ab'\nfor (;;) s = s.repeat(2)",
      limits: { memoryMb: 16 },
      limit: 'memoryMb',
    },
    {
      name: 'split results kept alive',
      code: "const text = 'a,'.repeat(10000)\nconst keep = []\nfor (;;) keep.push(text.split(','))",
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'JSON round trips kept alive',
      code: 'const keep = []\nconst v = Array.from({ length: 1000 }, (_, i) => ({ i }))\nfor (;;) keep.push(JSON.parse(JSON.stringify(v)))',
      limits: ops,
      limit: 'maxOperations',
    },
    {
      name: 'console output flood',
      code: "for (;;) console.log('x'.repeat(1000))",
      limits: ops,
      limit: 'maxOperations',
    },
  ])
})
