// The harness: the one long-lived process of a session inside the E2B sandbox. The host uploads
// this file (types stripped) and starts it with `commands.run` as
//
//   exec node [--max-old-space-size=N] <this file> 3>&1 1>&2
//
// so that file descriptor 3 is the process's stdout, which envd streams to the host, while
// anything else in the process that writes to stdout (a child process, `process.stdout` of an
// allowlisted module) lands on stderr and cannot break the framing. It reads host frames from
// stdin and writes harness frames to fd 3, one JSON object per line (see protocol.ts).
//
// Code actions run in a node:vm context of this process, so they get a clean global scope whose
// bindings persist between runs, and cannot replace the intrinsics this file uses. The vm context
// is not a security boundary and is not meant to be one: the E2B VM is. Everything here is
// assumed to be compromised by the code it runs, which is why the host treats every frame as
// untrusted input and no secret ever enters the sandbox.
//
// The console format and the data boundary are core's sandbox runtime, created inside the vm
// context from its source text, and values go out through wire-data.ts's encoder: the host puts
// both in front of this file when it uploads it (`SANDBOX_RUNTIME_SOURCE`, `createWireEncoder`;
// see `loadHarnessSource`).
//
// Runs under Node >= 20 with no dependencies: only node builtins, erasable TypeScript, and type
// imports that vanish when the types are stripped.

import { AsyncLocalStorage } from 'node:async_hooks'
import { writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { types } from 'node:util'
import vm from 'node:vm'
import type { SandboxRuntime, SandboxRuntimeHooks, ThrownError } from '@airlock/core'
import type {
  HarnessError,
  HarnessFrameBody,
  HarnessResult,
  HostFrame,
  InitFrame,
  ToolFailure,
} from './protocol.js'
import type { WireEncoderChecks, WireValue } from './wire-data.js'

/** `sandboxRuntimeSource()` of the host's `@airlock/core`, put in front of this file on upload. */
declare const SANDBOX_RUNTIME_SOURCE: string
/** wire-data.ts's encoder factory, put in front of this file on upload. */
declare const createWireEncoder: (checks: WireEncoderChecks) => (value: unknown) => WireValue

const PROTOCOL_VERSION = 1
const FRAME_FD = 3

// ---- frames out --------------------------------------------------------------------------------

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/**
 * Writes synchronously, so a frame is on its way before the code can block the event loop (a
 * `console.log` right before `while (true) {}` must still reach the host).
 */
function writeFully(fd: number, text: string): void {
  const bytes = Buffer.from(text)
  let offset = 0
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset)
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EAGAIN') {
        Atomics.wait(sleeper, 0, 0, 2)
        continue
      }
      // The reader is gone (EPIPE): the host or envd went away, nobody is left to serve.
      process.exit(70)
    }
  }
}

function diagnose(message: string): void {
  try {
    writeFully(2, `airlock harness: ${message}\n`)
  } catch {
    // Diagnostics are best effort.
  }
}

interface Buffered {
  readonly seq: number
  readonly line: string
  /** Set for tool calls: dropped from the buffer once the host answers (it has seen the call). */
  readonly call?: number
}

let seq = 0
/** Frames since the current run (or init) began, for `resync` after a dropped stream. */
let buffered: Buffered[] = []

function send(body: HarnessFrameBody, call?: number): void {
  seq++
  const line = `${JSON.stringify({ ...body, seq })}\n`
  buffered.push(call === undefined ? { seq, line } : { seq, line, call })
  writeFully(FRAME_FD, line)
}

// ---- the sandbox realm -------------------------------------------------------------------------

interface RealmTools {
  /** Thrown by `finalAnswer`, and by tools and `finalAnswer` once the run has its answer. */
  readonly sentinel: object
  fromWire(value: unknown): unknown
  declare(name: string, value: unknown): void
  define(name: string, value: unknown): void
  remove(name: string): void
  makeTool(name: string, call: (name: string, args: unknown) => Promise<unknown>): unknown
  install(bridge: {
    print(args: readonly unknown[]): void
    finalAnswer(value: unknown): void
    load(specifier: unknown, via: 'import' | 'require'): unknown
  }): void
  installImport(name: string, load: (specifier: unknown, via: 'import') => unknown): void
}

