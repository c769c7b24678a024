import { defineTool } from '@airlock/core'
import { describe, expect, it } from 'vitest'
import { createLocalExecutor } from '../../src/index.js'
import { run, valueOf } from './helpers.js'

// Tool abuse: what a run may ask of the host is bounded (maxToolCalls, maxValueBytes,
// maxOutputBytes), and values crossing to the host are copied as data: no getter, proxy trap,
// toJSON or then of the sandbox runs on the host.
let calls = 0
const counter = defineTool({
  name: 'count',
  description: 'Counts its calls and returns its argument.',
  parameters: { type: 'object' },
  execute: (args: unknown) => {
    calls++
    return args
  },
})

const ranOnHost = 'globalThis.hostRan = true; return 1'

describe('tool calls and boundary values', () => {
  it('maxToolCalls ends a run that calls tools in a loop, even when it catches the error', async () => {
    const outcome = await run('for (;;) { try { await echo({}) } catch {} }', { limits: { maxToolCalls: 5 } })
    expect(outcome).toMatchObject({ type: 'error', error: { kind: 'limit', limit: 'maxToolCalls' } })
  })

  it('maxToolCalls ends a burst of parallel calls', async () => {
    const outcome = await run('await Promise.all(Array.from({ length: 1000 }, () => echo({})))', {
      limits: { maxToolCalls: 10 },
    })
    expect(outcome).toMatchObject({ type: 'error', error: { kind: 'limit', limit: 'maxToolCalls' } })
  })

  it('a leftover job cannot call a tool after its run ended', async () => {
    calls = 0
    const session = await createLocalExecutor().createSession({ tools: [counter] })
    await session.run('Promise.resolve().then(() => null).then(() => count({}))\n1')
    await session.run('await null')
    expect(calls).toBe(0)
    await session.dispose()
  })

  it.each([
    ['a getter', `({ get x() { ${ranOnHost} } })`],
    [
      'a proxy',
      `new Proxy({}, { ownKeys() { ${ranOnHost.replace('return 1', 'return []')} }, get() { ${ranOnHost} } })`,
    ],
    ['a toJSON method', `({ toJSON() { ${ranOnHost} } })`],
    ['a then method', `({ then(r) { ${ranOnHost.replace('return 1', 'r(1)')} } })`],
    ['a function', '({ f() {} })'],
    ['a cycle', '(() => { const o = {}; o.self = o; return o })()'],
    ['a class instance', '(new (class Secret { constructor() { this.a = 1 } })())'],
    ['a symbol key only', '({ [Symbol("s")]: 1 })'],
  ])('a tool argument with %s runs no sandbox code on the host', async (_name, value) => {
    const outcome = await run(
      `let result\ntry { result = await echo(${value}) } catch (e) { result = e.name }\n;[result, typeof hostRan]`,
    )
    const [, hostRan] = valueOf(outcome) as [unknown, string]
    expect(hostRan).toBe('undefined')
  })

  it('a tool argument over maxValueBytes never reaches the tool', async () => {
    calls = 0
    const outcome = await run("await count({ s: 'x'.repeat(2 ** 20) })", {
      tools: [counter],
      limits: { maxValueBytes: 1024 },
    })
    // core's tool caller refuses it as a failed tool call that states the limit.
    expect(outcome).toMatchObject({
      type: 'error',
      error: { kind: 'tool', message: expect.stringContaining('larger than the limit of 1024 bytes') },
    })
    expect(calls).toBe(0)
  })

  it('a deeply nested tool argument is refused cleanly', async () => {
    const outcome = await run(
      'let v = {}\nfor (let i = 0; i < 100000; i++) v = { v }\nlet r\ntry { await echo(v) } catch (e) { r = e instanceof Error }\nr',
    )
    expect(outcome.type === 'value' || outcome.type === 'error').toBe(true)
    expect(JSON.stringify(outcome)).not.toContain(process.cwd())
  })

  it.each([
    ['a getter', `({ get x() { ${ranOnHost} } })`],
    ['a then getter', `({ get then() { globalThis.hostRan = true; return undefined } })`],
    [
      'a proxy',
      `new Proxy({}, { get() { ${ranOnHost} }, ownKeys() { globalThis.hostRan = true; return [] } })`,
    ],
    ['a toJSON method', `({ toJSON() { ${ranOnHost} } })`],
  ])('the run value with %s runs no sandbox code on the host', async (_name, value) => {
    const session = await createLocalExecutor().createSession()
    await session.run(`const v = ${value}\nv`)
    expect(await session.run('typeof hostRan')).toMatchObject({ value: 'undefined' })
    await session.dispose()
  })

  it.each([
    ['a getter', `({ get x() { ${ranOnHost} } })`],
    ['a proxy', `new Proxy({}, { get() { ${ranOnHost} } })`],
  ])('finalAnswer with %s runs no sandbox code on the host', async (_name, value) => {
    const session = await createLocalExecutor().createSession()
    await session.run(`finalAnswer(${value})`)
    expect(await session.run('typeof hostRan')).toMatchObject({ value: 'undefined' })
    await session.dispose()
  })
})

describe('console output', () => {
  it('a flood is cut at maxOutputBytes with a visible marker', async () => {
    const outcome = await run("for (let i = 0; i < 10000; i++) console.log('x'.repeat(100))\n1", {
      limits: { maxOutputBytes: 1000 },
    })
    expect(outcome.logs.length).toBeLessThan(1200)
    expect(outcome.logs).toContain('output truncated')
  })

  it('logging a huge sparse array is bounded', async () => {
    const started = performance.now()
    const outcome = await run('const a = []\na.length = 2 ** 32 - 1\nconsole.log(a)\n1')
    expect(valueOf(outcome)).toBe(1)
    expect(outcome.logs.length).toBeLessThan(70_000)
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('logging a getter or a proxy runs no sandbox code on the host', async () => {
    const outcome = await run(
      `console.log({ get x() { ${ranOnHost} } }, new Proxy({}, { get() { ${ranOnHost} } }))\ntypeof hostRan`,
    )
    expect(valueOf(outcome)).toBe('undefined')
  })

  it('logging an object with a custom inspect symbol does not call it', async () => {
    const outcome = await run(
      `console.log({ [Symbol.for('nodejs.util.inspect.custom')]() { ${ranOnHost} } })\ntypeof hostRan`,
    )
    expect(valueOf(outcome)).toBe('undefined')
  })
})
