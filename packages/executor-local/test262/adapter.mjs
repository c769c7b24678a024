// test262 adapter for @airlock/executor-local (API: ../../../shared/t262/README.md).
// Imports the interpreter module only (not the executor, which needs @airlock/core).
// Each test gets a fresh Interpreter, i.e. a fresh node:vm realm with code generation disabled;
// eval and Function are the interpreter's own. Build the package first (npx tsc -p tsconfig.build.json).
import { CompileError, Interpreter } from '../dist/interpreter.js'

export const name = 'airlock-local'
export const version = '0.0.0'

function describeThrown(e) {
  try {
    if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
      let ctorName = ''
      try {
        ctorName = e.constructor && typeof e.constructor.name === 'string' ? e.constructor.name : ''
      } catch {}
      const n = ctorName || String(e.name ?? 'Error')
      let msg
      try {
        msg = e.message !== undefined ? String(e.message) : String(e)
      } catch {
        msg = '(unprintable)'
      }
      return { errorName: n, error: `${n}: ${msg}` }
    }
    return { errorName: '', error: `thrown ${typeof e}: ${String(e)}` }
  } catch {
    return { errorName: '', error: 'unprintable exception' }
  }
}

function createRealm(print, timeout) {
  const interpreter = new Interpreter()
  const { engine } = interpreter
  engine.meter.start({ maxOperations: Infinity, timeoutMs: timeout, maxCallDepth: Infinity })
  const g = engine.global
  const host = (fn, name) => {
    const wrapped = engine.realm.factories.method((self, args) => {
      try {
        return fn(...args)
      } catch (error) {
        throw engine.toSandbox(error)
      }
    })
    engine.setName(wrapped, name)
    return wrapped
  }
  const define = (obj, key, value) =>
    Object.defineProperty(obj, key, { value, writable: true, configurable: true, enumerable: false })
  const $262 = engine.helpers.newObject()
  define($262, 'global', g)
  define(
    $262,
    'gc',
    host(() => {
      throw engine.error('Error', 'gc not available')
    }, 'gc'),
  )
  define(
    $262,
    'createRealm',
    host(() => createRealm(print, timeout).$262, 'createRealm'),
  )
  define(
    $262,
    'evalScript',
    host((src) => {
      let compiled
      try {
        compiled = interpreter.compile(String(src), { mode: 'script', topLevelAwait: false })
      } catch (e) {
        if (e instanceof CompileError) throw engine.error('SyntaxError', e.message)
        throw e
      }
      return compiled.run()
    }, 'evalScript'),
  )
  define(
    $262,
    'detachArrayBuffer',
    host((buf) => {
      structuredClone(buf, { transfer: [buf] })
      return null
    }, 'detachArrayBuffer'),
  )
  define($262, 'agent', engine.helpers.newObject())
  define(g, '$262', $262)
  define(
    g,
    'print',
    host((msg) => {
      print(String(msg))
    }, 'print'),
  )
  return { interpreter, $262 }
}

export async function run(source, opts) {
  const { interpreter } = createRealm(opts.print, opts.timeout)
  let compiled
  try {
    compiled = interpreter.compile(source, { mode: 'script', topLevelAwait: false })
  } catch (e) {
    if (e instanceof CompileError) {
      return {
        ok: false,
        phase: e.refused ? 'runtime' : 'parse',
        errorName: e.refused ? 'UnsupportedError' : 'SyntaxError',
        error: `${e.name}: ${e.message}`,
      }
    }
    return { ok: false, phase: 'parse', ...describeThrown(e) }
  }
  try {
    compiled.run()
  } catch (e) {
    const meter = interpreter.engine.meter
    if (e === meter.signalValue && meter.tripped?.limit === 'timeoutMs')
      return { ok: false, timeout: true, error: 'timeout' }
    return { ok: false, phase: 'runtime', ...describeThrown(e) }
  }
  return { ok: true }
}
