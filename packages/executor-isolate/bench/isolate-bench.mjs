// Measures @airlock/executor-isolate against raw isolated-vm on this machine and prints a markdown
// table. Build first (pnpm build), then: node --no-node-snapshot bench/isolate-bench.mjs [--quick]
// Method (research/perf-anchors.md): warm-up, then interleaved rounds in shuffled order, medians;
// every repetition evaluates never-seen source (a unique trailing comment) so no compile cache hits.
// The agent step is timed twice: over the first steps of this process, while V8 still compiles the
// executor's own host code (the preparation of each run above all), and once the process has run
// some hundred steps, as a long-lived agent host has.
import { createRequire } from 'node:module'
import { defineTool, prepareCodeAction, prepareCodeActionQuickly } from '@airlock/core'
import { createIsolateExecutor } from '../dist/index.js'

const require = createRequire(import.meta.url)
const ivm = require('isolated-vm')
const quick = process.argv.includes('--quick')
const rounds = quick ? 5 : 101
/** Agent steps, in rounds of every mode, timed in a fresh process and then untimed before the warm ones. */
const firstSteps = quick ? 5 : 100
const warmingSteps = quick ? 5 : 200
/** Timed warm agent steps: more rounds than other cells, since a step takes under a millisecond. */
const warmSteps = quick ? 5 : 301

const rows = Array.from(
  { length: 200 },
  (_, i) => `${i},${['north', 'south', 'east', 'west'][i % 4]},${(i * 37) % 101},${(i * 7.5) % 13}`,
)
// A typical agent step: parse a CSV, group, sort, compute statistics, build a report.
const agentBody = `
const csv = ${JSON.stringify(['id,region,units,price', ...rows].join('\n'))}
const [header, ...lines] = csv.split(/\\n/)
const keys = header.split(',')
const records = lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [keys[i], i === 1 ? v : Number(v)])))
const groups = {}
records.forEach((r) => { (groups[r.region] ??= []).push(r) })
const stats = Object.entries(groups).map(([region, items]) => {
  const revenue = items.map((r) => r.units * r.price).sort((a, b) => a - b)
  const mean = revenue.reduce((s, v) => s + v, 0) / revenue.length
  const median = revenue[Math.floor(revenue.length / 2)]
  const std = Math.sqrt(revenue.reduce((s, v) => s + (v - mean) ** 2, 0) / revenue.length)
  return { region, count: items.length, mean, median, std }
}).sort((a, b) => b.mean - a.mean)
const report = stats.map(({ region, count, mean, median, std }) => \`\${region}: n=\${count} mean=\${mean.toFixed(2)} median=\${median.toFixed(2)} std=\${std.toFixed(2)}\`).join('\\n')
`
let unique = 0
const tag = () => `\n// ${++unique}`

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
const shuffle = (items) =>
  items
    .map((item) => [Math.random(), item])
    .sort((a, b) => a[0] - b[0])
    .map(([, item]) => item)
const time = async (fn) => {
  const started = performance.now()
  await fn()
  return performance.now() - started
}
const gc = () => globalThis.gc?.()
const rssMb = () => process.memoryUsage().rss / 2 ** 20
async function childRssMb(executor) {
  const { readFile } = await import('node:fs/promises')
  let total = 0
  for (const pid of executor.processIds) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
    const match = /VmRSS:\s+(\d+)/.exec(status)
    if (match) total += Number(match[1]) / 1024
  }
  return total
}

/** Runs each case `timed` times in shuffled order after `warmup` rounds; returns medians in ms. */
async function interleave(cases, warmup = 2, timed = rounds) {
  const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
  for (let round = 0; round < warmup + timed; round++) {
    for (const name of shuffle(Object.keys(cases))) {
      const ms = await time(cases[name])
      if (round >= warmup) samples[name].push(ms)
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]))
}

