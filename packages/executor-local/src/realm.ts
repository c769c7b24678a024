import vm from 'node:vm'

// Sandbox values are untyped by nature: the interpreter handles them as `any` internally and
// narrows with `typeof` where it matters. Nothing typed `any` leaves the package's public API.
// oxlint-disable-next-line typescript/no-explicit-any
export type Value = any

/**
 * Host-side hooks the realm's trusted factories close over. They are host functions, but sandbox
 * code can never reach them: they are only held in closures of the factory code below, which
 * never hands them out.
 */
export interface RealmHooks {
  /** Resumes a host generator that runs an interpreted generator or async body. */
  readonly resume: (state: Value, mode: number, value: Value) => Value
  /**
   * Calls a host implementation for the realm: converts host errors to realm errors before realm
   * code (a promise job, a built-in's callback) can see them, and restores the call depth.
   */
  readonly guard: (impl: Value, self: Value, args: Value, newTarget: Value, superCall?: Value) => Value
}

/**
 * The trusted realm-side code: compiled once per process, run once per realm, strict, written by
 * us. It builds the functions interpreted code sees (so they are real functions of the sandbox
 * realm, with the sandbox's `Function.prototype`), drives generators and async functions with the
 * realm's own `await` and `yield*` (so promises are sandbox promises with spec microtask order),
 * and captures the intrinsics the interpreter uses before any sandbox code can replace them.
 */
