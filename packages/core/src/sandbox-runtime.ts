import type { RunError } from './executor.js'

// The sandbox side that every executor shares: the console format and the data boundary the
// executor contract pins (see `describeExecutorContract`), as one factory that runs *inside* a
// sandbox. Executors whose sandbox cannot import modules (an isolate, a vm context, a process in a
// remote VM) embed `sandboxRuntimeSource()` and call the factory there; in-process users call
// `createSandboxRuntime` directly.
//
// So that its source text works anywhere, `createSandboxRuntime` refers to nothing outside itself
// (only types are imported) and uses no TypeScript that emits helpers. It captures every built-in
// it calls when it is created, before sandbox code runs, and then calls only those captured
// functions: sandbox code that replaces `Array.prototype.push`, iterators or `JSON` afterwards cannot
// make it run anything else. It never runs a getter, a proxy trap or a `then` of the values it
// reads.

/** An error as the sandbox saw it; `line`/`column` are positions in the run's script when `inScript`. */
export interface ThrownError extends RunError {
  readonly inScript?: boolean
}

/** How a run ended, as the sandbox reports it; the host checks it again (see `toRunEnding`). */
export type SandboxRunResult =
  | { readonly type: 'value'; readonly value: unknown }
  | { readonly type: 'final'; readonly answer: unknown }
  | { readonly type: 'error'; readonly error: ThrownError }
  /** The value or final answer is larger than `maxValueBytes`. */
  | { readonly type: 'oversized'; readonly what: 'value' | 'answer' }

/** How `copyOut` copies; the fields mean what they mean for core's `toData`. */
export interface CopyOutOptions {
  /** How the value is named in problem paths: `value`, `args`, `answer`, ... Default `value`. */
  readonly rootName?: string
  /** Refuse values whose estimated size exceeds this many bytes. Default no limit. */
  readonly maxBytes?: number
  /** Refuse values nested deeper than this. Default 100. */
  readonly maxDepth?: number
  /** Prototypes that mark a plain object in this copy, besides those the runtime knows. */
  readonly plainObjectPrototypes?: readonly object[]
}

/** A value copied out of the sandbox, or why it cannot cross. */
export type CopyOutcome =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false
      /** Where the problem is: `args.items[3]`. */
      readonly path: string
      /** What it is, as `DataBoundaryError` words it: `functions cannot cross the boundary; ...`. */
      readonly problem: string
      /** The value is data, but larger than `maxBytes`. */
      readonly oversized: boolean
    }

/**
 * What the sandbox runtime cannot find out by itself, or not fast, given by the executor that
 * embeds it. The checks are named and behave as in Node's `util.types`, so a Node sandbox passes
 * that object; every check but `isProxy` has a fallback made of the realm's own built-ins.
 */
export interface SandboxRuntimeHooks {
  /**
   * Tells a proxy apart without running its traps, which JavaScript itself cannot: Node's
   * `util.types.isProxy`, or in an isolate a registry filled by a replaced `Proxy`.
   */
  readonly isProxy: (value: object) => boolean
  /**
   * Tells an Error (an object with `[[ErrorData]]`) apart. Defaults to the realm's `Error.isError`,
   * which engines before V8 13.4 (Node < 24) lack.
   */
  readonly isNativeError?: (value: unknown) => boolean
  /** Defaults to having this realm's `Promise.prototype` as prototype, which misses other realms'. */
  readonly isPromise?: (value: unknown) => boolean
  /** Defaults to a brand check with `Date.prototype.getTime` (slower: it throws for non-dates). */
  readonly isDate?: (value: unknown) => boolean
  /** Defaults to a brand check with the `Map.prototype.size` getter. */
  readonly isMap?: (value: unknown) => boolean
  /** Defaults to a brand check with the `Set.prototype.size` getter. */
  readonly isSet?: (value: unknown) => boolean
  /** Defaults to a brand check with the `RegExp.prototype.source` getter. */
  readonly isRegExp?: (value: unknown) => boolean
  /**
   * Prototypes that mark a plain object besides `null` and this realm's `Object.prototype`: the
   * host realm's, when its objects reach a vm context (what `fetch(...).json()` returns there).
   */
  readonly plainPrototypes?: readonly object[]
}