const noop = defineTool({
  name: 'noop',
  description: 'Does nothing.',
  parameters: { type: 'object' },
  execute: () => null,
})
const inProcess = createIsolateExecutor({ isolation: 'in-process' })
const inChildren = createIsolateExecutor({ processes: 1 })
const results = []
let prepareMs

// ---- warm agent step -------------------------------------------------------------------------------
{
  const rawIsolate = new ivm.Isolate({ memoryLimit: 128 })
  const rawContext = await rawIsolate.createContext()
  const local = await inProcess.createSession({ limits: { timeoutMs: 30_000 } })
  const remote = await inChildren.createSession({ limits: { timeoutMs: 30_000 } })
  const check = await local.run(`${agentBody}\nreport`)
  const expected = await rawContext.eval(`(() => {${agentBody}\nreturn report})()`, { copy: true })
  if (check.type !== 'value' || check.value !== expected)
    throw new Error(`agent step mismatch: ${JSON.stringify(check)}`)
  const steps = {
    raw: () =>
      rawContext.eval(`(() => {${agentBody}\nreturn report})()${tag()}`, { timeout: 30_000, copy: true }),
    'in-process': () => local.run(`${agentBody}\nreport${tag()}`),
    process: () => remote.run(`${agentBody}\nreport${tag()}`),
  }
  const first = await interleave(steps, 0, firstSteps)
  results.push([
    `warm agent step (200-row CSV), ms, after ${firstSteps + warmingSteps} steps`,
    await interleave(steps, warmingSteps, warmSteps),
  ])
  results.push([`agent step, ms, the first ${firstSteps} steps of the process`, first])
  // What a run pays on the host before the isolate sees the code: the quick reading it takes, and
  // the full preparation (acorn's parse) it falls back to. Timed apart from the peers: the full
  // parse's garbage would land on whichever peer ran next.
  const importFunction = '__airlock_import'
  prepareMs = await interleave(
    {
      quick: () => prepareCodeActionQuickly(`${agentBody}\nreport${tag()}`, { importFunction }),
      full: () => prepareCodeAction(`${agentBody}\nreport${tag()}`, { importFunction }),
    },
    warmingSteps,
    warmSteps,
  )
  await local.dispose()
  await remote.dispose()
  rawIsolate.dispose()
}

// ---- session create + first run --------------------------------------------------------------------
{
  await (await inChildren.createSession()).dispose() // the pool's process is started, as in a long-lived host
  const medians = await interleave(
    {
      raw: async () => {
        const isolate = new ivm.Isolate({ memoryLimit: 128 })
        const context = await isolate.createContext()
        await context.eval(`1 + 1${tag()}`, { copy: true })
        isolate.dispose()
      },
      'in-process': async () => {
        const session = await inProcess.createSession()
        await session.run(`1 + 1${tag()}`)
        await session.dispose()
      },
      process: async () => {
        const session = await inChildren.createSession()
        await session.run(`1 + 1${tag()}`)
        await session.dispose()
      },
    },
    5,
  )
  results.push(['session create + first run (+ dispose), ms', medians])
}

// ---- tool-call round trip --------------------------------------------------------------------------
{
  const calls = 200
  const rawIsolate = new ivm.Isolate({ memoryLimit: 128 })
  const rawContext = await rawIsolate.createContext()
  const rawCall = await rawContext.evalClosure(
    `return async (n) => { for (let i = 0; i < n; i++) await $0.apply(undefined, [{}], { arguments: { copy: true }, result: { promise: true, copy: true } }) }`,
    [new ivm.Reference(async () => null)],
    { result: { reference: true } },
  )
  const local = await inProcess.createSession({ tools: [noop], limits: { maxToolCalls: 10_000 } })
  const remote = await inChildren.createSession({ tools: [noop], limits: { maxToolCalls: 10_000 } })
  const loop = `for (let i = 0; i < ${calls}; i++) await noop({})`
  const medians = await interleave({
    raw: () => rawCall.apply(undefined, [calls], { result: { promise: true } }),
    'in-process': () => local.run(loop + tag()),
    process: () => remote.run(loop + tag()),
  })
  results.push([
    'tool-call round trip, µs per call (200 sequential calls)',
    Object.fromEntries(Object.entries(medians).map(([name, ms]) => [name, (ms * 1000) / calls])),
  ])
  await local.dispose()
  await remote.dispose()
  rawIsolate.dispose()
}

