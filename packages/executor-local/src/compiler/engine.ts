import { types } from 'node:util'
import { type Realm, type RealmHooks, type Value, createRealm } from '../realm.js'
import { chargeArrayConstruction, installNativeGuards } from '../natives.js'
import { Meter } from './meter.js'

/** A source text compiled by the engine; positions are offsets into it. */
export interface Source {
  readonly text: string
  /** Offsets where each line starts, computed on first use. */
  lineStarts?: number[]
}

/** Where a node starts: its source and offset. Created once per node at compile time. */
export interface Location {
  readonly source: Source
  readonly offset: number
}

/** Marks the temporal dead zone of a binding. A host object that never reaches sandbox code. */
export const HOLE: object = Object.freeze(Object.create(null))

/**
 * Thrown into a suspended generator body to make its `yield` return (generator `return()`): it
 * unwinds through compiled `finally` blocks but no compiled `catch` ever sees it.
 */
export const RETURN_REQUEST: object = Object.freeze(Object.create(null))

/** The value a pending generator `return()` carries while RETURN_REQUEST unwinds the body. */
export const pendingReturn: { value: unknown } = { value: undefined }

const HostError = Error
const { getPrototypeOf, defineProperty } = Object
const { apply } = Reflect

/** Private-field stamp: lets the interpreter call its own functions without the realm wrapper. */
class Passthrough {
  constructor(target: object) {
    return target
  }
}
class Stamp extends Passthrough {
  #impl: Value
  constructor(target: object, impl: Value) {
    super(target)
    this.#impl = impl
  }
  static get(target: object): Value {
    return #impl in target ? target.#impl : undefined
  }
}
export const stamp = (target: object, impl: Value): void => {
  new Stamp(target, impl)
}
export const implOf = Stamp.get

/** Private-field record of a sandbox function's source text, for `Function.prototype.toString`. */
class SourceText extends Passthrough {
  #text: string
  constructor(target: object, text: string) {
    super(target)
    this.#text = text
  }
  static get(target: object): string | undefined {
    return #text in target ? target.#text : undefined
  }
}
export const recordSourceText = (target: object, text: string): void => {
  new SourceText(target, text)
}
export const sourceTextOf = SourceText.get

/** Host generator states: drives a compiled generator or async body for the realm's drivers. */
export interface BodyState {
  readonly generator: Generator<Value, Value, Value>
  /** The value a pending `return()` request carries. */
  returnValue: Value
}

/**
 * One interpreter instance: a realm, its meter and the state shared by every program compiled
 * for it (the script's lexical bindings, error positions).
 */
export class Engine {
  readonly realm: Realm
  readonly meter: Meter
  readonly global: Value
  /** The global lexical environment: top-level let/const/class of every program run so far. */
  readonly lexicals: Value[] = []
  readonly lexicalNames = new Map<string, { slot: number; kind: string }>()
  lexicalVersion = 0
  /** Where each error thrown in sandbox code was raised. */
  readonly positions = new WeakMap<object, Location>()
  /** Host errors already converted, so one host error is always the same sandbox error. */
  readonly converted = new WeakMap<object, Value>()
  lastPrimitiveThrow: Location | undefined
  /**
   * Constructors whose arguments are checked (and charged) before `new` runs them, keyed by the
   * realm constructor: they allocate in proportion to their arguments. Filled by the guards.
   */
  readonly constructGuards = new Map<Value, (list: Value[]) => Value[]>()
  /** What realm code sees when converting a host error overflowed the stack. */
  readonly overflowError: Value
  readonly errors: Readonly<Record<string, Value>>
  readonly intrinsics: Readonly<Record<string, Value>>
  readonly helpers: Readonly<Record<string, Value>>
  /** Realm function doing a sloppy-mode assignment (fails silently on read-only properties). */
  readonly sloppySet: (object: Value, key: Value, value: Value) => Value
  /** Hook for `import()` / static imports; set by the executor. */
  importModule: ((specifier: string, loc: Location | undefined) => Value) | undefined
  /** Evaluates direct eval in global code; set by the interpreter. */
  directEval: ((code: string, strict: boolean) => Value) | undefined

  /** The realm hook through which realm functions call their host implementation. */
  readonly #guard: RealmHooks['guard']
  /** Realm function factories by kind and declared parameter count (`functionFactory`). */
  readonly #factories = new Map<string, (impl: Value, name?: Value) => Value>()