/**
 * Evaluated inside the vm context (through its source text), so every object it makes belongs to
 * the sandbox realm: code sees ordinary `Error`s, `Map`s and plain objects. It captures the
 * intrinsics it needs before any code runs. It must not refer to anything outside itself.
 */
function realmFactory(): RealmTools {
  'use strict'
  const { defineProperty, freeze, create, keys } = Object
  const { apply } = Reflect
  const hasOwn = Object.prototype.hasOwnProperty
  const isArray = Array.isArray
  const MapConstructor = Map
  const SetConstructor = Set
  const DateConstructor = Date
  const BytesConstructor = Uint8Array
  const toBigInt = BigInt
  const mapSet = Map.prototype.set
  const setAdd = Set.prototype.add
  const PromiseConstructor = Promise
  const sentinel = freeze(create(null))
  const global = globalThis as unknown as Record<string, unknown>

  const define = (name: string, value: unknown) => {
    defineProperty(global, name, { value, writable: true, configurable: true, enumerable: false })
  }

  const base64Digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const fromBase64 = (text: string): Uint8Array => {
    const clean = text.replace(/=+$/, '')
    const bytes = new BytesConstructor(Math.floor((clean.length * 3) / 4))
    let buffer = 0
    let bits = 0
    let index = 0
    for (let position = 0; position < clean.length; position++) {
      buffer = (buffer << 6) | base64Digits.indexOf(clean[position]!)
      bits += 6
      if (bits >= 8) {
        bits -= 8
        bytes[index++] = (buffer >> bits) & 0xff
      }
    }
    return bytes
  }

  // The input was parsed by the harness (trusted host data); the output is made in this realm.
  const fromWire = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value
    if (isArray(value)) {
      const items: unknown[] = []
      for (let index = 0; index < value.length; index++) items[index] = fromWire(value[index])
      return items
    }
    const record = value as Record<string, unknown>
    const tagged = apply(hasOwn, record, ['$'])
    const plain = (source: Record<string, unknown>) => {
      const result: Record<string, unknown> = {}
      for (const key of keys(source)) {
        defineProperty(result, key, {
          value: fromWire(source[key]),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      return result
    }
    if (!tagged) return plain(record)
    const v = record.v
    switch (record.$) {
      case 'undefined':
        return undefined
      case 'number':
        return v === '-0' ? -0 : v === 'NaN' ? Number.NaN : v === 'Infinity' ? Infinity : -Infinity
      case 'bigint':
        return toBigInt(v as string)
      case 'date':
        return new DateConstructor(v === null ? Number.NaN : (v as number))
      case 'bytes':
        return fromBase64(v as string)
      case 'map': {
        const map = new MapConstructor()
        for (const entry of v as unknown[][]) apply(mapSet, map, [fromWire(entry[0]), fromWire(entry[1])])
        return map
      }
      case 'set': {
        const set = new SetConstructor()
        for (const entry of v as unknown[]) apply(setAdd, set, [fromWire(entry)])
        return set
      }
      default:
        return plain(v as Record<string, unknown>)
    }
  }

  return {
    sentinel,
    fromWire,
    define,
    declare(name, value) {
      global[name] = value
    },
    remove(name) {
      delete global[name]
    },
    makeTool(name, call) {
      // A method of this realm, named after the tool, so `typeof tool` and `tool.name` look right.
      const holder = {
        async [name](args: unknown) {
          return await call(name, args)
        },
      }
      return holder[name]
    },
    install(bridge) {
      const { print, finalAnswer, load } = bridge
      const log = function (...args: unknown[]) {
        print(args)
      }
      define('console', freeze({ log, info: log, warn: log, error: log, debug: log, trace: log, dir: log }))
      define('finalAnswer', function finalAnswer_(value: unknown) {
        finalAnswer(value)
      })
      define('require', function require(specifier: unknown) {
        return load(specifier, 'require')
      })
    },
    installImport(name, load) {
      define(name, function (specifier: unknown) {
        try {
          return PromiseConstructor.resolve(load(specifier, 'import'))
        } catch (error) {
          return PromiseConstructor.reject(error)
        }
      })
    },
  }
}

function createContext(): object {
  const options = { name: 'airlock code action' }
  // Node >= 22.8: a context whose global object is an ordinary object, without interceptors.
  const plain = (vm.constants as unknown as { DONT_CONTEXTIFY?: unknown } | undefined)?.DONT_CONTEXTIFY
  return plain === undefined
    ? vm.createContext({}, options)
    : vm.createContext(plain as unknown as vm.Context, options)
}

const context = createContext()
const realm = (vm.runInContext(`(${realmFactory.toString()})`, context) as () => RealmTools)()
const runtime = (
  vm.runInContext(SANDBOX_RUNTIME_SOURCE, context) as (hooks: SandboxRuntimeHooks) => SandboxRuntime
)({
  // Node's checks: they tell proxies apart, work on Node < 24 (no Error.isError) and on values of
  // this realm, which reach the code too (what fetch() and import() return).
  ...types,
  plainPrototypes: [Object.prototype],
})

// Node's own globals the code of a Node sandbox expects; `process` stays out (allowlist 'process').
for (const name of [
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'setImmediate',
  'clearImmediate',
  'queueMicrotask',
  'structuredClone',
  'fetch',
  'Headers',
  'Request',
  'Response',
  'FormData',
  'Blob',
  'URL',
  'URLSearchParams',
  'TextEncoder',
  'TextDecoder',
  'AbortController',
  'AbortSignal',
  'EventTarget',
  'Event',
  'atob',
  'btoa',
  'crypto',
  'performance',
  'Buffer',
]) {
  const value = (globalThis as Record<string, unknown>)[name]
  if (value !== undefined) realm.define(name, value)
}

// ---- per-run state -------------------------------------------------------------------------------

interface RunState {
  readonly run: number
  /** The script's file name in stack traces, to find positions in it. */
  readonly file: string
  /** The run's console, within maxOutputBytes. */
  readonly log: (args: readonly unknown[]) => void
  /** The run has sent `done`: later console output and tool calls have no effect. */
  finished: boolean
  /** `finalAnswer` ended the run. */
  final: boolean
}

interface PendingCall {
  readonly state: RunState
  resolve(value: unknown): void
  reject(error: unknown): void
}

let setup: InitFrame | undefined
let current: RunState | undefined
let lastRun: number | undefined
let nextCall = 0
let installedTools: readonly string[] = []
let installedImport: string | undefined
const pending = new Map<number, PendingCall>()
/** Follows a run's async continuations, so late output of a finished run is not charged to the next. */
const runs = new AsyncLocalStorage<RunState>()
/** Frames split into parts by the host, by frame id. */
const parts = new Map<number, string[]>()

function activeRun(): RunState | undefined {
  return runs.getStore() ?? current
}

function limitOf(value: number | null | undefined): number {
  return value === null || value === undefined ? Infinity : value
}

function finish(state: RunState, result: HarnessResult): void {
  if (state.finished) return
  state.finished = true
  if (current === state) current = undefined
  for (const [call, entry] of pending) if (entry.state === state) pending.delete(call)
  send({ t: 'done', run: state.run, result })
}

function knownError(error: HarnessError): Error {
  return runtime.makeError(error.name, error.message, error)
}

/**
 * A run error the runtime reported, rebuilt in this realm from its own fields, so that writing the
 * frame cannot run anything the code put on its realm's `Object.prototype` (a `toJSON`).
 */
function hostError(error: ThrownError): HarnessError {
  const { kind, name, message, line, column, inScript, tool, limit } = error
  return {
    kind,
    name: String(name),
    message: String(message),
    ...(inScript === true ? { line, column, inScript } : {}),
    ...(tool === undefined ? {} : { tool }),
    ...(limit === undefined ? {} : { limit }),
  }
}

// ---- the wire ----------------------------------------------------------------------------------

const identifier = /^[A-Za-z_$][\w$]*$/
/** Encodes the copies the runtime makes (checked data of the sandbox realm) as wire values. */
const toWire = createWireEncoder(types)

// ---- what the code calls -------------------------------------------------------------------------

function print(args: readonly unknown[]): void {
  const state = activeRun()
  if (state === undefined || state.finished) return
  state.log(args)
}

function callTool(name: string, args: unknown): Promise<unknown> {
  const state = activeRun()
  if (state === undefined || state.finished) {
    if (state?.final) throw realm.sentinel
    throw runtime.makeError('Error', `Tool ${name} was not called: its run has already ended.`)
  }
  const wire = toWire(runtime.copyToolArgs(name, args, limitOf(setup?.maxValueBytes)))
  const call = ++nextCall
  return new Promise((resolve, reject) => {
    pending.set(call, { state, resolve, reject })
    send({ t: 'call', run: state.run, call, tool: name, args: wire }, call)
  })
}

function finalAnswer(value: unknown): never {
  const state = activeRun()
  if (state === undefined || state.finished) throw realm.sentinel
  const limit = limitOf(setup?.maxValueBytes)
  const result = runtime.copyFinalAnswer(value, limit)
  state.final = true
  // The answer is sent now: the run ends here even if the code catches what this throws.
  finish(
    state,
    result.type === 'oversized'
      ? { type: 'error', error: valueLimitError('final answer', limit) }
      : { type: 'final', answer: toWire(result.answer) },
  )
  throw realm.sentinel
}

function valueLimitError(what: string, limit: number): HarnessError {
  return {
    kind: 'limit',
    name: 'LimitError',
    limit: 'maxValueBytes',
    message: `The ${what} is larger than maxValueBytes (${limit} bytes); return less data, e.g. a summary or a slice.`,
  }
}

const requireModule = createRequire(import.meta.url)

function loadModule(specifier: unknown, via: 'import' | 'require'): unknown {
  const allowed = setup?.allowedModules ?? []
  const name = typeof specifier === 'string' ? specifier : undefined
  if (name === undefined || !allowed.includes(name)) {
    const shown = name === undefined ? `A module specifier of type ${typeof specifier}` : `Module "${name}"`
    const allowlist =
      allowed.length === 0
        ? 'No modules are allowed in this session (the allowlist, allowedModules, is empty).'
        : `Allowed modules: ${allowed.join(', ')}.`
    const message = `${shown} is not on the allowlist, so ${via} cannot load it. ${allowlist}`
    throw knownError({ kind: 'forbidden', name: 'ForbiddenError', message })
  }
  const rethrow = (error: unknown): never => {
    const described = describeThrown(error, '')
    throw runtime.makeError(described.name, `Module "${name}" could not be loaded: ${described.message}`)
  }
  if (via === 'require') {
    try {
      return requireModule(name)
    } catch (error) {
      return rethrow(error)
    }
  }
  return import(name).catch(rethrow)
}

realm.install({ print, finalAnswer, load: loadModule })

// ---- runs ----------------------------------------------------------------------------------------

async function execute(state: RunState, script: string, names: readonly string[]): Promise<HarnessResult> {
  let action: () => unknown
  try {
    if (names.length > 0) vm.runInContext(`var ${names.join(', ')};`, context)
    action = vm.runInContext(script, context, { filename: state.file }) as () => unknown
  } catch (error) {
    // Early errors the host's parser does not report (V8 is stricter in places) are syntax errors too.
    return { type: 'error', error: { ...describeThrown(error, state.file), kind: 'syntax' } }
  }
  let value: unknown
  try {
    value = await action()
  } catch (error) {
    return { type: 'error', error: describeThrown(error, state.file) }
  }
  const limit = limitOf(setup?.maxValueBytes)
  const result = runtime.valueResult(value, limit)
  switch (result.type) {
    case 'value':
      return { type: 'value', value: toWire(result.value) }
    case 'oversized':
      return { type: 'error', error: valueLimitError("code's last value", limit) }
    case 'error':
      return { type: 'error', error: hostError(result.error) }
  }
}

/** What the code threw, as the run's error; `file` is the run's script, for the position. */
function describeThrown(error: unknown, file: string): HarnessError {
  return hostError(runtime.describeThrown(error, file))
}

function startRun(run: number, script: string, names: readonly string[]): void {
  // A resent frame (the host could not confirm delivery): the run is already under way.
  if (run === lastRun) return
  lastRun = run
  buffered = []
  if (current !== undefined && !current.finished) {
    finish(current, {
      type: 'error',
      error: { kind: 'internal', name: 'Error', message: 'A new run started before this one ended.' },
    })
  }
  const state: RunState = {
    run,
    file: `airlock-run-${run}.js`,
    log: runtime.createLogWriter(
      limitOf(setup?.maxOutputBytes),
      (text) => send({ t: 'log', run, text }),
      () => send({ t: 'truncated', run }),
    ),
    finished: false,
    final: false,
  }
  current = state
  runs
    .run(state, () => execute(state, script, names))
    .then(
      (result) => finish(state, result),
      (error: unknown) =>
        finish(state, {
          type: 'error',
          error: { kind: 'internal', name: 'Error', message: `The harness failed: ${String(error)}` },
        }),
    )
}

function applyInit(frame: InitFrame): void {
  if (current !== undefined && !current.finished) {
    finish(current, {
      type: 'error',
      error: {
        kind: 'internal',
        name: 'Error',
        message: 'Another host attached to this sandbox while the code was running.',
      },
    })
  }
  setup = frame
  for (const name of installedTools) if (!frame.tools.includes(name)) realm.remove(name)
  for (const name of frame.tools) realm.define(name, realm.makeTool(name, callTool))
  installedTools = [...frame.tools]
  if (installedImport !== frame.importFunction) {
    if (installedImport !== undefined) realm.remove(installedImport)
    realm.installImport(frame.importFunction, loadModule)
    installedImport = frame.importFunction
  }
  if (frame.variables !== undefined) {
    for (const [name, value] of Object.entries(frame.variables)) {
      if (!identifier.test(name)) continue
      vm.runInContext(`var ${name};`, context)
      realm.declare(name, realm.fromWire(value))
    }
  }
  buffered = []
  send({ t: 'ready', init: frame.id, protocol: PROTOCOL_VERSION, node: process.version })
}

function answerCall(frame: Extract<HostFrame, { t: 'result' }>): void {
  const entry = pending.get(frame.call)
  if (entry === undefined) return
  pending.delete(frame.call)
  buffered = buffered.filter((item) => item.call !== frame.call)
  if (entry.state.finished) return
  if (frame.ok) {
    entry.resolve(realm.fromWire(frame.value))
    return
  }
  const failure: ToolFailure = frame.error
  entry.reject(
    knownError({
      kind: failure.kind,
      name: failure.name,
      message: failure.message,
      ...(failure.tool === undefined ? {} : { tool: failure.tool }),
      ...(failure.limit === undefined ? {} : { limit: failure.limit }),
    }),
  )
}

function handleFrame(frame: HostFrame): void {
  switch (frame.t) {
    case 'init':
      applyInit(frame)
      return
    case 'run':
      startRun(frame.run, frame.script, frame.names)
      return
    case 'result':
      answerCall(frame)
      return
    case 'resync':
      for (const item of buffered) if (item.seq > frame.after) writeFully(FRAME_FD, item.line)
      return
    case 'part': {
      const pieces = parts.get(frame.id) ?? Array.from<string>({ length: frame.count })
      pieces[frame.index] = frame.text
      parts.set(frame.id, pieces)
      let complete = true
      for (let index = 0; index < frame.count; index++) if (pieces[index] === undefined) complete = false
      if (complete) {
        parts.delete(frame.id)
        handleLine(pieces.join(''))
      }
      return
    }
  }
}

function handleLine(line: string): void {
  let frame: HostFrame
  try {
    frame = JSON.parse(line) as HostFrame
  } catch {
    diagnose(`ignored a line that is not JSON (${line.length} characters)`)
    return
  }
  handleFrame(frame)
}

// ---- process wiring ------------------------------------------------------------------------------

process.on('uncaughtException', (error) => {
  if (error === realm.sentinel) return
  const state = activeRun()
  if (state !== undefined && !state.finished) {
    const described = describeThrown(error, state.file)
    finish(state, { type: 'error', error: { ...described, message: `Uncaught ${described.message}` } })
    return
  }
  diagnose(`uncaught exception outside a run: ${describeThrown(error, '').message}`)
})
// A floating promise that rejects is the code's business, as in a browser: it must not end the session.
process.on('unhandledRejection', () => {})

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk: string) => {
  input += chunk
  let newline = input.indexOf('\n')
  while (newline !== -1) {
    const line = input.slice(0, newline)
    input = input.slice(newline + 1)
    if (line.trim() !== '') handleLine(line)
    newline = input.indexOf('\n')
  }
})
// The host closed stdin: the session is over.
process.stdin.on('end', () => process.exit(0))