/** The shared sandbox side of an executor; see `createSandboxRuntime`. */
export interface SandboxRuntime {
  /** One console entry: the arguments in the contract's console format, joined by one space. */
  formatLogArgs(args: readonly unknown[]): string
  /**
   * The console of one run: each call formats its arguments into one entry and passes it to
   * `write` while the run's output stays within `maxBytes` (UTF-8, each entry counting one more
   * byte for its newline). The entry that crosses the limit is cut to fit (and written unless
   * nothing of it fits), `truncated` is called once, and later calls are dropped.
   */
  createLogWriter(
    maxBytes: number,
    write: (line: string) => void,
    truncated: () => void,
  ): (args: readonly unknown[]) => void
  /**
   * Copies a value into plain data of this realm, refusing what is not data (functions, symbols,
   * getters, proxies, thenables, promises, class instances, cycles, deep nesting) and estimating
   * its size: the rules of core's `toData`, which is this function on the host.
   */
  copyOut(value: unknown, options?: CopyOutOptions): CopyOutcome
  /**
   * Copies the arguments of a call of `tool` (`undefined` as `{}`) for the host.
   *
   * @throws a `DataBoundaryError` of this realm when they cannot cross; uncaught, it is the
   *   run's `tool` error.
   */
  copyToolArgs(tool: string, args: unknown, maxBytes: number): unknown
  /**
   * Copies the value given to `finalAnswer` for the host; `oversized` when it is larger than
   * `maxBytes` (the run then ends with a `maxValueBytes` limit error).
   *
   * @throws a `DataBoundaryError` of this realm when it is not data.
   */
  copyFinalAnswer(
    answer: unknown,
    maxBytes: number,
  ): Extract<SandboxRunResult, { type: 'final' } | { type: 'oversized' }>
  /** The result of a run whose code completed with `value`. */
  valueResult(
    value: unknown,
    maxBytes: number,
  ): Extract<SandboxRunResult, { type: 'value' } | { type: 'oversized' } | { type: 'error' }>
  /**
   * An error of this realm for sandbox code to see: of the built-in constructor named `name` when
   * there is one, else an `Error` named `name`. With `runError`, `describeThrown` reports that if
   * the code leaves the error uncaught.
   */
  makeError(name: string, message: string, runError?: ThrownError): Error
  /**
   * What the code threw, as the run's error: the `runError` of an error made by `makeError`, the
   * name and message of any other Error, or (`Error`) the console format of a thrown non-Error.
   * An Error thrown from the script named `filename` gets that position (`inScript`).
   */
  describeThrown(error: unknown, filename: string): ThrownError
}

/**
 * Creates the sandbox runtime in the realm it runs in, capturing that realm's built-ins. Call it
 * once, when the sandbox is set up and before any sandbox code runs.
 *
 * @example
 * // in a vm context, through the source text
 * const runtime = vm.runInContext(sandboxRuntimeSource(), context)({ isProxy: types.isProxy })
 * runtime.formatLogArgs(['total', { a: 1 }]) // 'total { a: 1 }'
 */
