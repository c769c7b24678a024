// Peers: how each sandbox creates a context, runs a source string to a value, and is disposed.
// Every peer runs the same expression source and must return the same value as native V8.
import vm from 'node:vm'

const unlimited = {
  timeoutMs: 600_000,
  maxOperations: Number.POSITIVE_INFINITY,
  maxValueBytes: 64 * 1024 * 1024,
}

/** Unwraps an executor outcome into its value, failing loudly on anything else. */
function valueOf(outcome) {
  if (outcome.type === 'value') return outcome.value
  if (outcome.type === 'error') throw new Error(`${outcome.error.name}: ${outcome.error.message}`)
  throw new Error(`unexpected outcome ${outcome.type}`)
}

/** A peer that is an airlock executor: one session per sandbox, runs checked for a value. */
function executorPeer(label, makeExecutor, limits = {}) {
  return {
    label,
    async load() {
      this.executor = await makeExecutor()
    },
    create() {
      return this.executor.createSession({ limits: { ...unlimited, ...limits } })
    },
    async run(session, source) {
      return valueOf(await session.run(source))
    },
    dispose: (session) => session.dispose(),
    async close() {
      await this.executor.close?.()
    },
  }
}

export const peers = {
  vm: {
    label: 'native V8 (node:vm)',
    async load() {},
    create: () => vm.createContext({}),
    run: (context, source) => vm.runInContext(source, context),
    dispose() {},
  },
  'isolated-vm': {
    label: 'isolated-vm (raw)',
    async load() {
      this.ivm = (await import('isolated-vm')).default
    },
    async create() {
      const isolate = new this.ivm.Isolate({ memoryLimit: 512 })
      return { isolate, context: await isolate.createContext() }
    },
    // Entered asynchronously, as an executor must to bound work after an await.
    run: ({ context }, source) => context.eval(source, { copy: true }),
    dispose: ({ isolate }) => isolate.dispose(),
  },
  quickjs: {
    label: 'quickjs-emscripten',
    async load() {
      const { getQuickJS } = await import('quickjs-emscripten')
      this.quickjs = await getQuickJS()
    },
    create() {
      const runtime = this.quickjs.newRuntime()
      runtime.setMemoryLimit(512 * 1024 * 1024)
      runtime.setMaxStackSize(1024 * 1024)
      return runtime.newContext()
    },
    run(context, source) {
      const handle = context.unwrapResult(context.evalCode(source))
      try {
        return context.dump(handle)
      } finally {
        handle.dispose()
      }
    },
    dispose(context) {
      const { runtime } = context
      context.dispose()
      runtime.dispose()
    },
  },
  sval: {
    label: 'sval 0.6.12',
    async load() {
      this.Sval = (await import('sval')).default
    },
    create() {
      return new this.Sval({ ecmaVer: 'latest', sourceType: 'script', sandBox: true })
    },
    run(interpreter, source) {
      interpreter.run(`exports.result = ${source}`)
      return interpreter.exports.result
    },
    dispose() {},
  },
  'airlock-local': executorPeer('@airlock/executor-local', async () => {
    const { createLocalExecutor } = await import('@airlock/executor-local')
    return createLocalExecutor()
  }),
  // Measured only when named: after each new session it boots a spare worker in the background
  // (about 60 ms of CPU), which would land on the peers timed meanwhile.
  'airlock-local-worker': {
    ...executorPeer('@airlock/executor-local (worker thread)', async () => {
      const { createLocalExecutor } = await import('@airlock/executor-local')
      return createLocalExecutor({ thread: 'worker' })
    }),
    onlyWhenNamed: true,
  },
  'airlock-isolate': executorPeer(
    '@airlock/executor-isolate (process)',
    async () => {
      const { createIsolateExecutor } = await import('@airlock/executor-isolate')
      return createIsolateExecutor()
    },
    { memoryMb: 512 },
  ),
}
