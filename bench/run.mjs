// Runs every workload on every peer in one run and prints medians and ratios to native V8.
// Method: one process per peer; per cell a verified first run, warm-up rounds, then timed rounds
// in a freshly shuffled peer order each round, so machine noise lands on all peers alike.
//
//   node --no-node-snapshot --expose-gc run.mjs [--quick] [--peers vm,sval,...] [--workloads fib,loop,...]
import { fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { peers } from './peers.mjs'
import { workloads } from './workloads.mjs'

const here = path.dirname(new URL(import.meta.url).pathname)
const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    peers: { type: 'string' },
    workloads: { type: 'string' },
    out: { type: 'string', default: path.join(here, 'results', 'latest.json') },
  },
})
const quick = options.quick
const peerNames = options.peers?.split(',') ?? Object.keys(peers).filter((name) => !peers[name].onlyWhenNamed)
const workloadNames = options.workloads?.split(',') ?? Object.keys(workloads)
if (!peerNames.includes('vm')) peerNames.unshift('vm')

/** A peer's process: `call(command, args)` resolves with the worker's result. */
function startWorker(peer) {
  const child = fork(path.join(here, 'worker.mjs'), [peer], {
    execArgv: ['--no-node-snapshot', '--expose-gc'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const pending = new Map()
  let nextId = 0
  child.on('message', ({ id, ok, result, error }) => {
    const { resolve, reject } = pending.get(id)
    pending.delete(id)
    if (ok) resolve(result)
    else reject(new Error(error))
  })
  child.on('exit', (code) => {
    for (const { reject } of pending.values()) reject(new Error(`${peer} worker exited with ${code}`))
    pending.clear()
  })
  return {
    call: (command, args) =>
      new Promise((resolve, reject) => {
        const id = nextId++
        pending.set(id, { resolve, reject })
        child.send({ id, command, args })
      }),
    stop: () => child.kill(),
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
const shuffle = (list) => {
  const copy = [...list]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j], copy[i]]
  }
  return copy
}
const fmt = (ms) =>
  ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3)
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)

const workers = new Map()
const unavailable = {}
for (const name of peerNames) {
  if (peers[name] === undefined)
    throw new Error(`unknown peer ${name}; known: ${Object.keys(peers).join(', ')}`)
  const worker = startWorker(name)
  try {
    await worker.call('load')
    workers.set(name, worker)
  } catch (error) {
    unavailable[name] = String(error.message).split('\n')[0]
    worker.stop()
  }
}
const active = [...workers.keys()]
const results = {
  node: process.version,
  date: new Date().toISOString(),
  quick,
  unavailable,
  cells: {},
  fresh: {},
  memory: {},
}

for (const workload of workloadNames) {
  const { size } = workloads[workload]
  const cell = (results.cells[workload] = { size, peers: {} })
  let expected
  for (const name of active) {
    try {
      const { value, ms } = await workers.get(name).call('cell', { workload, size })
      if (name === 'vm') expected = value
      const status = same(value, expected) ? 'ok' : 'mismatch'
      cell.peers[name] = { status, firstRunMs: ms, times: [], ...(status === 'ok' ? {} : { value }) }
    } catch (error) {
      cell.peers[name] = { status: 'error', error: String(error.message).split('\n')[0], times: [] }
    }
  }
  const running = active.filter((name) => cell.peers[name].status === 'ok')
  const warmups = quick ? 0 : 2
  const minRounds = quick ? 3 : workload === 'agent' ? 21 : 11
  const maxRounds = quick ? 3 : 33
  const last = new Map(running.map((name) => [name, cell.peers[name].firstRunMs]))
  const started = performance.now()
  for (let round = 0; round < warmups + maxRounds; round++) {
    if (round >= warmups + minRounds && performance.now() - started > 4000) break
    for (const name of shuffle(running)) {
      const samples = Math.min(5, Math.max(1, Math.floor(25 / Math.max(last.get(name), 0.001))))
      const { times } = await workers.get(name).call('time', { workload, size, samples })
      last.set(name, median(times))
      if (round >= warmups) cell.peers[name].times.push(...times)
    }
  }
  for (const name of running) cell.peers[name].medianMs = median(cell.peers[name].times)
  process.stderr.write(
    `${workload}: ${running.map((name) => `${name} ${fmt(cell.peers[name].medianMs)} ms`).join(', ')}\n`,
  )
}