// ---- memory per live session -----------------------------------------------------------------------
const memory = {}
{
  const live = 50
  for (const [name, executor] of [
    ['in-process', inProcess],
    ['process', inChildren],
  ]) {
    gc()
    const before = rssMb() + (await childRssMb(executor))
    const sessions = []
    for (let i = 0; i < live; i++) {
      const session = await executor.createSession()
      await session.run('const data = [1, 2, 3]\ndata.length')
      sessions.push(session)
    }
    gc()
    const after = rssMb() + (await childRssMb(executor))
    memory[name] = ((after - before) * 1024) / live
    for (const session of sessions) await session.dispose()
  }
  // Raw isolates for reference.
  gc()
  const before = rssMb()
  const isolates = []
  for (let i = 0; i < live; i++) {
    const isolate = new ivm.Isolate({ memoryLimit: 128 })
    const context = await isolate.createContext()
    await context.eval('const data = [1, 2, 3]; data.length')
    isolates.push(isolate)
  }
  gc()
  memory.raw = ((rssMb() - before) * 1024) / live
  for (const isolate of isolates) isolate.dispose()
  results.push(['RSS per live session, KB (50 live, host + sandbox processes)', memory])
}

// ---- 200 sessions created and disposed -------------------------------------------------------------
{
  const churn = {}
  for (const [name, executor] of [
    ['in-process', inProcess],
    ['process', inChildren],
  ]) {
    gc()
    const hostBefore = rssMb()
    const childBefore = await childRssMb(executor)
    for (let i = 0; i < 200; i++) {
      const session = await executor.createSession()
      await session.run(`const x = ${i}\nx * 2`)
      await session.dispose()
    }
    gc()
    churn[name] =
      `host ${(rssMb() - hostBefore).toFixed(1)} MB, sandbox processes ${((await childRssMb(executor)) - childBefore).toFixed(1)} MB`
  }
  results.push(['RSS growth after 200 create/run/dispose cycles', churn])
}
const childBaseline = await childRssMb(inChildren)
await inChildren.close()

const format = (value) =>
  typeof value === 'number'
    ? value >= 100
      ? value.toFixed(0)
      : value >= 10
        ? value.toFixed(1)
        : value.toFixed(3)
    : value
const ratio = (value, raw) =>
  typeof value === 'number' && typeof raw === 'number' ? ` (${(value / raw).toFixed(2)}×)` : ''
console.log(
  `node ${process.version}, isolated-vm ${require('isolated-vm/package.json').version}, medians of ${rounds} rounds per cell (${warmSteps} for the warm agent step)\n`,
)
console.log('| measurement | raw isolated-vm | in-process | process (default) |')
console.log('|---|---|---|---|')
for (const [name, values] of results) {
  const cells = ['raw', 'in-process', 'process'].map((key) =>
    values[key] === undefined
      ? '—'
      : `${format(values[key])}${key === 'raw' ? '' : ratio(values[key], values.raw)}`,
  )
  console.log(`| ${name} | ${cells.join(' | ')} |`)
}
console.log(
  `\nOf the warm agent step, the preparation of the code on the host (REPL rewrite): ${format(prepareMs.quick)} ms read quickly from its tokens, which this code allows; ${format(prepareMs.full)} ms with the full parse (TypeScript check, acorn), which other code needs.`,
)
console.log(`One idle sandbox process (isolation: 'process'): ${childBaseline.toFixed(1)} MB RSS.`)
