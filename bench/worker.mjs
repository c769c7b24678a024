// One peer per process, so peers never share a heap or JIT state. The parent sends commands over
// IPC; every time is measured here, around the peer's own calls only.
import { peers } from './peers.mjs'
import { workloadSource } from './workloads.mjs'

const peerName = process.argv[2]
const peer = peers[peerName]
let sandbox
let repetition = 0

/** Each repetition is new source text, so no peer can reuse a parse or compile of the previous one. */
const fresh = (source) => `${source}\n// repetition ${process.pid}-${repetition++}`

const gc = () => globalThis.gc?.()

async function timeRun(source) {
  const start = performance.now()
  const value = await peer.run(sandbox, fresh(source))
  return { value, ms: performance.now() - start }
}

const handlers = {
  async load() {
    const start = performance.now()
    await peer.load()
    return { ms: performance.now() - start }
  },
  async cell({ workload, size }) {
    if (sandbox !== undefined) await peer.dispose(sandbox)
    sandbox = await peer.create()
    return timeRun(workloadSource(workload, size))
  },
  async time({ workload, size, samples }) {
    const source = workloadSource(workload, size)
    const times = []
    for (let i = 0; i < samples; i++) times.push((await timeRun(source)).ms)
    return { times }
  },
  async fresh({ workload, size, samples }) {
    const source = workloadSource(workload, size)
    const rows = []
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now()
      const own = await peer.create()
      const t1 = performance.now()
      await peer.run(own, fresh(source))
      const t2 = performance.now()
      await peer.dispose(own)
      const t3 = performance.now()
      rows.push({ create: t1 - t0, exec: t2 - t1, dispose: t3 - t2, total: t3 - t0 })
    }
    return { rows }
  },
  async memory({ count }) {
    // Warm up, then count what `count` live sandboxes that each ran `1+1` keep.
    for (let i = 0; i < 5; i++) await peer.dispose(await createWithRun())
    gc()
    gc()
    const before = process.memoryUsage()
    const live = []
    for (let i = 0; i < count; i++) live.push(await createWithRun())
    gc()
    gc()
    const after = process.memoryUsage()
    for (const own of live) await peer.dispose(own)
    return {
      rssKb: (after.rss - before.rss) / 1024 / count,
      heapKb: (after.heapUsed - before.heapUsed) / 1024 / count,
    }
  },
  async close() {
    if (sandbox !== undefined) await peer.dispose(sandbox)
    sandbox = undefined
    await peer.close?.()
    return {}
  },
}

async function createWithRun() {
  const own = await peer.create()
  await peer.run(own, fresh('1 + 1'))
  return own
}

process.on('message', async ({ id, command, args }) => {
  try {
    process.send({ id, ok: true, result: await handlers[command](args ?? {}) })
  } catch (error) {
    process.send({ id, ok: false, error: String(error?.stack ?? error) })
  }
})
