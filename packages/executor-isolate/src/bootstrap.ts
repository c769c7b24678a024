/**
 * Source of the script that prepares a session's context, run once per isolate before any other
 * code with `context.evalClosure(BOOTSTRAP_SOURCE, [log, callTool, setup])`. `$0` and `$1` are
 * `ivm.Reference`s to host functions and `$2` the copied `SandboxSetup`: they live only in this
 * closure, so sandbox code can never reach a `Reference`. It returns the functions the host drives
 * the session with (reached from the host through a `Reference`, never from sandbox code).
 *
 * Everything the code can observe is made here from the isolate's own intrinsics, captured before
 * any sandbox code runs: the console (formatting values in the format the executor contract pins),
 * tools as async functions, `finalAnswer`, `require` and the import function. Values leave only
 * as plain copies built by `copyOut`, which reads own data properties through descriptors, so no
 * getter, proxy trap or `then` runs on the way out.
 *
 * A proxy cannot be recognized from JavaScript without running its traps, so the global `Proxy` is
 * replaced by a wrapper that records every proxy it makes; the isolate has no other way to make one.
 */
export const BOOTSTRAP_SOURCE = String.raw`
'use strict'
const logRef = $0
const toolRef = $1
const setup = $2

const Object_ = Object
const { getPrototypeOf, getOwnPropertyDescriptor, getOwnPropertyNames, getOwnPropertySymbols, defineProperty, freeze, create, keys: objectKeys, hasOwn } = Object_
const { apply, construct } = Reflect
const { isArray } = Array
const isError = Error.isError
const ObjectPrototype = Object_.prototype
const PromisePrototype = Promise.prototype
const Promise_ = Promise
const promiseResolve = Promise.resolve.bind(Promise)
const promiseReject = Promise.reject.bind(Promise)
const Map_ = Map
const Set_ = Set
const Date_ = Date
const Uint8Array_ = Uint8Array
const WeakMap_ = WeakMap
const WeakSet_ = WeakSet
const String_ = String
const RegExp_ = RegExp
const errorConstructors = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError }
const uncurry = (fn) => (self, ...args) => apply(fn, self, args)
const dateGetTime = uncurry(Date.prototype.getTime)
const dateToISOString = uncurry(Date.prototype.toISOString)
const mapSize = uncurry(getOwnPropertyDescriptor(Map.prototype, 'size').get)
const mapEntries = uncurry(Map.prototype.entries)
const mapSet = uncurry(Map.prototype.set)
const mapGet = uncurry(Map.prototype.get)
const mapHas = uncurry(Map.prototype.has)
const setSize = uncurry(getOwnPropertyDescriptor(Set.prototype, 'size').get)
const setValues = uncurry(Set.prototype.values)
const setAdd = uncurry(Set.prototype.add)
const weakMapGet = uncurry(WeakMap.prototype.get)
const weakMapSet = uncurry(WeakMap.prototype.set)
const weakSetAdd = uncurry(WeakSet.prototype.add)
const weakSetHas = uncurry(WeakSet.prototype.has)
const weakSetDelete = uncurry(WeakSet.prototype.delete)
const lastIndexOf = uncurry(String.prototype.lastIndexOf)
const indexOf = uncurry(String.prototype.indexOf)
const typedArrayPrototype = getPrototypeOf(Uint8Array.prototype)
const typedArrayTag = uncurry(getOwnPropertyDescriptor(typedArrayPrototype, Symbol.toStringTag).get)
const typedArrayLength = uncurry(getOwnPropertyDescriptor(typedArrayPrototype, 'length').get)
const regExpSource = uncurry(getOwnPropertyDescriptor(RegExp.prototype, 'source').get)
const regExpToString = uncurry(RegExp.prototype.toString)
const functionToString = uncurry(Function.prototype.toString)
const symbolToString = uncurry(Symbol.prototype.toString)
const stringSlice = uncurry(String.prototype.slice)
const stringStartsWith = uncurry(String.prototype.startsWith)
const charCodeAt = uncurry(String.prototype.charCodeAt)
const arrayPush = uncurry(Array.prototype.push)
const arrayJoin = uncurry(Array.prototype.join)
const arrayIncludes = uncurry(Array.prototype.includes)
const regExpExec = uncurry(RegExp.prototype.exec)
const jsonStringify = JSON.stringify
const jsonParse = JSON.parse
const numberIsNaN = Number.isNaN
const objectIs = Object_.is
const identifier = /^[A-Za-z_$][\w$]*$/
const MAX_LOG_DEPTH = 6

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

// ---- brand checks (internal slots only, never user code) -----------------------------------------

const brand = (check) => (value) => { try { check(value); return true } catch { return false } }
const isDate = brand(dateGetTime)
const isMap = brand(mapSize)
const isSet = brand(setSize)
const isRegExp = brand(regExpSource)

// ---- data out -----------------------------------------------------------------------------------

class Refusal { constructor(message, oversized) { this.message = message; this.oversized = oversized } }
const childPath = (path, key) =>
  typeof key === 'number' ? path + '[' + key + ']' : regExpExec(identifier, key) !== null ? path + '.' + key : path + '[' + jsonStringify(key) + ']'

function readThroughChain(object, key, path) {
  for (let target = object; target !== null; target = getPrototypeOf(target)) {
    if (isProxy(target)) throw new Refusal(path + ': proxies cannot cross the boundary')
    const descriptor = getOwnPropertyDescriptor(target, key)
    if (descriptor === undefined) continue
    if (!hasOwn(descriptor, 'value')) throw new Refusal(path + ': getters and setters cannot cross the boundary; pass the value itself')
    return descriptor.value
  }
  return undefined
}

function readErrorText(object, key, path) {
  const value = readThroughChain(object, key, path)
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    throw new Refusal(childPath(path, key) + ': an error\'s ' + key + ' must be a string; pass the text itself')
  }
  return String_(value)
}

/**
 * Copies a sandbox value into plain data for the host, refusing whatever is not data, charging
 * bytes as the host's toData does so an oversized value is refused before it is copied out.
 */
function copyOut(value, rootName) {
  const ancestors = new WeakSet_()
  const inPath = []
  let bytes = 0
  const charge = (path, amount) => {
    bytes += amount
    if (bytes > setup.maxValueBytes) {
      throw new Refusal(path + ': the value is larger than the limit of ' + setup.maxValueBytes + ' bytes; pass less data', true)
    }
  }
  const copy = (input, path, depth) => {
    switch (typeof input) {
      case 'undefined':
      case 'boolean': charge(path, 1); return input
      case 'number':
      case 'bigint': charge(path, 8); return input
      case 'string': charge(path, input.length * 2 + 2); return input
      case 'symbol': throw new Refusal(path + ': symbols cannot cross the boundary; use a string')
      case 'function': throw new Refusal(path + ': functions cannot cross the boundary; pass data instead')
    }
    if (input === null) { charge(path, 1); return null }
    if (isProxy(input)) throw new Refusal(path + ': proxies cannot cross the boundary; pass a plain copy')
    if (depth > 100) throw new Refusal(path + ': the value is nested deeper than 100 levels')
    if (weakSetHas(ancestors, input)) throw new Refusal(path + ': the value contains a cycle; pass a tree')
    if (isDate(input)) { charge(path, 8); return new Date_(dateGetTime(input)) }
    const tag = typedArrayTag(input)
    if (tag === 'Uint8Array') {
      const length = typedArrayLength(input)
      charge(path, length)
      return new Uint8Array_(input)
    }
    if (isError(input)) {
      const name = readErrorText(input, 'name', path)
      const message = readErrorText(input, 'message', path)
      charge(path, name.length * 2 + 2 + message.length * 2 + 2)
      return { name, message }
    }
    weakSetAdd(ancestors, input)
    try {
      if (isMap(input)) {
        const result = new Map_()
        let index = 0
        for (const [key, entry] of mapEntries(input)) {
          mapSet(result, copy(key, path + '.<key ' + index + '>', depth + 1), copy(entry, path + '.<value ' + index + '>', depth + 1))
          index++
        }
        return result
      }
      if (isSet(input)) {
        const result = new Set_()
        let index = 0
        for (const entry of setValues(input)) setAdd(result, copy(entry, path + '.<entry ' + index++ + '>', depth + 1))
        return result
      }
      if (isArray(input)) {
        const length = getOwnPropertyDescriptor(input, 'length').value
        charge(path, 8 + length)
        const result = []
        for (let index = 0; index < length; index++) {
          const itemPath = childPath(path, index)
          defineProperty(result, index, { value: copy(readThroughChain(input, String_(index), itemPath), itemPath, depth + 1), writable: true, enumerable: true, configurable: true })
        }
        return result
      }
      if (tag !== undefined) throw new Refusal(path + ': a binary view other than Uint8Array cannot cross the boundary; convert it to a plain object, array or string')
      const prototype = getPrototypeOf(input)
      if (prototype === PromisePrototype) throw new Refusal(path + ': promises cannot cross the boundary; await the value first')
      if (prototype !== null && prototype !== ObjectPrototype) {
        const kind = isRegExp(input) ? 'a RegExp' : 'a class instance'
        throw new Refusal(path + ': ' + kind + ' cannot cross the boundary; convert it to a plain object, array or string')
      }
      if (getOwnPropertySymbols(input).length > 0) throw new Refusal(path + ': symbol-keyed properties cannot cross the boundary')
      const result = {}
      for (const key of getOwnPropertyNames(input)) {
        const descriptor = getOwnPropertyDescriptor(input, key)
        const keyPath = childPath(path, key)
        if (!hasOwn(descriptor, 'value')) throw new Refusal(keyPath + ': getters and setters cannot cross the boundary; pass the value itself')
        if (!descriptor.enumerable) continue
        if (key === 'then' && typeof descriptor.value === 'function') throw new Refusal(keyPath + ': thenables cannot cross the boundary; await the value first')
        charge(keyPath, key.length * 2 + 2)
        defineProperty(result, key, { value: copy(descriptor.value, keyPath, depth + 1), writable: true, enumerable: true, configurable: true })
      }
      return result
    } finally {
      weakSetDelete(ancestors, input)
    }
  }
  return copy(value, rootName, 0)
}

// ---- errors ---------------------------------------------------------------------------------------

/** Errors made here for the sandbox, with the run error they stand for if left uncaught. */
const knownErrors = new WeakMap_()
/** Thrown by finalAnswer, and by console, tools and finalAnswer once the run has its answer. */
const finalSentinel = freeze(create(null))

function sandboxError(name, message, runError) {
  const Constructor = hasOwn(errorConstructors, name) ? errorConstructors[name] : Error
  const error = new Constructor(message)
  if (error.name !== name) defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false })
  if (runError !== undefined) weakMapSet(knownErrors, error, runError)
  return error
}

function safeRead(object, key) {
  try { return readThroughChain(object, key, key) } catch { return undefined }
}

function describeThrown(error, filename) {
  const isObject = (typeof error === 'object' && error !== null) || typeof error === 'function'
  const known = isObject ? weakMapGet(knownErrors, error) : undefined
  let position
  if (isObject && !isProxy(error) && isError(error)) {
    let stack
    try { stack = error.stack } catch {}
    if (typeof stack === 'string') {
      const at = indexOf(stack, filename + ':')
      if (at !== -1) {
        const match = regExpExec(/^:(\d+):(\d+)/, stringSlice(stack, at + filename.length))
        if (match !== null) position = { line: +match[1], column: +match[2], inScript: true }
      }
    }
  }
  if (known !== undefined) return { ...known, ...position }
  if (isObject && !isProxy(error) && isError(error)) {
    const name = safeRead(error, 'name')
    const message = safeRead(error, 'message')
    return { kind: 'runtime', name: name === undefined ? 'Error' : String_(name), message: message === undefined ? '' : String_(message), ...position }
  }
  return { kind: 'runtime', name: 'Error', message: formatArguments([error]) }
}

// ---- console --------------------------------------------------------------------------------------

function formatArguments(args) {
  const parts = []
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]
    arrayPush(parts, typeof arg === 'string' ? arg : inspect(arg, 0, new WeakSet_(), true))
  }
  return arrayJoin(parts, ' ')
}

function inspect(value, depth, ancestors, topLevel) {
  switch (typeof value) {
    case 'string': return jsonStringify(value)
    case 'number': return objectIs(value, -0) ? '-0' : String_(value)
    case 'bigint': return String_(value) + 'n'
    case 'symbol': return symbolToString(value)
    case 'undefined':
    case 'boolean': return String_(value)
    case 'function': {
      if (isProxy(value)) return '[Function (anonymous)]'
      const descriptor = getOwnPropertyDescriptor(value, 'name')
      const name = descriptor !== undefined && hasOwn(descriptor, 'value') ? descriptor.value : undefined
      const label = typeof name === 'string' && name !== '' ? name : '(anonymous)'
      let isClass = false
      try { isClass = stringStartsWith(functionToString(value), 'class') } catch {}
      return isClass ? '[class ' + label + ']' : label === '(anonymous)' ? '[Function (anonymous)]' : '[Function: ' + label + ']'
    }
  }
  if (value === null) return 'null'
  if (isProxy(value)) return '[Proxy]'
  if (weakSetHas(ancestors, value)) return '[Circular]'
  if (isError(value)) {
    const name = safeRead(value, 'name')
    const message = safeRead(value, 'message')
    const nameText = name === undefined ? 'Error' : String_(name)
    const messageText = message === undefined ? '' : String_(message)
    const text = messageText === '' ? nameText : nameText + ': ' + messageText
    return topLevel ? text : '[' + text + ']'
  }
  if (isDate(value)) return numberIsNaN(dateGetTime(value)) ? 'Invalid Date' : dateToISOString(value)
  if (isRegExp(value)) return regExpToString(value)
  if (depth >= MAX_LOG_DEPTH) return isArray(value) ? '[Array]' : '[Object]'
  weakSetAdd(ancestors, value)
  try {
    const child = (entry) => inspect(entry, depth + 1, ancestors, false)
    if (isMap(value)) {
      const entries = []
      for (const [key, entry] of mapEntries(value)) arrayPush(entries, child(key) + ' => ' + child(entry))
      return entries.length === 0 ? 'Map(0) {}' : 'Map(' + entries.length + ') { ' + arrayJoin(entries, ', ') + ' }'
    }
    if (isSet(value)) {
      const entries = []
      for (const entry of setValues(value)) arrayPush(entries, child(entry))
      return entries.length === 0 ? 'Set(0) {}' : 'Set(' + entries.length + ') { ' + arrayJoin(entries, ', ') + ' }'
    }
    const tag = typedArrayTag(value)
    if (tag !== undefined) {
      const length = typedArrayLength(value)
      const items = []
      for (let index = 0; index < length; index++) arrayPush(items, inspect(value[index], depth + 1, ancestors, false))
      return tag + '(' + length + ') [' + arrayJoin(items, ', ') + ']'
    }
    if (isArray(value)) {
      const items = []
      const length = getOwnPropertyDescriptor(value, 'length').value
      for (let index = 0; index < length; index++) arrayPush(items, describeProperty(value, String_(index), child))
      return '[' + arrayJoin(items, ', ') + ']'
    }
    const entries = []
    for (const key of objectKeys(value)) {
      arrayPush(entries, (regExpExec(identifier, key) !== null ? key : jsonStringify(key)) + ': ' + describeProperty(value, key, child))
    }
    const body = entries.length === 0 ? '{}' : '{ ' + arrayJoin(entries, ', ') + ' }'
    const prefix = classPrefix(value)
    return prefix === '' ? body : prefix + ' ' + body
  } finally {
    weakSetDelete(ancestors, value)
  }
}

function describeProperty(object, key, child) {
  const descriptor = getOwnPropertyDescriptor(object, key)
  if (descriptor === undefined) return 'undefined'
  if (hasOwn(descriptor, 'value')) return child(descriptor.value)
  if (descriptor.get && descriptor.set) return '[Getter/Setter]'
  return descriptor.get ? '[Getter]' : '[Setter]'
}

function classPrefix(object) {
  const prototype = getPrototypeOf(object)
  if (prototype === null || prototype === ObjectPrototype || isProxy(prototype)) return ''
  const constructorDescriptor = getOwnPropertyDescriptor(prototype, 'constructor')
  const constructor = constructorDescriptor === undefined ? undefined : constructorDescriptor.value
  if (typeof constructor !== 'function' || isProxy(constructor)) return ''
  const nameDescriptor = getOwnPropertyDescriptor(constructor, 'name')
  const name = nameDescriptor === undefined ? undefined : nameDescriptor.value
  return typeof name === 'string' ? name : ''
}

/** UTF-8 length of a string, as Buffer.byteLength counts it (a lone surrogate is 3 bytes). */
function utf8Length(text) {
  let bytes = 0
  for (let index = 0; index < text.length; index++) {
    const code = charCodeAt(text, index)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length && (charCodeAt(text, index + 1) & 0xfc00) === 0xdc00) { bytes += 4; index++ }
    else bytes += 3
  }
  return bytes
}

/** The longest prefix of text within budget UTF-8 bytes, never splitting a character. */
function cutToBytes(text, budget) {
  let used = 0
  let end = 0
  for (const character of text) {
    const size = utf8Length(character)
    if (used + size > budget) break
    used += size
    end += character.length
  }
  return stringSlice(text, 0, end)
}

let current
const send = (state, line) => logRef.applyIgnored(undefined, [state.runId, line], { arguments: { copy: true } })

function print(args) {
  const state = current
  if (state === undefined || state.finished || state.final !== undefined || state.truncated) return
  const line = formatArguments(args)
  const limit = setup.maxOutputBytes
  const bytes = utf8Length(line) + 1
  if (state.outputBytes + bytes <= limit) {
    state.outputBytes += bytes
    send(state, line)
    return
  }
  state.truncated = true
  const cut = cutToBytes(line, limit - state.outputBytes - 1)
  if (cut !== '') send(state, cut)
  send(state, '[output truncated: the code printed more than maxOutputBytes (' + limit + ' bytes); print less, e.g. a summary or a slice]')
}

// ---- globals ----------------------------------------------------------------------------------------

const define = (name, value) => defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false })
const log = freeze({ log(...args) { print(args) } }.log)
define('console', freeze({ log, info: log, warn: log, error: log, debug: log }))

const never = () => new Promise_(() => {})

async function callTool(name, args) {
  const state = current
  if (state === undefined || state.finished || state.final !== undefined) throw finalSentinel
  let copied
  try {
    copied = copyOut(args === undefined ? {} : args, 'args')
  } catch (error) {
    if (!(error instanceof Refusal)) throw error
    const message = 'Tool ' + name + ' was called with arguments that cannot be passed to it: ' + error.message + '.'
    throw sandboxError('DataBoundaryError', message, { kind: 'tool', name: 'DataBoundaryError', tool: name, message })
  }
  const outcome = await toolRef.apply(undefined, [state.runId, name, copied], { arguments: { copy: true }, result: { promise: true, copy: true } })
  // The run ended while the call was out (deadline, abort, finalAnswer): nothing after it may run.
  if (state.finished || state !== current) return never()
  if (state.final !== undefined) throw finalSentinel
  if (outcome.ok) return outcome.value
  throw sandboxError(outcome.error.name, outcome.error.message, outcome.error)
}

for (const name of setup.toolNames) {
  define(name, freeze({ async [name](args) { return await callTool(name, args) } }[name]))
}

define('finalAnswer', freeze(function finalAnswer(value) {
  const state = current
  if (state === undefined || state.finished || state.final !== undefined) throw finalSentinel
  let answer
  try {
    answer = { value: copyOut(value, 'answer') }
  } catch (error) {
    if (!(error instanceof Refusal)) throw error
    if (!error.oversized) throw sandboxError('DataBoundaryError', 'finalAnswer was given a value that cannot be passed on: ' + error.message + '.')
    answer = { oversized: true }
  }
  state.final = answer
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
    throw sandboxError('Error', message, { kind: 'forbidden', name: 'ForbiddenError', message })
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
  async run(runId, action, filename) {
    const state = { runId, outputBytes: 0, truncated: false, finished: false, final: undefined }
    current = state
    try {
      let value
      try {
        value = await action()
      } catch (error) {
        if (state.final === undefined) return { type: 'error', error: describeThrown(error, filename) }
      }
      if (state.final !== undefined) {
        return state.final.oversized ? { type: 'oversized', what: 'answer' } : { type: 'final', answer: state.final.value }
      }
      try {
        return { type: 'value', value: copyOut(value, 'value') }
      } catch (error) {
        if (!(error instanceof Refusal)) throw error
        if (error.oversized) return { type: 'oversized', what: 'value' }
        const message = 'The last value of the code cannot be returned: ' + error.message + '.'
        return { type: 'error', error: { kind: 'runtime', name: 'DataBoundaryError', message } }
      }
    } finally {
      state.finished = true
    }
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
`