// The agent step with a new sandbox each time: create, run, dispose, timed together.
{
  const rounds = quick ? 3 : 21
  const rows = Object.fromEntries(active.map((name) => [name, []]))
  for (let round = 0; round < rounds + (quick ? 0 : 2); round++) {
    for (const name of shuffle(active)) {
      try {
        const { rows: measured } = await workers
          .get(name)
          .call('fresh', { workload: 'agent', size: workloads.agent.size, samples: 1 })
        if (round >= (quick ? 0 : 2)) rows[name].push(...measured)
      } catch (error) {
        results.fresh[name] = { error: String(error.message).split('\n')[0] }
      }
    }
  }
  for (const name of active) {
    if (results.fresh[name]?.error) continue
    const pick = (key) => median(rows[name].map((row) => row[key]))
    results.fresh[name] = {
      total: pick('total'),
      create: pick('create'),
      exec: pick('exec'),
      dispose: pick('dispose'),
    }
  }
}

for (const worker of workers.values()) {
  await worker.call('close').catch(() => {})
  worker.stop()
}

// Memory per live sandbox: fresh processes, 50 live sandboxes each, median of 3 processes.
for (const name of active) {
  const measured = []
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const worker = startWorker(name)
    try {
      await worker.call('load')
      measured.push(await worker.call('memory', { count: 50 }))
      await worker.call('close')
    } catch (error) {
      results.memory[name] = { error: String(error.message).split('\n')[0] }
    } finally {
      worker.stop()
    }
  }
  if (measured.length > 0) {
    results.memory[name] = {
      rssKb: median(measured.map((m) => m.rssKb)),
      heapKb: median(measured.map((m) => m.heapKb)),
    }
  }
}

// Report.
const lines = [
  `Node ${process.version}${quick ? ' (quick run: 3 rounds, no warm-up)' : ''}. Median ms (ratio to native V8).`,
  '',
]
lines.push(
  `| workload | size | ${active.join(' | ')} |`,
  `| --- | --- | ${active.map(() => '---').join(' | ')} |`,
)
for (const workload of workloadNames) {
  const cell = results.cells[workload]
  const native = cell.peers.vm?.medianMs
  const cells = active.map((name) => {
    const peer = cell.peers[name]
    if (peer.status !== 'ok') return peer.status === 'error' ? `error: ${peer.error}` : 'wrong result'
    return name === 'vm'
      ? fmt(peer.medianMs)
      : `${fmt(peer.medianMs)} (${(peer.medianMs / native).toFixed(2)}×)`
  })
  lines.push(`| ${workload} | ${cell.size} | ${cells.join(' | ')} |`)
}
lines.push('', 'Agent step with a new sandbox per run (create + run + dispose), median ms:', '')
lines.push('| peer | total | ratio | create | exec | dispose |', '| --- | --- | --- | --- | --- | --- |')
for (const name of active) {
  const row = results.fresh[name]
  if (row.error) lines.push(`| ${name} | error: ${row.error} | | | | |`)
  else
    lines.push(
      `| ${name} | ${fmt(row.total)} | ${(row.total / results.fresh.vm.total).toFixed(2)}× | ${fmt(row.create)} | ${fmt(row.exec)} | ${fmt(row.dispose)} |`,
    )
}
lines.push('', 'Memory per live sandbox (50 live, each ran `1+1`; host process only):', '')
lines.push('| peer | RSS KB | JS heap KB |', '| --- | --- | --- |')
for (const name of active) {
  const row = results.memory[name]
  lines.push(
    row.error
      ? `| ${name} | error: ${row.error} | |`
      : `| ${name} | ${row.rssKb.toFixed(0)} | ${row.heapKb.toFixed(0)} |`,
  )
}
for (const [name, reason] of Object.entries(unavailable)) lines.push('', `${name}: not measured (${reason})`)
const report = lines.join('\n')
process.stdout.write(`${report}\n`)
mkdirSync(path.dirname(options.out), { recursive: true })
writeFileSync(options.out, JSON.stringify({ ...results, report }, null, 2))
process.stderr.write(`results: ${options.out}\n`)
