import { defineTool, type RunOutcome } from '@airlock/core'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { createLocalExecutor } from '../src/index.js'

const executor = createLocalExecutor({ thread: 'worker' })

describe("thread: 'worker'", () => {
  it('claims hardKill, which the main thread cannot give', () => {
    expect(executor.capabilities).toMatchObject({ hardKill: true, memoryLimit: false, operationLimit: true })
    expect(createLocalExecutor().capabilities).toMatchObject({ hardKill: false, memoryLimit: false })
    expect(() => createLocalExecutor({ thread: 'other' as 'main' })).toThrow(
      /thread must be 'main' or 'worker'/,
    )
  })

  it('an abort ends code that never yields, and the session keeps its state', async () => {
    await using session = await executor.createSession({ limits: { maxOperations: Infinity } })
    await session.run('const kept = [1, 2]')
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const outcome = await session.run("console.log('spinning')\nfor (;;) {}", { signal: controller.signal })
    expect(outcome).toMatchObject({ type: 'error', error: { kind: 'aborted' }, logs: 'spinning\n' })
    expect('sessionLost' in (outcome.type === 'error' ? outcome.error : {})).toBe(false)
    expect(await session.run('kept')).toMatchObject({ type: 'value', value: [1, 2] })
  })

  it("the worker's own globals stay out of reach", async () => {
    await using session = await executor.createSession()
    const outcome = await session.run(
      [
        'const F = (() => 1).constructor.constructor',
        "const seen = F('return [typeof process, typeof parentPort, typeof workerData, typeof postMessage, typeof self]')()",
        'let required',
        "try { require('node:worker_threads') } catch (error) { required = error.name }",
        '[...seen, typeof process, required]',
      ].join('\n'),
    )
    expect(outcome).toMatchObject({ value: [...Array(6).fill('undefined'), 'ForbiddenError'] })
  })

  it('tools run in the main thread: arguments are validated there, results copied in', async () => {
    const seen: unknown[] = []
    const lookup = defineTool({
      name: 'lookup',
      description: 'Looks a key up.',
      parameters: z.object({ key: z.string() }),
      execute: ({ key }, context) => {
        seen.push(context.sessionId)
        return { key, at: new Date(0), tags: new Set(['a']) }
      },
    })
    await using session = await executor.createSession({ tools: [lookup], sessionId: 'worker-tools' })
    const outcome = await session.run(
      [
        'const found = await lookup({ key: "k" })',
        'let refused',
        'try { await lookup({ key: 1 }) } catch (error) { refused = error.name }',
        'let uncopyable',
        'try { await lookup({ key: "k", f() {} }) } catch (error) { uncopyable = error.name }',
        '[found.key, found.at.getTime(), found.tags.has("a"), refused, uncopyable]',
      ].join('\n'),
    )
    expect(outcome).toMatchObject({
      type: 'value',
      value: ['k', 0, true, 'ToolInputError', 'DataBoundaryError'],
    })
    expect(outcome.stats.toolCalls.map((call) => call.ok)).toEqual([true, false, false])
    expect(seen).toEqual(['worker-tools'])
  })

  it('maxToolCalls ends the run even when the code catches the refusal', async () => {
    const ping = defineTool({
      name: 'ping',
      description: 'Pings.',
      parameters: z.object({}),
      execute: () => 1,
    })
    await using session = await executor.createSession({ tools: [ping], limits: { maxToolCalls: 2 } })
    const outcome = await session.run('for (let i = 0; i < 5; i++) { try { await ping() } catch {} }\n"done"')
    expect(outcome).toMatchObject({ type: 'error', error: { kind: 'limit', limit: 'maxToolCalls' } })
    expect(outcome.stats.toolCalls).toHaveLength(2)
  })

  it('output is capped in the worker and streamed to onLog', async () => {
    await using session = await executor.createSession({ limits: { maxOutputBytes: 30 } })
    const lines: string[] = []
    const outcome = await session.run('for (let i = 0; i < 100; i++) console.log("line", i)', {
      onLog: (line) => lines.push(line),
    })
    expect(outcome.logs.startsWith('line 0\nline 1\nline 2\nline 3\nl\n[output truncated')).toBe(true)
    expect(outcome.logs).toContain('truncated')
    expect(lines.map((line) => `${line}\n`).join('')).toBe(outcome.logs)
  })

  it('past memoryMb the worker is usually stopped, not the process; the next run starts from the initial variables', async () => {
    await using session = await executor.createSession({
      limits: { memoryMb: 32, maxOperations: Infinity },
      variables: { initial: 'v' },
    })
    await session.run('var lost = 1')
    const outcome = await session.run('const chunks = []\nfor (;;) chunks.push(new Array(100_000).fill(1.5))')
    expect(outcome).toMatchObject({
      type: 'error',
      error: { kind: 'limit', limit: 'memoryMb', sessionLost: true },
    })
    expect(await session.run('[typeof lost, initial]')).toMatchObject({ value: ['undefined', 'v'] })
  })

  it('a session keeps data up to memoryMb and goes on allocating, without losing its worker', async () => {
    // The doubling stops at the per-call check with a 16 MB array kept; before the worker's heap
    // had room for it and later garbage, about half of such sessions lost their worker.
    for (let attempt = 0; attempt < 3; attempt++) {
      await using session = await executor.createSession({
        limits: { memoryMb: 16, maxOperations: Infinity, timeoutMs: 10_000 },
      })
      expect(await session.run('let a = [1]\nfor (;;) a = a.concat(a)')).toMatchObject({
        type: 'error',
        error: { kind: 'limit', limit: 'memoryMb' },
      })
      expect(
        await session.run(
          'let b\nfor (let i = 0; i < 60; i++) b = Array.from({ length: 100_000 }, (_, j) => j)\n;[a.length, b.length]',
        ),
      ).toMatchObject({ type: 'value', value: [2 ** 21, 100_000] })
    }
  })

  it('a call that does not stop at the deadline is ended by stopping the worker', async () => {
    // Made here, so no interpreted loop races the deadline on a loaded machine.
    const words = Array.from({ length: 250_000 }, (_, i) => String((i * 7919) % 250_007))
    await using session = await executor.createSession({
      limits: { timeoutMs: 400, maxOperations: Infinity, memoryMb: 512 },
      variables: { words },
    })
    await session.run('var before = 1')
    // One native sort of 8 million strings takes seconds, and no limit check runs until it returns.
    const started = performance.now()
    const outcome = await session.run('words.concat(...Array(31).fill(words)).sort()')
    expect(outcome).toMatchObject({
      type: 'error',
      error: { kind: 'limit', limit: 'timeoutMs', sessionLost: true },
    })
    expect(performance.now() - started).toBeLessThan(3_000)
    expect(await session.run('[typeof before, words.length]')).toMatchObject({
      value: ['undefined', 250_000],
    })
  })

  it('dispose ends the run in progress and stops the worker', async () => {
    const session = await executor.createSession({ limits: { maxOperations: Infinity } })
    const running: Promise<RunOutcome> = session.run('for (;;) {}')
    await new Promise((resolve) => setTimeout(resolve, 50))
    await session.dispose()
    expect(await running).toMatchObject({
      type: 'error',
      error: { name: 'SessionDisposedError', sessionLost: true },
    })
    expect(await session.run('1')).toMatchObject({ type: 'error', error: { name: 'SessionDisposedError' } })
  })

  it('a worker lost between runs: the next run says the state was lost and does not run', async () => {
    await using session = await executor.createSession({ variables: { initial: 'v' } })
    const posted = vi.spyOn(Worker.prototype, 'postMessage')
    await session.run('var lost = 1')
    const worker = posted.mock.contexts[0] as Worker
    posted.mockRestore()
    await worker.terminate()
    const outcome = await session.run('lost = 2')
    expect(outcome).toMatchObject({ type: 'error', error: { kind: 'internal', sessionLost: true } })
    expect(outcome.type === 'error' && outcome.error.message).toMatch(/did not run.*initial values/)
    expect(await session.run('[typeof lost, initial]')).toMatchObject({ value: ['undefined', 'v'] })
  })

  it('an idle session and the spare worker do not keep the process alive', async () => {
    const register = fileURLToPath(new URL('./security/dos/register.mjs', import.meta.url))
    const index = new URL('../src/index.ts', import.meta.url).href
    const script = [
      `import { createLocalExecutor } from ${JSON.stringify(index)}`,
      "const session = await createLocalExecutor({ thread: 'worker' }).createSession()",
      "console.log(JSON.stringify(await session.run('6 * 7')))",
    ].join('\n')
    const child = spawn(process.execPath, ['--import', register, '--input-type=module', '-e', script])
    let stdout = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const exitCode = await new Promise((resolve) => child.on('close', resolve))
    clearTimeout(timer)
    expect({ exitCode, stdout }).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('"value":42') })
  })

  it('one spare worker at most waits for a session, however many executors are made', async () => {
    // Node names the thread of each worker 'WorkerThread' (Linux lists threads in /proc).
    const threads = () =>
      readdirSync('/proc/self/task').filter(
        (task) => readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim() === 'WorkerThread',
      ).length
    const settle = () => new Promise((resolve) => setTimeout(resolve, 1_000))
    await settle()
    const before = threads()
    for (let i = 0; i < 4; i++) {
      const session = await createLocalExecutor({ thread: 'worker' }).createSession()
      await session.run('1')
      await session.dispose()
    }
    await settle()
    // The spare of the shared pool may be new (another memoryMb than before): one thread more at most.
    expect(threads() - before).toBeLessThanOrEqual(1)
  })

  it('sessions with another memoryMb than the spare get a worker of their own', async () => {
    await using first = await executor.createSession({ limits: { memoryMb: 64 } })
    await using second = await executor.createSession({ limits: { memoryMb: 96 } })
    await using third = await executor.createSession({ limits: { memoryMb: 96 } })
    const values = await Promise.all([first, second, third].map((session, i) => session.run(`${i} + 1`)))
    expect(values.map((outcome) => outcome.type === 'value' && outcome.value)).toEqual([1, 2, 3])
  })

  it('bad options fail createSession with the same errors as in the main thread', async () => {
    await expect(executor.createSession({ variables: { 'not a name': 1 } })).rejects.toThrow(/not usable/)
    await expect(executor.createSession({ variables: { f: (() => 1) as never } })).rejects.toThrow(
      /variables\.f/,
    )
    await expect(executor.createSession({ limits: { timeoutMs: -1 } })).rejects.toThrow(/positive integer/)
  })
})
