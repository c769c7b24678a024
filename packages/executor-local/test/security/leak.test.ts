import { describe, expect, it } from 'vitest'
import { run, valueOf } from './helpers.js'

// Leaks: nothing about the host (paths, source, environment, globals) is visible to sandbox code or
// in what a run returns. Each case returns strings the sandbox can see; none may name the host.
const hostPath = process.cwd()
const cases: Record<string, string> = {
  'stack of an engine TypeError': 'try { null.x } catch (e) { return String(e.stack) }',
  'stack of a created Error': "return String(new Error('x').stack)",
  'stack of a host stack overflow':
    'let a = []; for (let i = 0; i < 100000; i++) a = [a]; try { JSON.stringify(a) } catch (e) { return String(e.stack) + e.message }',
  'stack of an error from a guarded built-in': "try { 'x'.repeat(-1) } catch (e) { return String(e.stack) }",
  'stack of a refused array-like':
    'try { [].join.call({ get length() { return 1 } }) } catch (e) { return String(e.stack) }',
  'stack of a tool failure': 'try { await echo(null) } catch (e) { return String(e.stack) + e.message }',
  'stack of a refused import': "try { await import('fs') } catch (e) { return String(e.stack) + e.message }",
  'captureStackTrace output': 'const o = {}; Error.captureStackTrace?.(o); return String(o.stack)',
  'source text of guarded built-ins':
    "return [String.prototype.repeat, Array.from, RegExp.prototype.exec, Set, Proxy].map((f) => Function.prototype.toString.call(f)).join('\\n')",
  'source text of interpreted functions':
    'return String(function f() { return 1 }) + String(class A {}) + String(async () => 1)',
  'source text of console and finalAnswer': 'return String(console.log) + String(finalAnswer) + String(echo)',
  'host globals':
    "return ['process', 'require', 'module', 'exports', '__dirname', '__filename', 'Buffer', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'fetch', 'WebAssembly', 'SharedArrayBuffer', 'Atomics'].map((n) => n + ':' + typeof globalThis[n]).join(',')",
  'global object own names': 'return Object.getOwnPropertyNames(globalThis).join(",")',
  'error messages of the refused direct eval':
    "try { (() => { let a = 1; return eval('a') })() } catch (e) { return e.message }",
  'limit-free message of a RangeError from V8':
    'try { new Array(-1) } catch (e) { return e.message + String(e.stack) }',
}

describe('nothing host-side shows in sandbox-visible text', () => {
  it.each(Object.entries(cases))('%s', async (_name, body) => {
    const text = valueOf(await run(`await (async () => { ${body} })()`)) as string
    expect(typeof text).toBe('string')
    expect(text).not.toContain(hostPath)
    expect(text).not.toMatch(/node:internal|file:\/\/|\.ts:\d|\.js:\d|at [\w.]+ \(/)
  })
})

describe('host globals stay out of reach', () => {
  it('process, Buffer, timers and WebAssembly are absent', async () => {
    const outcome = await run(
      "['process', 'Buffer', 'setTimeout', 'setImmediate', 'WebAssembly', 'module', 'exports'].map((n) => typeof globalThis[n])",
    )
    expect(valueOf(outcome)).toEqual(Array(7).fill('undefined'))
  })

  it('limit and error messages returned to the host name no host path', async () => {
    for (const code of ["'x'.repeat(2 ** 30)", 'for (;;) {}', 'null.x', "require('fs')"]) {
      const outcome = await run(code, { limits: { maxOperations: 10_000 } })
      expect(JSON.stringify(outcome)).not.toContain(hostPath)
    }
  })
})