export function createSandboxRuntime(hooks: SandboxRuntimeHooks): SandboxRuntime {
  'use strict'
  type Uncurried = (self: unknown, ...args: unknown[]) => unknown
  type IteratorStep = { readonly done?: boolean; readonly value: unknown }

  const {
    getPrototypeOf,
    getOwnPropertyDescriptor,
    getOwnPropertyNames,
    getOwnPropertySymbols,
    defineProperty,
    keys: objectKeys,
    hasOwn,
    is: objectIs,
  } = Object
  const { apply } = Reflect
  const { isArray } = Array
  const String_ = String
  const Map_ = Map
  const Set_ = Set
  const Date_ = Date
  const Uint8Array_ = Uint8Array
  const WeakMap_ = WeakMap
  const WeakSet_ = WeakSet
  const TypeError_ = TypeError
  const ObjectPrototype = Object.prototype
  const PromisePrototype = Promise.prototype
  const errorConstructors: Record<string, ErrorConstructor> = {
    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
  }
  const uncurry =
    (fn: unknown): Uncurried =>
    (self, ...args) =>
      apply(fn as (...args: unknown[]) => unknown, self, args)
  const getter = (prototype: object, key: PropertyKey): Uncurried | undefined => {
    const descriptor = getOwnPropertyDescriptor(prototype, key)
    return descriptor === undefined || descriptor.get === undefined ? undefined : uncurry(descriptor.get)
  }
  const dateGetTime = uncurry(Date.prototype.getTime) as (date: unknown) => number
  const dateToISOString = uncurry(Date.prototype.toISOString) as (date: unknown) => string
  const mapSize = getter(Map.prototype, 'size')!
  const mapEntries = uncurry(Map.prototype.entries)
  const mapSet = uncurry(Map.prototype.set)
  const setSize = getter(Set.prototype, 'size')!
  const setValues = uncurry(Set.prototype.values)
  const setAdd = uncurry(Set.prototype.add)
  const mapIteratorNext = uncurry(getPrototypeOf(new Map_().entries()).next) as (
    iterator: unknown,
  ) => IteratorStep
  const setIteratorNext = uncurry(getPrototypeOf(new Set_().values()).next) as (
    iterator: unknown,
  ) => IteratorStep
  const weakMapGet = uncurry(WeakMap.prototype.get)
  const weakMapSet = uncurry(WeakMap.prototype.set)
  const weakMapHas = uncurry(WeakMap.prototype.has)
  const weakSetAdd = uncurry(WeakSet.prototype.add)
  const weakSetHas = uncurry(WeakSet.prototype.has) as (set: unknown, value: unknown) => boolean
  const weakSetDelete = uncurry(WeakSet.prototype.delete)
  const typedArrayPrototype = getPrototypeOf(Uint8Array.prototype) as object
  const typedArrayTag = getter(typedArrayPrototype, Symbol.toStringTag)! as (
    value: unknown,
  ) => string | undefined
  const typedArrayLength = getter(typedArrayPrototype, 'length')! as (value: unknown) => number
  const arrayBufferLength = getter(ArrayBuffer.prototype, 'byteLength')!
  const dataViewLength = getter(DataView.prototype, 'byteLength')!
  const regExpSource = getter(RegExp.prototype, 'source')! as (value: unknown) => string
  // Each flag by its own getter: the `flags` getter reads them through the (replaceable) prototype.
  const regExpFlags: [string, Uncurried][] = []
  for (const [flag, key] of [
    ['d', 'hasIndices'],
    ['g', 'global'],
    ['i', 'ignoreCase'],
    ['m', 'multiline'],
    ['s', 'dotAll'],
    ['u', 'unicode'],
    ['v', 'unicodeSets'],
    ['y', 'sticky'],
  ] as const) {
    const read = getter(RegExp.prototype, key)
    if (read !== undefined) regExpFlags[regExpFlags.length] = [flag, read]
  }
  const functionToString = uncurry(Function.prototype.toString) as (fn: unknown) => string
  const symbolToString = uncurry(Symbol.prototype.toString) as (symbol: unknown) => string
  const stringSlice = uncurry(String.prototype.slice) as (text: string, start: number, end?: number) => string
  const charCodeAt = uncurry(String.prototype.charCodeAt) as (text: string, index: number) => number
  const indexOf = uncurry(String.prototype.indexOf) as (text: string, search: string) => number
  const jsonStringify = JSON.stringify
  const numberIsNaN = Number.isNaN

  const { isProxy } = hooks
  const isError =
    hooks.isNativeError ?? (Error as unknown as { isError?: (value: unknown) => boolean }).isError
  if (isError === undefined) {
    throw new TypeError_('createSandboxRuntime: this engine has no Error.isError; pass hooks.isNativeError.')
  }
  const isPromise = hooks.isPromise ?? ((value: unknown) => getPrototypeOf(value) === PromisePrototype)
  const plainPrototypes: unknown[] = [null, ObjectPrototype]
  const extraPrototypes = hooks.plainPrototypes ?? []
  for (let index = 0; index < extraPrototypes.length; index++) {
    plainPrototypes[plainPrototypes.length] = extraPrototypes[index]
  }
  const isPlainPrototype = (prototype: unknown, extra?: readonly object[]): boolean => {
    for (let index = 0; index < plainPrototypes.length; index++) {
      if (plainPrototypes[index] === prototype) return true
    }
    if (extra !== undefined) {
      for (let index = 0; index < extra.length; index++) if (extra[index] === prototype) return true
    }
    return false
  }

  // Brand checks read internal slots only: they run no code of the value, in any realm.
  const brand = (check: Uncurried, argument?: unknown) => (value: unknown) => {
    try {
      check(value, argument)
      return true
    } catch {
      return false
    }
  }
  const isDate = hooks.isDate ?? brand(dateGetTime as Uncurried)
  const isMap = hooks.isMap ?? brand(mapSize)
  const isSet = hooks.isSet ?? brand(setSize)
  const isRegExp = hooks.isRegExp ?? brand(regExpSource as Uncurried)
  const isWeakMap = brand(weakMapHas, ObjectPrototype)
  const isWeakSet = brand(weakSetHas as Uncurried, ObjectPrototype)
  const isArrayBuffer = brand(arrayBufferLength)
  const isDataView = brand(dataViewLength)

  const isIdentifier = (key: string): boolean => {
    if (key.length === 0) return false
    for (let index = 0; index < key.length; index++) {
      const code = charCodeAt(key, index)
      const letter = (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 36
      if (!letter && (index === 0 || code < 48 || code > 57)) return false
    }
    return true
  }
  const childPath = (path: string, key: string | number): string =>
    typeof key === 'number'
      ? `${path}[${key}]`
      : isIdentifier(key)
        ? `${path}.${key}`
        : `${path}[${jsonStringify(key)}]`

  /** A property read through the prototype chain by descriptors; `proxy` or `accessor` where it cannot be. */
  const proxyFound = {}
  const accessorFound = {}
  const lookup = (object: object, key: string): unknown => {
    for (
      let target: object | null = object;
      target !== null;
      target = getPrototypeOf(target) as object | null
    ) {
      if (isProxy(target)) return proxyFound
      const descriptor = getOwnPropertyDescriptor(target, key)
      if (descriptor === undefined) continue
      return hasOwn(descriptor, 'value') ? descriptor.value : accessorFound
    }
    return undefined
  }
  /** A property as text for messages, never running code; `fallback` when it is not a primitive. */
  const textOf = (object: object, key: string, fallback: string): string => {
    const value = lookup(object, key)
    if (value === undefined || (typeof value === 'object' && value !== null) || typeof value === 'function') {
      return fallback
    }
    return String_(value)
  }

  // ---- console --------------------------------------------------------------------------------

  /** Objects nested this deep below a console argument print as `[Object]` / `[Array]`. */
  const MAX_LOG_DEPTH = 6

  const describeProperty = (object: object, key: string, child: (value: unknown) => string): string => {
    const descriptor = getOwnPropertyDescriptor(object, key)
    if (descriptor === undefined) return 'undefined'
    if (hasOwn(descriptor, 'value')) return child(descriptor.value)
    if (descriptor.get !== undefined && descriptor.set !== undefined) return '[Getter/Setter]'
    return descriptor.get !== undefined ? '[Getter]' : '[Setter]'
  }

  const classPrefix = (object: object): string => {
    const prototype = getPrototypeOf(object) as object | null
    if (isPlainPrototype(prototype) || isProxy(prototype!)) return ''
    const constructorDescriptor = getOwnPropertyDescriptor(prototype!, 'constructor')
    const constructor = constructorDescriptor === undefined ? undefined : constructorDescriptor.value
    if (typeof constructor !== 'function' || isProxy(constructor)) return ''
    const nameDescriptor = getOwnPropertyDescriptor(constructor, 'name')
    const name = nameDescriptor === undefined ? undefined : nameDescriptor.value
    return typeof name === 'string' ? name : ''
  }

  const errorText = (error: object): string => {
    const name = textOf(error, 'name', 'Error')
    const message = textOf(error, 'message', '')
    return message === '' ? name : `${name}: ${message}`
  }

  const inspect = (value: unknown, depth: number, ancestors: WeakSet<object>, topLevel: boolean): string => {
    switch (typeof value) {
      case 'string':
        return jsonStringify(value)
      case 'number':
        return objectIs(value, -0) ? '-0' : String_(value)
      case 'bigint':
        return `${String_(value)}n`
      case 'symbol':
        return symbolToString(value)
      case 'undefined':
      case 'boolean':
        return String_(value)
      case 'function': {
        if (isProxy(value)) return '[Function (anonymous)]'
        const descriptor = getOwnPropertyDescriptor(value, 'name')
        const name = descriptor !== undefined && hasOwn(descriptor, 'value') ? descriptor.value : undefined
        const label = typeof name === 'string' && name !== '' ? name : '(anonymous)'
        let isClass = false
        try {
          isClass = stringSlice(functionToString(value), 0, 5) === 'class'
        } catch {
          // Not a function source to read: print it as a function.
        }
        if (isClass) return `[class ${label}]`
        return label === '(anonymous)' ? '[Function (anonymous)]' : `[Function: ${label}]`
      }
    }
    if (value === null) return 'null'
    const object = value as object
    if (isProxy(object)) return '[Proxy]'
    if (weakSetHas(ancestors, object)) return '[Circular]'
    if (isError(object)) return topLevel ? errorText(object) : `[${errorText(object)}]`
    if (isDate(object)) {
      const time = dateGetTime(object)
      return numberIsNaN(time) ? 'Invalid Date' : dateToISOString(object)
    }
    if (isRegExp(object)) {
      let flags = ''
      for (let index = 0; index < regExpFlags.length; index++) {
        const flag = regExpFlags[index]!
        if (flag[1](object) === true) flags += flag[0]
      }
      return `/${regExpSource(object)}/${flags}`
    }
    if (depth >= MAX_LOG_DEPTH) return isArray(object) ? '[Array]' : '[Object]'
    weakSetAdd(ancestors, object)
    try {
      const child = (entry: unknown) => inspect(entry, depth + 1, ancestors, false)
      if (isMap(object)) {
        let body = ''
        let count = 0
        const iterator = mapEntries(object)
        for (let step = mapIteratorNext(iterator); step.done !== true; step = mapIteratorNext(iterator)) {
          const entry = step.value as readonly [unknown, unknown]
          body += `${count++ === 0 ? '' : ', '}${child(entry[0])} => ${child(entry[1])}`
        }
        return count === 0 ? 'Map(0) {}' : `Map(${count}) { ${body} }`
      }
      if (isSet(object)) {
        let body = ''
        let count = 0
        const iterator = setValues(object)
        for (let step = setIteratorNext(iterator); step.done !== true; step = setIteratorNext(iterator)) {
          body += `${count++ === 0 ? '' : ', '}${child(step.value)}`
        }
        return count === 0 ? 'Set(0) {}' : `Set(${count}) { ${body} }`
      }
      const tag = typedArrayTag(object)
      if (tag !== undefined) {
        const length = typedArrayLength(object)
        let body = ''
        for (let index = 0; index < length; index++) {
          body += `${index === 0 ? '' : ', '}${child((object as unknown as ArrayLike<unknown>)[index])}`
        }
        return `${tag}(${length}) [${body}]`
      }
      if (isArray(object)) {
        const length = getOwnPropertyDescriptor(object, 'length')!.value as number
        let body = ''
        for (let index = 0; index < length; index++) {
          body += `${index === 0 ? '' : ', '}${describeProperty(object, String_(index), child)}`
        }
        return `[${body}]`
      }
      const names = objectKeys(object)
      let body = ''
      for (let index = 0; index < names.length; index++) {
        const key = names[index]!
        const shown = isIdentifier(key) ? key : jsonStringify(key)
        body += `${index === 0 ? '' : ', '}${shown}: ${describeProperty(object, key, child)}`
      }
      const braces = body === '' ? '{}' : `{ ${body} }`
      const prefix = classPrefix(object)
      return prefix === '' ? braces : `${prefix} ${braces}`
    } finally {
      weakSetDelete(ancestors, object)
    }
  }

  const formatLogArgs = (args: readonly unknown[]): string => {
    let line = ''
    for (let index = 0; index < args.length; index++) {
      const arg = args[index]
      const text = typeof arg === 'string' ? arg : inspect(arg, 0, new WeakSet_(), true)
      line += index === 0 ? text : ` ${text}`
    }
    return line
  }

  /** The UTF-8 size of one character starting at `index` (a lone surrogate is 3, as Buffer counts it). */
  const utf8Size = (text: string, index: number): number => {
    const code = charCodeAt(text, index)
    if (code < 0x80) return 1
    if (code < 0x800) return 2
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = charCodeAt(text, index + 1)
      if (next >= 0xdc00 && next <= 0xdfff) return 4
    }
    return 3
  }
  const utf8Length = (text: string): number => {
    let bytes = 0
    for (let index = 0; index < text.length; index++) {
      const size = utf8Size(text, index)
      bytes += size
      if (size === 4) index++
    }
    return bytes
  }
  /** The longest prefix of `text` within `budget` UTF-8 bytes, never splitting a character. */
  const cutToBytes = (text: string, budget: number): string => {
    let used = 0
    let end = 0
    while (end < text.length) {
      const size = utf8Size(text, end)
      if (used + size > budget) break
      used += size
      end += size === 4 ? 2 : 1
    }
    return stringSlice(text, 0, end)
  }

  const createLogWriter = (
    maxBytes: number,
    write: (line: string) => void,
    truncated: () => void,
  ): ((args: readonly unknown[]) => void) => {
    let used = 0
    let full = false
    return (args) => {
      if (full) return
      const line = formatLogArgs(args)
      const bytes = utf8Length(line) + 1
      if (used + bytes <= maxBytes) {
        used += bytes
        write(line)
        return
      }
      full = true
      const cut = cutToBytes(line, maxBytes - used - 1)
      if (cut !== '') write(cut)
      truncated()
    }
  }

  // ---- the data boundary ----------------------------------------------------------------------

  const refused = {}

  const describeKind = (object: object): string => {
    if (isRegExp(object)) return 'a RegExp'
    if (typedArrayTag(object) !== undefined || isArrayBuffer(object) || isDataView(object)) {
      return 'a binary view other than Uint8Array'
    }
    if (isWeakMap(object) || isWeakSet(object)) return 'a WeakMap or WeakSet'
    return 'a class instance'
  }

  const tooLarge = (maxBytes: number) =>
    `the value is larger than the limit of ${maxBytes} bytes; pass less data`

  /** What a primitive counts toward `maxBytes`, or -1 for anything else. */
  const primitiveBytes = (value: unknown): number => {
    switch (typeof value) {
      case 'undefined':
      case 'boolean':
        return 1
      case 'number':
      case 'bigint':
        return 8
      case 'string':
        return value.length * 2 + 2
      default:
        return value === null ? 1 : -1
    }
  }

  const copyOut = (value: unknown, options: CopyOutOptions = {}): CopyOutcome => {
    const { rootName = 'value', maxBytes = Infinity, maxDepth = 100, plainObjectPrototypes } = options
    // A primitive, the usual last value of a run, needs none of the walk's bookkeeping below.
    const rootBytes = primitiveBytes(value)
    if (rootBytes !== -1) {
      if (rootBytes <= maxBytes) return { ok: true, value }
      return { ok: false, path: rootName, problem: tooLarge(maxBytes), oversized: true }
    }
    const ancestors = new WeakSet_()
    let bytes = 0
    let refusal: { path: string; problem: string; oversized: boolean } | undefined
    const refuse = (path: string, problem: string, oversized = false): never => {
      refusal = { path, problem, oversized }
      throw refused
    }
    const charge = (path: string, amount: number) => {
      bytes += amount
      if (bytes > maxBytes) {
        refuse(path, tooLarge(maxBytes), true)
      }
    }
    const read = (object: object, key: string, path: string): unknown => {
      const found = lookup(object, key)
      if (found === proxyFound) refuse(path, 'proxies cannot cross the boundary')
      if (found === accessorFound) {
        refuse(path, 'getters and setters cannot cross the boundary; pass the value itself')
      }
      return found
    }
    /** An error's `name` or `message` as a string; `String()` of an object would run its code. */
    const readErrorText = (error: object, key: 'name' | 'message', path: string): string => {
      const text = read(error, key, path)
      if ((typeof text === 'object' && text !== null) || typeof text === 'function') {
        refuse(childPath(path, key), `an error's ${key} must be a string; pass the text itself`)
      }
      return String_(text)
    }
    const define = (target: object, key: string | number, entry: unknown) => {
      // Define, not assign: no setter on a prototype runs, and a key named __proto__ stays a key.
      defineProperty(target, key, { value: entry, writable: true, enumerable: true, configurable: true })
    }

    const copy = (input: unknown, path: string, depth: number): unknown => {
      const size = primitiveBytes(input)
      if (size !== -1) {
        charge(path, size)
        return input
      }
      switch (typeof input) {
        case 'symbol':
          return refuse(path, 'symbols cannot cross the boundary; use a string')
        case 'function':
          return refuse(path, 'functions cannot cross the boundary; pass data instead')
      }
      const object = input as object
      if (isProxy(object)) refuse(path, 'proxies cannot cross the boundary; pass a plain copy')
      if (depth > maxDepth) refuse(path, `the value is nested deeper than ${maxDepth} levels`)
      if (weakSetHas(ancestors, object)) refuse(path, 'the value contains a cycle; pass a tree')
      if (isDate(object)) {
        charge(path, 8)
        return new Date_(dateGetTime(object))
      }
      if (typedArrayTag(object) === 'Uint8Array') {
        charge(path, typedArrayLength(object))
        return new Uint8Array_(object as Uint8Array)
      }
      if (isError(object)) {
        const name = readErrorText(object, 'name', path)
        const message = readErrorText(object, 'message', path)
        charge(path, name.length * 2 + 2 + message.length * 2 + 2)
        return { name, message }
      }
      weakSetAdd(ancestors, object)
      try {
        if (isMap(object)) {
          const result = new Map_()
          const iterator = mapEntries(object)
          let index = 0
          for (let step = mapIteratorNext(iterator); step.done !== true; step = mapIteratorNext(iterator)) {
            const entry = step.value as readonly [unknown, unknown]
            const key = copy(entry[0], `${path}.<key ${index}>`, depth + 1)
            mapSet(result, key, copy(entry[1], `${path}.<value ${index}>`, depth + 1))
            index++
          }
          return result
        }
        if (isSet(object)) {
          const result = new Set_()
          const iterator = setValues(object)
          let index = 0
          for (let step = setIteratorNext(iterator); step.done !== true; step = setIteratorNext(iterator)) {
            setAdd(result, copy(step.value, `${path}.<entry ${index++}>`, depth + 1))
          }
          return result
        }
        if (isArray(object)) {
          const length = getOwnPropertyDescriptor(object, 'length')!.value as number
          charge(path, 8 + length)
          const result: unknown[] = []
          for (let index = 0; index < length; index++) {
            const itemPath = childPath(path, index)
            define(result, index, copy(read(object, String_(index), itemPath), itemPath, depth + 1))
          }
          return result
        }
        if (isPromise(object)) refuse(path, 'promises cannot cross the boundary; await the value first')
        if (!isPlainPrototype(getPrototypeOf(object), plainObjectPrototypes)) {
          refuse(
            path,
            `${describeKind(object)} cannot cross the boundary; convert it to a plain object, array or string`,
          )
        }
        if (getOwnPropertySymbols(object).length > 0) {
          refuse(path, 'symbol-keyed properties cannot cross the boundary')
        }
        const result = {}
        const names = getOwnPropertyNames(object)
        for (let index = 0; index < names.length; index++) {
          const key = names[index]!
          const descriptor = getOwnPropertyDescriptor(object, key)!
          const keyPath = childPath(path, key)
          if (!hasOwn(descriptor, 'value')) {
            refuse(keyPath, 'getters and setters cannot cross the boundary; pass the value itself')
          }
          if (descriptor.enumerable !== true) continue
          if (key === 'then' && typeof descriptor.value === 'function') {
            refuse(keyPath, 'thenables cannot cross the boundary; await the value first')
          }
          charge(keyPath, key.length * 2 + 2)
          define(result, key, copy(descriptor.value, keyPath, depth + 1))
        }
        return result
      } finally {
        weakSetDelete(ancestors, object)
      }
    }

    try {
      return { ok: true, value: copy(value, rootName, 0) }
    } catch (error) {
      if (error !== refused || refusal === undefined) throw error
      return { ok: false, path: refusal.path, problem: refusal.problem, oversized: refusal.oversized }
    }
  }

  // ---- errors ---------------------------------------------------------------------------------

  /** Errors made for the sandbox, with the run error each stands for if the code leaves it uncaught. */
  const knownErrors = new WeakMap_<object, ThrownError>()

  const makeError = (name: string, message: string, runError?: ThrownError): Error => {
    const builtIn = hasOwn(errorConstructors, name)
    const error = new (builtIn ? errorConstructors[name]! : errorConstructors.Error!)(message)
    if (!builtIn) {
      defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false })
    }
    if (runError !== undefined) weakMapSet(knownErrors, error, runError)
    return error
  }

  const copyToolArgs = (tool: string, args: unknown, maxBytes: number): unknown => {
    const copied = copyOut(args === undefined ? {} : args, { rootName: 'args', maxBytes })
    if (copied.ok) return copied.value
    const message = `Tool ${tool} was called with arguments that cannot be passed to it: ${copied.path}: ${copied.problem}.`
    throw makeError('DataBoundaryError', message, { kind: 'tool', name: 'DataBoundaryError', tool, message })
  }

  const copyFinalAnswer = (
    answer: unknown,
    maxBytes: number,
  ): Extract<SandboxRunResult, { type: 'final' } | { type: 'oversized' }> => {
    const copied = copyOut(answer, { rootName: 'answer', maxBytes })
    if (copied.ok) return { type: 'final', answer: copied.value }
    if (copied.oversized) return { type: 'oversized', what: 'answer' }
    throw makeError(
      'DataBoundaryError',
      `finalAnswer was given a value that cannot be passed on: ${copied.path}: ${copied.problem}.`,
    )
  }

  const valueResult = (
    value: unknown,
    maxBytes: number,
  ): Extract<SandboxRunResult, { type: 'value' } | { type: 'oversized' } | { type: 'error' }> => {
    const copied = copyOut(value, { rootName: 'value', maxBytes })
    if (copied.ok) return { type: 'value', value: copied.value }
    if (copied.oversized) return { type: 'oversized', what: 'value' }
    const message = `The last value of the code cannot be returned: ${copied.path}: ${copied.problem}.`
    return { type: 'error', error: { kind: 'runtime', name: 'DataBoundaryError', message } }
  }

  /** The first position in `filename` of an error's stack, as 1-based line and column. */
  const scriptPosition = (
    error: object,
    filename: string,
  ): { line: number; column: number; inScript: true } | undefined => {
    let stack: unknown
    try {
      stack = (error as { stack?: unknown }).stack
    } catch {
      return undefined
    }
    if (typeof stack !== 'string') return undefined
    const at = indexOf(stack, `${filename}:`)
    if (at === -1) return undefined
    const numbers: number[] = [0, 0]
    let index = at + filename.length + 1
    for (let part = 0; part < 2; part++) {
      const start = index
      while (index < stack.length && charCodeAt(stack, index) >= 48 && charCodeAt(stack, index) <= 57) {
        numbers[part] = numbers[part]! * 10 + charCodeAt(stack, index) - 48
        index++
      }
      if (index === start || (part === 0 && charCodeAt(stack, index++) !== 58)) return undefined
    }
    return { line: numbers[0]!, column: numbers[1]!, inScript: true }
  }

  const describeThrown = (error: unknown, filename: string): ThrownError => {
    const isObject = (typeof error === 'object' && error !== null) || typeof error === 'function'
    const known = isObject ? (weakMapGet(knownErrors, error) as ThrownError | undefined) : undefined
    const anError = isObject && !isProxy(error as object) && isError(error as object)
    const position = anError ? scriptPosition(error as object, filename) : undefined
    if (known !== undefined) return position === undefined ? known : { ...known, ...position }
    if (anError) {
      return {
        kind: 'runtime',
        name: textOf(error as object, 'name', 'Error'),
        message: textOf(error as object, 'message', ''),
        ...position,
      }
    }
    return { kind: 'runtime', name: 'Error', message: formatLogArgs([error]) }
  }

  return {
    formatLogArgs,
    createLogWriter,
    copyOut,
    copyToolArgs,
    copyFinalAnswer,
    valueResult,
    makeError,
    describeThrown,
  }
}

/**
 * `createSandboxRuntime` as source text: one expression that evaluates to the factory, for
 * sandboxes that cannot import it. Evaluate it in the sandbox's realm (an isolate's bootstrap, a vm
 * context, a harness process) and call the result once with the hooks, before sandbox code runs.
 *
 * @example
 * const bootstrap = `const runtime = (${sandboxRuntimeSource()})({ isProxy })\n...`
 */
export function sandboxRuntimeSource(): string {
  return `(${createSandboxRuntime.toString()})`
}