  constructor() {
    this.#guard = (impl, self, args, newTarget, superCall) => {
      const meter = this.meter
      const depth = meter.depth
      try {
        return impl(self, args, newTarget, superCall)
      } catch (error) {
        meter.depth = depth
        // Inline, not a helper call: near the stack limit even that call could overflow, and
        // the host RangeError would reach realm code (a promise job, a built-in's callback).
        let converted = this.overflowError
        try {
          converted = this.toSandbox(error)
        } catch {
          // The conversion ran out of stack; the frozen realm RangeError stands for it.
        }
        throw converted
      }
    }
    this.realm = createRealm({
      resume: (state, mode, value) => this.resume(state, mode, value),
      guard: this.#guard,
    })
    const { realm } = this
    this.global = realm.global
    this.errors = realm.errors
    this.intrinsics = realm.intrinsics
    this.helpers = realm.helpers
    this.meter = new Meter(realm.helpers.freeze(realm.helpers.nullObject()))
    this.overflowError = realm.helpers.freeze(new this.errors.RangeError('Maximum call stack size exceeded'))
    this.sloppySet = realm.objectShape('(function (o, k, v) { o[k] = v; return v })')
    installNativeGuards(this)
  }

  /**
   * A realm factory of functions that declare `arity` parameters, so that their `length` is
   * right from the start: redefining `length` costs more than creating the function and turns it
   * into a slow dictionary-mode object. Their argument list is padded to `arity` entries with
   * `undefined`, which only an `arguments` object could tell from missing arguments: functions
   * that have one must not come from here. Arguments past `arity` are dropped, unless `extra`
   * (the function has a rest or default parameter) says they matter: then they are appended on
   * the host, by index (the realm's array iterator can be replaced).
   */
  functionFactory(
    kind: 'plain' | 'arrow' | 'method',
    arity: number,
    named: boolean,
    extra: boolean,
  ): (impl: Value, name?: Value) => Value {
    const key = `${kind} ${arity} ${named} ${extra}`
    let factory = this.#factories.get(key)
    if (factory === undefined) {
      let params = Array.from({ length: arity }, (_, i) => `p${i}`).join(', ')
      let list = `[${params}]`
      if (extra) {
        list = `r.length === 0 ? ${list} : join(${list}, r)`
        params += ', ...r'
      }
      const call =
        kind === 'arrow'
          ? `guard(impl, undefined, ${list}, undefined)`
          : `guard(impl, this, ${list}, ${kind === 'plain' ? 'new.target' : 'undefined'})`
      const property = named ? '[name]' : "''"
      const fn =
        kind === 'method'
          ? `({ ${property}(${params}) { return ${call} } })[${named ? 'name' : "''"}]`
          : kind === 'arrow'
            ? `(${params}) => ${call}`
            : `function (${params}) { return ${call} }`
      const body = kind !== 'method' && named ? `({ [name]: ${fn} })[name]` : fn
      // Strict, like the realm's other factories: `this` reaches the implementation as passed,
      // which applies the sloppy-mode coercion itself only for sloppy functions.
      const make = this.realm.objectShape(
        `(function (guard, join) { 'use strict'; return (impl, name) => ${body} })`,
      )
      factory = make(this.#guard, joinArguments) as (impl: Value, name?: Value) => Value
      this.#factories.set(key, factory)
    }
    return factory
  }

  /**
   * Lets interpreted calls of `fn`, a realm function made by a factory around `impl`, run `impl`
   * directly: the realm wrapper and its guard only matter when realm code calls `fn`.
   */
  stampImpl(fn: Value, impl: Value): void {
    stamp(fn, impl)
  }

  /** The source text of a function the sandbox's code made, for `Function.prototype.toString`. */
  sourceTextOf(fn: object): string | undefined {
    return sourceTextOf(fn)
  }

  /** A new error of the sandbox realm, with its position recorded. */
  error(name: string, message: string, loc?: Location): Value {
    const constructor = this.errors[name] ?? this.errors.Error
    const error = new constructor(message)
    if (loc !== undefined) this.positions.set(error, loc)
    return error
  }

  /** Records where an error was raised, unless an inner position is already known. */
  annotate(error: Value, loc: Location): void {
    if ((typeof error === 'object' && error !== null) || typeof error === 'function') {
      if (!this.positions.has(error)) this.positions.set(error, loc)
    } else if (this.lastPrimitiveThrow === undefined) {
      this.lastPrimitiveThrow = loc
    }
  }

  isSignal(value: Value): boolean {
    return value === this.meter.signalValue || value === RETURN_REQUEST
  }

  /**
   * Converts whatever the host engine threw while interpreting (a host TypeError from `null.x`,
   * a RangeError from a stack overflow) into an error of the sandbox realm with the same name and
   * message. Sandbox values and the interpreter's signals pass through unchanged.
   */
  toSandbox(error: Value): Value {
    // Primitives and sandbox proxies pass untouched; `instanceof` below then never runs a trap.
    if (typeof error !== 'object' || error === null || types.isProxy(error)) return error
    if (error instanceof HostError) {
      const known = this.converted.get(error)
      if (known !== undefined) return known
      let name = 'Error'
      let message = ''
      try {
        name = types.isNativeError(error) ? String(error.name) : 'Error'
        message = String(error.message)
      } catch {
        // A host error always has string name and message; keep the defaults if not.
      }
      if (name === 'RangeError' && message.includes('call stack')) {
        message = 'Maximum call stack size exceeded'
      }
      const converted = this.error(name in this.errors ? name : 'Error', message)
      const loc = this.positions.get(error)
      if (loc !== undefined) this.positions.set(converted, loc)
      this.converted.set(error, converted)
      return converted
    }
    if (!this.isSignal(error) && isHostObject(error)) {
      return this.error('Error', 'Internal interpreter value')
    }
    return error
  }

  /** Drives a host body generator one step for the realm's generator and async drivers. */
  resume(state: BodyState, mode: number, value: Value): Value {
    try {
      if (mode === 0) return state.generator.next(value)
      if (mode === 1) return state.generator.throw(value)
      state.returnValue = value
      pendingReturn.value = value
      return state.generator.throw(RETURN_REQUEST)
    } catch (error) {
      let converted = this.overflowError
      try {
        converted = this.toSandbox(error)
      } catch {
        // As in the guard: a conversion that ran out of stack stands for a stack overflow.
      }
      throw converted
    }
  }

  /** The realm prototype a primitive's properties come from. */
  primitiveProto(value: Value): Value {
    switch (typeof value) {
      case 'string':
        return this.intrinsics.StringPrototype
      case 'number':
        return this.intrinsics.NumberPrototype
      case 'boolean':
        return this.intrinsics.BooleanPrototype
      case 'symbol':
        return this.intrinsics.SymbolPrototype
      case 'bigint':
        return this.intrinsics.BigIntPrototype
    }
    return undefined
  }

  /** `ToObject` in the sandbox realm (primitives are boxed by the realm's `Object`). */
  toObject(value: Value, loc?: Location): Value {
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') return value
    if (value == null) throw this.error('TypeError', `Cannot convert undefined or null to object`, loc)
    return this.intrinsics.Object(value)
  }

  /** Makes a host list into a realm array. */
  toArray(list: readonly Value[]): Value {
    return this.helpers.toArray(list)
  }

  setName(fn: Value, name: Value, prefix?: string): void {
    let text: string
    if (typeof name === 'symbol') {
      const description = name.description
      text = description === undefined ? '' : `[${description}]`
    } else text = String(name)
    if (prefix !== undefined) text = `${prefix} ${text}`
    defineProperty(fn, 'name', { value: text, writable: false, enumerable: false, configurable: true })
  }

  /** The arguments `new fn(...list)` runs with, after the guard of a guarded constructor. */
  constructArguments(fn: Value, list: Value[]): Value[] {
    const guard = this.constructGuards.get(fn)
    return guard === undefined ? list : guard(list)
  }

  callFunction(fn: Value, self: Value, args: Value[]): Value {
    const raw = implOf(fn)
    if (raw !== undefined) return raw(self, args, undefined)
    if (fn === this.intrinsics.Array) chargeArrayConstruction(this, args)
    return apply(fn, self, args)
  }
}

/** The arguments of a realm function past its declared ones, appended as a host list. */
function joinArguments(head: Value[], rest: Value[]): Value[] {
  const list: Value[] = []
  for (let i = 0; i < head.length; i++) list.push(head[i])
  for (let i = 0; i < rest.length; i++) list.push(rest[i])
  return list
}

/** True for objects whose prototype chain ends in the host's `Object.prototype`. */
function isHostObject(value: object): boolean {
  let proto: object | null = value
  for (let i = 0; i < 100 && proto !== null; i++) {
    if (proto === Object.prototype) return true
    try {
      proto = getPrototypeOf(proto)
    } catch {
      return false
    }
  }
  return false
}
