import { sandboxRuntimeSource } from '@airlock/core'

/**
 * Source of the script that prepares a session's context: evaluated once per isolate before any
 * other code, its value is a function the host calls with `(logRef, toolRef, setup)`. `logRef` and
 * `toolRef` are `ivm.Reference`s to host functions and `setup` the copied `SandboxSetup`: they live
 * only in this closure, so sandbox code can never reach a `Reference`. The function returns the
 * functions the host drives the session with (reached from the host through a `Reference`, never
 * from sandbox code). The source is the same for every session, so its compiled code can be cached
 * per process; everything that differs between sessions arrives as arguments.
 *
 * Everything the code can observe is made here from the isolate's own intrinsics, captured before
 * any sandbox code runs: the console, tools as async functions, `finalAnswer`, `require` and the
 * import function. Core's sandbox runtime, embedded as source and created here, formats the console
 * in the format the executor contract pins and copies values out as plain data, reading own data
 * properties through descriptors, so no getter, proxy trap or `then` runs on the way out.
 *
 * A proxy cannot be recognized from JavaScript without running its traps, so the global `Proxy` is
 * replaced by a wrapper that records every proxy it makes; the isolate has no other way to make one.
 */
export const BOOTSTRAP_SOURCE: string = String.raw`(function (logRef, toolRef, setup) {
'use strict'

const { defineProperty, freeze, create, keys: objectKeys, hasOwn } = Object
const { apply, construct } = Reflect
const Promise_ = Promise
const promiseResolve = Promise.resolve.bind(Promise)
const promiseReject = Promise.reject.bind(Promise)
const Map_ = Map
const WeakSet_ = WeakSet
const String_ = String
const uncurry = (fn) => (self, ...args) => apply(fn, self, args)
const mapSet = uncurry(Map.prototype.set)
const mapGet = uncurry(Map.prototype.get)
const mapHas = uncurry(Map.prototype.has)
const weakSetAdd = uncurry(WeakSet.prototype.add)
const weakSetHas = uncurry(WeakSet.prototype.has)
const lastIndexOf = uncurry(String.prototype.lastIndexOf)
const stringSlice = uncurry(String.prototype.slice)
const stringIndexOf = uncurry(String.prototype.indexOf)
const arrayPush = uncurry(Array.prototype.push)
const arrayJoin = uncurry(Array.prototype.join)
const arrayIncludes = uncurry(Array.prototype.includes)
const jsonParse = JSON.parse
// Captured before sandbox code can replace the global: calling it by another name is an indirect
// eval, which compiles a run's script as global code (see run below).
const indirectEval = eval
const SyntaxError_ = SyntaxError
// Sandbox code may rebind the name globalThis; the run's names must land on the real global.
const global = globalThis

// ---- proxies ------------------------------------------------------------------------------------

const proxies = new WeakSet_()
const RealProxy = Proxy
const track = (proxy) => { weakSetAdd(proxies, proxy); return proxy }
const revocable = { revocable(target, handler) {
  const result = RealProxy.revocable(target, handler)
  track(result.proxy)
  return result
} }.revocable
const TrackedProxy = new RealProxy(RealProxy, {
  construct: (target, args, newTarget) => track(construct(target, args, newTarget)),
  get: (target, key, receiver) => (key === 'revocable' ? revocable : Reflect.get(target, key, receiver)),
})
defineProperty(globalThis, 'Proxy', { value: TrackedProxy, writable: true, configurable: true, enumerable: false })
const isProxy = (value) => weakSetHas(proxies, value)

// WebAssembly memory is not counted against the isolate's memoryLimit.
delete globalThis.WebAssembly

// ---- core's sandbox runtime: console format and data boundary ------------------------------------

const runtime = (${sandboxRuntimeSource()})({ isProxy })
const finalSentinel = freeze(create(null))
let current
// Entries are sent as they are printed, apart from the run's result, which isolated-vm may deliver
// before them: the result says how many were sent, so the host can wait for the last ones.
const send = (state, line) => {
  state.sent++
  logRef.applyIgnored(undefined, [state.runId, line])
}

function print(args) {
  const state = current
  if (state === undefined || state.finished || state.final !== undefined) return
  state.print(args)
}

// ---- globals ----------------------------------------------------------------------------------------

const define = (name, value) => defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false })
const log = freeze({ log(...args) { print(args) } }.log)
define('console', freeze({ log, info: log, warn: log, error: log, debug: log }))

const never = () => new Promise_(() => {})

async function callTool(name, args) {
  const state = current
  if (state === undefined || state.finished || state.final !== undefined) throw finalSentinel
  const copied = runtime.copyToolArgs(name, args, setup.maxValueBytes)
  const outcome = await toolRef.apply(undefined, [state.runId, name, copied], { arguments: { copy: true }, result: { promise: true, copy: true } })
  // The run ended while the call was out (deadline, abort, finalAnswer): nothing after it may run.
  if (state.finished || state !== current) return never()
  if (state.final !== undefined) throw finalSentinel
  if (outcome.ok) return outcome.value
  throw runtime.makeError(outcome.error.name, outcome.error.message, outcome.error)
}

for (const name of setup.toolNames) {
  define(name, freeze({ async [name](args) { return await callTool(name, args) } }[name]))
}

define('finalAnswer', freeze(function finalAnswer(value) {
  const state = current
  if (state === undefined || state.finished || state.final !== undefined) throw finalSentinel
  state.final = runtime.copyFinalAnswer(value, setup.maxValueBytes)
  throw finalSentinel
}))

// ---- modules ----------------------------------------------------------------------------------------

const allowed = []
for (const plan of setup.modules) arrayPush(allowed, plan.name)
/** name → { namespace, exports } once loaded. */
const loadedModules = new Map_()
const cjsFiles = new Map_()

function loadModule(specifier, via) {
  const name = String_(specifier)
  if (!arrayIncludes(allowed, name) || !mapHas(loadedModules, name)) {
    const allowlist = allowed.length === 0 ? 'No modules are allowed in this session (the allowlist is empty).' : 'Allowed modules: ' + arrayJoin(allowed, ', ') + '.'
    const message = 'Module "' + name + '" is not on the allowlist, so ' + via + ' cannot load it. ' + allowlist
    throw runtime.makeError('Error', message, { kind: 'forbidden', name: 'ForbiddenError', message })
  }
  const loaded = mapGet(loadedModules, name)
  return via === 'require' ? loaded.exports : loaded.namespace
}

define('require', freeze(function require(specifier) { return loadModule(specifier, 'require') }))
define(setup.importFunction, freeze(function (specifier) {
  try { return promiseResolve(loadModule(specifier, 'import')) } catch (error) { return promiseReject(error) }
}))

function requireFile(id) {
  const file = mapGet(cjsFiles, id)
  if (file.module !== undefined) return file.module.exports
  const module = { exports: {} }
  file.module = module
  if (file.json !== undefined) {
    module.exports = jsonParse(file.json)
    return module.exports
  }
  const localRequire = (specifier) => {
    const key = String_(specifier)
    if (!hasOwn(file.resolutions, key)) {
      throw new Error('Cannot find module "' + key + '" from ' + file.filename + ': allowlisted packages can only require their own files and pure-JS dependencies, by literal specifier.')
    }
    return requireFile(file.resolutions[key])
  }
  const dirname = stringSlice(file.filename, 0, lastIndexOf(file.filename, '/'))
  apply(file.factory, module.exports, [module.exports, localRequire, module, file.filename, dirname])
  return module.exports
}

// ---- variables --------------------------------------------------------------------------------------

for (const name of objectKeys(setup.variables)) {
  defineProperty(globalThis, name, { value: setup.variables[name], writable: true, enumerable: true, configurable: true })
}

// ---- the host's handles ----------------------------------------------------------------------------

return freeze({
  // The run's script is compiled here, inside the same call that runs it: compiling it with a
  // separate synchronous call from the host costs a thread switch per run. A script that does not
  // compile runs nothing and comes back as { syntaxError: true }, for the host to compile it again
  // and report where (an eval SyntaxError has no position).
  async run(runId, script, declaredNames, filename) {
    let action
    try {
      // Compiled first, so a script that does not compile leaves no names behind.
      action = indirectEval(script + '\n//# sourceURL=' + filename)
      // The names come comma-separated; split with captured intrinsics only (String.prototype.split
      // would look up Symbol.split, which sandbox code can define).
      for (let start = 0; start < declaredNames.length;) {
        let end = stringIndexOf(declaredNames, ',', start)
        if (end === -1) end = declaredNames.length
        const name = stringSlice(declaredNames, start, end)
        start = end + 1
        // What a script's 'var name' does: a global that cannot be deleted, unless one exists.
        if (!hasOwn(global, name)) defineProperty(global, name, { value: undefined, writable: true, enumerable: true, configurable: false })
      }
    } catch (error) {
      if (error instanceof SyntaxError_) return { syntaxError: true }
      // A global sandbox code made non-extensible refuses new names, as it refuses a 'var'.
      return { result: { type: 'error', error: runtime.describeThrown(error, filename) }, logLines: 0 }
    }
    const state = {
      runId,
      print: runtime.createLogWriter(setup.maxOutputBytes, (line) => send(state, line), () => send(state, null)),
      finished: false,
      final: undefined,
      sent: 0,
    }
    current = state
    let result
    try {
      let value
      try {
        value = await action()
      } catch (error) {
        if (state.final === undefined) result = { type: 'error', error: runtime.describeThrown(error, filename) }
      }
      result ??= state.final !== undefined ? state.final : runtime.valueResult(value, setup.maxValueBytes)
    } finally {
      state.finished = true
    }
    return { result, logLines: state.sent }
  },
  stop(runId) {
    if (current !== undefined && current.runId === runId) current.finished = true
  },
  addCommonJs(id, factory, resolutions, filename) {
    mapSet(cjsFiles, id, { factory, resolutions, filename, module: undefined, json: undefined })
  },
  addJson(id, text, filename) {
    mapSet(cjsFiles, id, { factory: undefined, resolutions: {}, filename, module: undefined, json: text })
  },
  registerCommonJs(name, entry) {
    const exports = requireFile(entry)
    const namespace = create(null)
    if ((typeof exports === 'object' && exports !== null) || typeof exports === 'function') {
      for (const key of objectKeys(exports)) {
        if (key !== 'default') defineProperty(namespace, key, { value: exports[key], enumerable: true })
      }
    }
    defineProperty(namespace, 'default', { value: exports, enumerable: true })
    mapSet(loadedModules, name, { namespace: freeze(namespace), exports })
  },
  registerModule(name, namespace) {
    mapSet(loadedModules, name, { namespace, exports: namespace })
  },
})
})
`