const REALM_SOURCE = String.raw`(function (hooks) {
  'use strict'
  const resume = hooks.resume
  const guard = hooks.guard
  // No stack traces: frames would show the interpreter's host functions and file paths, and a
  // prepareStackTrace hook would receive CallSite objects of host frames.
  Object.defineProperty(Error, 'stackTraceLimit', { value: 0, writable: false, enumerable: false, configurable: false })
  Object.defineProperty(Error, 'prepareStackTrace', { get() { return undefined }, set(_) {}, enumerable: false, configurable: false })
  const { defineProperty, setPrototypeOf, getPrototypeOf, freeze, create } = Object
  const ObjectPrototype = Object.prototype
  const GeneratorFunctionPrototype = getPrototypeOf(function* () {})
  const GeneratorPrototype = GeneratorFunctionPrototype.prototype
  const AsyncFunctionPrototype = getPrototypeOf(async function () {})
  const AsyncGeneratorFunctionPrototype = getPrototypeOf(async function* () {})
  const AsyncGeneratorPrototype = AsyncGeneratorFunctionPrototype.prototype
  const isObject = (v) => (typeof v === 'object' && v !== null) || typeof v === 'function'
  // Realm code never iterates realm arrays with for-of or spread: sandbox code can replace
  // Array.prototype[Symbol.iterator] and %ArrayIteratorPrototype%.next. Loops go by index, and a
  // list spread into super() goes through an iterator of ours.
  const ownKeys = Reflect.ownKeys
  // Constructors the helpers below use, captured: sandbox code can rebind the globals.
  const { Object: ObjectConstructor, Promise: PromiseConstructor, RegExp: RegExpConstructor, Map: MapConstructor, Set: SetConstructor, Date: DateConstructor, Uint8Array: BytesConstructor } = globalThis
  const getOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor
  const promiseThenMethod = Promise.prototype.then
  const promiseResolveMethod = Promise.resolve
  const listIterable = (list) => ({
    [Symbol.iterator]() {
      let i = 0
      return { next: () => (i < list.length ? { value: list[i++], done: false } : { value: undefined, done: true }) }
    },
  })

  // ---- generators: a realm generator delegates with yield* to an iterator over the host body ----
  const innerGenerator = function* (iterator) { return yield* iterator }
  const syncIterator = (state) => ({
    next(v) { const r = resume(state, 0, v); return { value: r.value, done: r.done } },
    throw(e) { const r = resume(state, 1, e); return { value: r.value, done: r.done } },
    return(v) { const r = resume(state, 2, v); return { value: r.value, done: r.done } },
    [Symbol.iterator]() { return this },
  })
  const innerAsyncGenerator = async function* (iterator) { return yield* iterator }
  // The host body yields { await: true, value } for await and { await: false, value } for yield.
  const asyncStep = async (state, mode, v) => {
    for (;;) {
      const r = resume(state, mode, v)
      if (r.done) return { value: await r.value, done: true }
      const request = r.value
      if (!request.await) return { value: await request.value, done: false }
      try { v = await request.value; mode = 0 } catch (e) { v = e; mode = 1 }
    }
  }
  const asyncIterator = (state) => ({
    next(v) { return asyncStep(state, 0, v) },
    throw(e) { return asyncStep(state, 1, e) },
    return(v) { return asyncStep(state, 2, v) },
    [Symbol.asyncIterator]() { return this },
  })
  const drive = async function (impl, self, args, newTarget) {
    const state = guard(impl, self, args, newTarget)
    let mode = 0
    let v
    for (;;) {
      const r = resume(state, mode, v)
      if (r.done) return r.value
      try { v = await r.value; mode = 0 } catch (e) { v = e; mode = 1 }
    }
  }

  const makeGenerator = (impl, method) => {
    const f = method
      ? { m(...a) { const o = innerGenerator(syncIterator(guard(impl, this, a, undefined))); setPrototypeOf(o, isObject(f.prototype) ? f.prototype : GeneratorPrototype); return o } }.m
      : { m(...a) { const o = innerGenerator(syncIterator(guard(impl, this, a, undefined))); setPrototypeOf(o, isObject(f.prototype) ? f.prototype : GeneratorPrototype); return o } }.m
    setPrototypeOf(f, GeneratorFunctionPrototype)
    defineProperty(f, 'prototype', { value: create(GeneratorPrototype), writable: true, enumerable: false, configurable: false })
    return f
  }
  const makeAsyncGenerator = (impl) => {
    const f = { m(...a) { const o = innerAsyncGenerator(asyncIterator(guard(impl, this, a, undefined))); setPrototypeOf(o, isObject(f.prototype) ? f.prototype : AsyncGeneratorPrototype); return o } }.m
    setPrototypeOf(f, AsyncGeneratorFunctionPrototype)
    defineProperty(f, 'prototype', { value: create(AsyncGeneratorPrototype), writable: true, enumerable: false, configurable: false })
    return f
  }

  const factories = {
    // kind: 0 function, 1 arrow, 2 method (also getters, setters)
    plain: (impl) => function (...a) { return guard(impl, this, a, new.target) },
    arrow: (impl) => (...a) => guard(impl, undefined, a, undefined),
    method: (impl) => ({ ''(...a) { return guard(impl, this, a, undefined) } })[''],
    // Named variants: the name comes from the property key, as NamedEvaluation would set it.
    namedPlain: (impl, name) => ({ [name]: function (...a) { return guard(impl, this, a, new.target) } })[name],
    namedArrow: (impl, name) => ({ [name]: (...a) => guard(impl, undefined, a, undefined) })[name],
    namedMethod: (impl, name) => ({ [name](...a) { return guard(impl, this, a, undefined) } })[name],
    // Guarded built-ins (natives.ts): a method that declares as many parameters as the original,
    // so its length is right without a redefinition, which would make each one a slow
    // dictionary-mode object. It passes on its strict \`arguments\`, exactly the arguments given
    // (padding them to the declared count would change what the original sees).
    builtin: (impl, name, length) => {
      switch (length) {
        case 0: return ({ [name]() { return guard(impl, this, arguments, undefined) } })[name]
        case 1: return ({ [name](a) { return guard(impl, this, arguments, undefined) } })[name]
        case 2: return ({ [name](a, b) { return guard(impl, this, arguments, undefined) } })[name]
        case 3: return ({ [name](a, b, c) { return guard(impl, this, arguments, undefined) } })[name]
        default: return defineProperty(factories.namedMethod(impl, name), 'length', { value: length, configurable: true })
      }
    },
    asyncFunction: (impl) => { const f = { ''(...a) { return drive(impl, this, a, undefined) } }['']; setPrototypeOf(f, AsyncFunctionPrototype); return f },
    // Passed straight to setPrototypeOf so the arrow stays anonymous (binding it to f would name it).
    asyncArrow: (impl) => setPrototypeOf((...a) => drive(impl, undefined, a, undefined), AsyncFunctionPrototype),
    generator: makeGenerator,
    asyncGenerator: makeAsyncGenerator,
    baseClass: (impl) => class { constructor(...a) { return guard(impl, this, a, new.target) } },
    derivedClass: (impl, Parent) => class extends Parent {
      constructor(...a) { return guard(impl, undefined, a, new.target, (args) => { super(...listIterable(args)); return this }) }
    },
  }

  // ---- proxies: traps only ever receive objects of this realm ----
  // When host code (the interpreter) calls, constructs or assigns through a proxy, V8 creates the
  // trap's argument list or property descriptor in the host realm, whose constructor chain leads
  // to the host Function. Every sandbox proxy therefore gets a handler of ours that copies those
  // into realm objects before the sandbox's trap sees them. Traps are looked up on every call, as
  // the spec does, so a handler changed later still works.
  const RealmProxy = Proxy
  const reflect = create(null)
  const reflectKeys = ownKeys(Reflect)
  for (let i = 0; i < reflectKeys.length; i++) reflect[reflectKeys[i]] = Reflect[reflectKeys[i]]
  const descriptorKeys = ['value', 'writable', 'get', 'set', 'enumerable', 'configurable']
  const hasOwn = Object.hasOwn
  const copyDescriptor = (d) => {
    const copy = {}
    for (let i = 0; i < descriptorKeys.length; i++) {
      const key = descriptorKeys[i]
      if (hasOwn(d, key)) defineProperty(copy, key, { value: d[key], writable: true, enumerable: true, configurable: true })
    }
    return copy
  }
  const copyList = (list) => reflect.apply(arraySlice, list, [])
  const safeHandler = (handler) => {
    if (!isObject(handler)) throw new TypeError('Cannot create proxy with a non-object as target or handler')
    const safe = create(null)
    const forward = (name, convert) => {
      safe[name] = (...args) => {
        const trap = handler[name]
        if (trap == null) return reflect.apply(reflect[name], undefined, args)
        return reflect.apply(trap, handler, convert === undefined ? args : convert(args))
      }
    }
    const plainTraps = ['get', 'set', 'has', 'deleteProperty', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf', 'setPrototypeOf', 'isExtensible', 'preventExtensions']
    for (let i = 0; i < plainTraps.length; i++) forward(plainTraps[i])
    forward('apply', (a) => [a[0], a[1], copyList(a[2])])
    forward('construct', (a) => [a[0], copyList(a[1]), a[2]])
    forward('defineProperty', (a) => [a[0], a[1], copyDescriptor(a[2])])
    return safe
  }
  // The realm's Proxy behind a proxy of ours: same name, length and missing prototype.
  const revocable = RealmProxy.revocable
  defineProperty(RealmProxy, 'revocable', {
    value: { revocable(target, handler) { return reflect.apply(revocable, RealmProxy, [target, safeHandler(handler)]) } }.revocable,
    writable: true, enumerable: false, configurable: true,
  })
  const ProxyConstructor = new RealmProxy(RealmProxy, {
    apply() { throw new TypeError("Constructor Proxy requires 'new'") },
    construct(_, args, newTarget) { return reflect.construct(RealmProxy, [args[0], safeHandler(args[1])], newTarget) },
  })
  defineProperty(globalThis, 'Proxy', { value: ProxyConstructor, writable: true, enumerable: false, configurable: true })

  const mapSetMethod = Map.prototype.set
  const setAddMethod = Set.prototype.add
  const errors = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError }
  const arraySlice = Array.prototype.slice
  const { apply } = Reflect
  return {
    global: globalThis,
    factories,
    errors,
    intrinsics: {
      Object, Array, Function, Promise, RegExp, Symbol, Proxy, Reflect, Date, Map, Set, Uint8Array,
      ObjectPrototype, ArrayPrototype: Array.prototype, FunctionPrototype: Function.prototype,
      StringPrototype: String.prototype, NumberPrototype: Number.prototype, BooleanPrototype: Boolean.prototype,
      SymbolPrototype: Symbol.prototype, BigIntPrototype: BigInt.prototype,
      GeneratorFunctionPrototype, GeneratorPrototype, AsyncFunctionPrototype, AsyncGeneratorFunctionPrototype,
      AsyncGeneratorPrototype, PromisePrototype: Promise.prototype,
      iteratorSymbol: Symbol.iterator, asyncIteratorSymbol: Symbol.asyncIterator,
    },
    helpers: {
      newObject: () => ({}),
      nullObject: () => create(null),
      newArray: () => [],
      // Host lists become realm arrays through the realm's own slice.
      toArray: (list) => apply(arraySlice, list, []),
      arrayOf: (...items) => items,
      strictArguments: function () { return arguments },
      copyRest: (source, excluded) => {
        const target = {}
        if (source == null) return target
        const from = ObjectConstructor(source)
        const keys = ownKeys(from)
        next: for (let k = 0; k < keys.length; k++) {
          const key = keys[k]
          for (let e = 0; e < excluded.length; e++) if (excluded[e] === key) continue next
          const d = getOwnPropertyDescriptor(from, key)
          if (d !== undefined && d.enumerable) defineProperty(target, key, { value: from[key], writable: true, enumerable: true, configurable: true })
        }
        return target
      },
      spreadInto: (target, source) => ({ ...source }),
      copyDataProperties: (target, source) => {
        if (source == null) return target
        const copy = { ...source }
        const keys = ownKeys(copy)
        for (let i = 0; i < keys.length; i++) defineProperty(target, keys[i], { value: copy[keys[i]], writable: true, enumerable: true, configurable: true })
        return target
      },
      templateObject: (cooked, raw) => {
        const rawArray = freeze(apply(arraySlice, raw, []))
        const strings = apply(arraySlice, cooked, [])
        defineProperty(strings, 'raw', { value: rawArray, writable: false, enumerable: false, configurable: false })
        return freeze(strings)
      },
      newRegExp: (pattern, flags) => new RegExpConstructor(pattern, flags),
      newPromise: () => { let resolve, reject; const promise = new PromiseConstructor((a, b) => { resolve = a; reject = b }); return { promise, resolve, reject } },
      promiseResolve: (v) => apply(promiseResolveMethod, PromiseConstructor, [v]),
      promiseThen: (p, f, r) => apply(promiseThenMethod, p, [f, r]),
      // Awaits a sandbox value with the realm's own await and reports to a host callback, so the
      // host never calls a sandbox \`then\` with host functions.
      settle: (value, done) => {
        (async () => {
          let ok = true
          let result
          try { result = await value } catch (e) { ok = false; result = e }
          done(ok, result)
        })()
      },
      newMap: () => new MapConstructor(),
      newSet: () => new SetConstructor(),
      mapSet: (map, key, value) => { apply(mapSetMethod, map, [key, value]) },
      setAdd: (set, value) => { apply(setAddMethod, set, [value]) },
      newDate: (time) => new DateConstructor(time),
      newBytes: (length) => new BytesConstructor(length),
      freeze,
    },
  }
})`

