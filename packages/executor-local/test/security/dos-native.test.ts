import { describe } from 'vitest'
import { type DosCase, describeDosCases } from './dos-harness.js'

// One built-in call doing unbounded work or allocating gigabytes: each is charged by argument or
// result size before it runs and refused over the per-call caps (memoryMb, or the operations one
// call may cost), so the call never starts.
const huge = '({ length: 2 ** 53 - 1 })'
const cases: DosCase[] = [
  { name: "'x'.repeat(2 ** 28)", code: "'x'.repeat(2 ** 28)", limit: 'memoryMb' },
  { name: 'repeat with a valueOf count', code: "'ab'.repeat({ valueOf: () => 2 ** 27 })", limit: 'memoryMb' },
  { name: 'padStart to the maximum string length', code: "'x'.padStart(2 ** 29 - 24)", limit: 'memoryMb' },
  { name: 'padEnd with a long filler', code: "'x'.padEnd(2 ** 28, 'abc')", limit: 'memoryMb' },
  {
    name: 'concat of large pieces',
    code: "const s = 'x'.repeat(2 ** 25)\ns.concat(s, s)",
    limit: 'memoryMb',
  },
  { name: 'split into characters', code: "'ab'.repeat(2 ** 25).split('')", limit: 'memoryMb' },
  {
    name: 'replaceAll of the empty string',
    code: "'x'.repeat(2 ** 24).replaceAll('', 'abcd')",
    limit: 'memoryMb',
  },
  {
    name: 'replace with $` (quadratic)',
    code: "'a'.repeat(2 ** 16).replaceAll('a', '$`')",
    limit: 'memoryMb',
  },
  { name: 'new Array(2 ** 32 - 1)', code: 'new Array(2 ** 32 - 1)', limit: 'memoryMb' },
  { name: 'Array(n) called without new', code: 'Array(2 ** 30)', limit: 'memoryMb' },
  { name: 'Array through [].constructor', code: '[].constructor(2 ** 30)', limit: 'memoryMb' },
  { name: 'Array through Reflect.construct', code: 'Reflect.construct(Array, [2 ** 30])', limit: 'memoryMb' },
  { name: 'Array through Function.prototype.call', code: 'Array.call(null, 2 ** 30)', limit: 'memoryMb' },
  {
    name: 'fill on a length-extended array',
    code: 'const a = []\na.length = 2 ** 32 - 1\na.fill(0)',
    limit: 'memoryMb',
  },
  {
    name: 'join on a length-extended array',
    code: 'const a = []\na.length = 2 ** 30\na.join("ab")',
    limit: 'memoryMb',
  },
  {
    name: 'String() of a length-extended array',
    code: 'const a = []\na.length = 2 ** 30\nString(a)',
    limit: 'memoryMb',
  },
  { name: 'Array.from({ length: 2 ** 31 })', code: 'Array.from({ length: 2 ** 31 })', limit: 'memoryMb' },
  {
    name: 'includes.call on a huge array-like',
    code: `Array.prototype.includes.call(${huge}, 1)`,
    limit: 'maxOperations',
  },
  {
    name: 'indexOf.call on a huge array-like',
    code: `Array.prototype.indexOf.call(${huge}, 1)`,
    limit: 'maxOperations',
  },
  {
    name: 'lastIndexOf.call on a huge array-like',
    code: `Array.prototype.lastIndexOf.call(${huge}, 1)`,
    limit: 'maxOperations',
  },
  {
    name: 'reverse.call on a huge array-like',
    code: `Array.prototype.reverse.call(${huge})`,
    limit: 'maxOperations',
  },
  { name: 'sort.call on a huge array-like', code: `Array.prototype.sort.call(${huge})`, limit: 'memoryMb' },
  { name: 'join.call on a huge array-like', code: `Array.prototype.join.call(${huge})`, limit: 'memoryMb' },
  {
    name: 'slice.call on a huge array-like',
    code: 'Array.prototype.slice.call({ length: 2 ** 32 })',
    limit: 'memoryMb',
  },
  {
    name: 'map on a length-extended array',
    code: 'const a = [1]\na.length = 2 ** 31\na.map((x) => x)',
    limit: 'memoryMb',
  },
  {
    name: 'concat doubling',
    code: 'let a = [1]\nfor (;;) a = a.concat(a)',
    limits: { memoryMb: 16 },
    limit: 'memoryMb',
  },
  {
    name: 'flat over shared nested arrays',
    code: 'const c = Array.from({ length: 1000 }, () => 0)\nconst b = Array.from({ length: 1000 }, () => c)\nArray.from({ length: 1000 }, () => b).flat(2)',
    limit: 'memoryMb',
  },
  {
    name: 'flatMap returning one big shared array',
    code: 'const big = new Array(2 ** 20).fill(0)\nnew Array(1000).fill(0).flatMap(() => big)',
    limits: { maxOperations: 200_000 },
    limit: 'maxOperations',
  },
  {
    name: 'JSON.parse of a huge text',
    code: "JSON.parse('[' + '1,'.repeat(2 ** 24) + '1]')",
    limit: 'memoryMb',
  },
  {
    name: 'JSON.stringify of a length-extended array',
    code: 'const a = []\na.length = 2 ** 30\nJSON.stringify(a)',
    limit: 'memoryMb',
  },
  { name: 'BigInt power', code: '3n ** 30000000n', limit: 'memoryMb' },
  { name: 'BigInt shift', code: '1n << (2n ** 40n)', limit: 'memoryMb' },
  { name: 'BigInt squaring loop', code: 'let x = 3n\nfor (;;) x = x * x', limit: 'maxOperations' },
  { name: 'BigInt power of two beyond the cap', code: '2n ** 4000000n', limit: 'memoryMb' },
  {
    name: 'BigInt to text, repeatedly',
    code: 'const x = 3n ** 300000n\nfor (;;) x.toString()',
    limit: 'maxOperations',
  },
  { name: 'BigInt.asUintN with a huge width', code: 'BigInt.asUintN(2 ** 30, -1n)', limit: 'memoryMb' },
  {
    name: 'new Set over a native iterator of a huge array',
    code: 'const a = []\na.length = 2 ** 30\nnew Set(a.keys())',
    limits: { maxOperations: 200_000 },
    limit: 'maxOperations',
  },
  {
    name: 'new Map over a native iterator',
    code: 'const a = []\na.length = 2 ** 30\nnew Map(a.entries())',
    limits: { maxOperations: 200_000 },
    limit: 'maxOperations',
  },
  {
    name: 'Iterator.prototype.toArray on a huge array iterator',
    code: 'const a = []\na.length = 2 ** 30\na.keys().toArray()',
    limits: { maxOperations: 200_000 },
    limit: 'maxOperations',
  },
  {
    name: 'Promise.all over a huge iterator',
    code: 'const a = []\na.length = 2 ** 30\nPromise.all(a.keys())',
    limits: { maxOperations: 200_000 },
    limit: 'maxOperations',
  },
  {
    name: 'Object.fromEntries over a huge iterator',
    code: 'const a = []\na.length = 2 ** 30\nObject.fromEntries(a.keys())',
    limits: { maxOperations: 200_000 },
    limit: 'maxOperations',
  },
  {
    name: 'Array.from over a huge iterator',
    code: 'const a = []\na.length = 2 ** 30\nArray.from(a.keys())',
    limits: { maxOperations: 200_000 },
    limit: 'maxOperations',
  },
  {
    name: 'Object.keys of a big typed array',
    code: 'Object.keys(new Uint8Array(2 ** 24))',
    limit: 'memoryMb',
  },
  { name: 'object spread of a big typed array', code: '({ ...new Uint8Array(2 ** 24) })', limit: 'memoryMb' },
  {
    name: 'object rest of a big typed array',
    code: 'const { ...rest } = new Uint8Array(2 ** 24)',
    limit: 'memoryMb',
  },
  { name: 'typed array join', code: "new Uint8Array(2 ** 26).join(',')", limit: 'memoryMb' },
  {
    name: 'Iterator.prototype.drop over a huge native iterator',
    code: 'const a = []\na.length = 2 ** 31\na.keys().drop(2 ** 40).next()',
    limits: { maxOperations: 200_000 },
    limit: 'maxOperations',
  },
  {
    name: 'typed array from a huge native iterator',
    code: 'const a = []\na.length = 2 ** 27\nnew Uint8Array(a.keys())',
    limits: { maxOperations: 200_000 },
    limit: 'maxOperations',
  },
  { name: 'new Uint8Array(2 ** 31)', code: 'new Uint8Array(2 ** 31)', limit: 'memoryMb' },
  { name: 'new Float64Array(2 ** 28)', code: 'new Float64Array(2 ** 28)', limit: 'memoryMb' },
  {
    name: 'TypedArray.from a huge array-like',
    code: 'Uint8Array.from({ length: 2 ** 30 })',
    limit: 'memoryMb',
  },
  { name: 'new ArrayBuffer(2 ** 31)', code: 'new ArrayBuffer(2 ** 31)', limit: 'memoryMb' },
  {
    name: 'resizable ArrayBuffer reserving 4 GB',
    code: 'new ArrayBuffer(8, { maxByteLength: 2 ** 32 })',
    limit: 'memoryMb',
  },
  {
    name: 'typed array through Reflect.construct',
    code: 'Reflect.construct(Uint8Array, [2 ** 31])',
    limit: 'memoryMb',
  },
  {
    name: 'typed array through a bound constructor',
    code: 'new (Uint8Array.bind(null, 2 ** 31))()',
    limit: 'memoryMb',
  },
  {
    name: 'typed array through class extends',
    code: 'class B extends Uint8Array {}\nnew B(2 ** 31)',
    limit: 'memoryMb',
  },
  {
    name: 'String.raw over a huge raw length',
    code: 'String.raw({ raw: { length: 2 ** 40 } })',
    limit: 'memoryMb',
  },
]

describe('DoS-native', () => {
  describeDosCases(cases)
})