export interface RealmRecord {
  readonly global: Value
  readonly factories: {
    readonly plain: (impl: Value) => Value
    readonly arrow: (impl: Value) => Value
    readonly method: (impl: Value) => Value
    readonly namedPlain: (impl: Value, name: Value) => Value
    readonly namedArrow: (impl: Value, name: Value) => Value
    readonly namedMethod: (impl: Value, name: Value) => Value
    readonly builtin: (impl: Value, name: string, length: number) => Value
    readonly asyncFunction: (impl: Value) => Value
    readonly asyncArrow: (impl: Value) => Value
    readonly generator: (impl: Value, method: boolean) => Value
    readonly asyncGenerator: (impl: Value) => Value
    readonly baseClass: (impl: Value) => Value
    readonly derivedClass: (impl: Value, parent: Value) => Value
  }
  readonly errors: Readonly<Record<string, Value>>
  readonly intrinsics: Readonly<Record<string, Value>>
  readonly helpers: Readonly<Record<string, Value>>
}

/** A sandbox realm: a `node:vm` context without code generation from strings or wasm. */
export interface Realm extends RealmRecord {
  readonly context: vm.Context
  /** Realm function building an object literal of a given shape, compiled once per shape. */
  objectShape(source: string): (...values: Value[]) => Value
}

/**
 * Compiled realm-side scripts, shared by all realms of the process: a `vm.Script` is code bound to
 * no context, and each run in a realm creates that realm's own functions, so nothing mutable is
 * shared. Building the `vm.Script` again per realm would hash and look up the source each time.
 * Shape sources depend on the literals sandbox code writes, so the cache outlives sessions only
 * up to a total source size: past it, it starts over.
 */
const scripts = new Map<string, vm.Script>()
const MAX_SCRIPT_CHARACTERS = 2 ** 20
let scriptCharacters = 0

function script(source: string): vm.Script {
  let compiled = scripts.get(source)
  if (compiled === undefined) {
    if (scriptCharacters + source.length > MAX_SCRIPT_CHARACTERS) {
      scripts.clear()
      scriptCharacters = 0
    }
    compiled = new vm.Script(source)
    scripts.set(source, compiled)
    scriptCharacters += source.length
  }
  return compiled
}

/**
 * Creates a fresh realm. The shape functions are compiled from templates the compiler writes
 * (keys are JSON-quoted), never from sandbox-provided code.
 */
export function createRealm(hooks: RealmHooks): Realm {
  const context = vm.createContext(vm.constants.DONT_CONTEXTIFY, {
    name: 'airlock local sandbox',
    codeGeneration: { strings: false, wasm: false },
  })
  const raw = (script(REALM_SOURCE).runInContext(context) as (h: RealmHooks) => RealmRecord)(hooks)
  // Host copies: a lookup of a missing key must never reach the realm's Object.prototype, which
  // sandbox code can change (the host's cannot be reached by sandbox code). Plain host objects
  // rather than null-prototype ones, which V8 keeps in slow dictionary mode.
  const own = <T extends object>(value: T): T => ({ ...value })
  const record: RealmRecord = {
    global: raw.global,
    factories: own(raw.factories),
    errors: own(raw.errors),
    intrinsics: own(raw.intrinsics),
    helpers: own(raw.helpers),
  }
  const shapes = new Map<string, (...values: Value[]) => Value>()
  return {
    ...record,
    context,
    objectShape(source) {
      let shape = shapes.get(source)
      if (shape === undefined) {
        shape = script(source).runInContext(context) as (...values: Value[]) => Value
        shapes.set(source, shape)
      }
      return shape
    },
  }
}
