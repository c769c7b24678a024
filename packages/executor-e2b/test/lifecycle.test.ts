import { defineTool } from '@airlock/core'
import { E2B } from '@e2b/code-interpreter'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import {
  E2BSandboxNotFoundError,
  type E2BSession,
  createE2BExecutor,
  findOrphanedSandboxes,
  killOrphanedSandboxes,
} from '../src/index.js'
import { useFakeE2B, value } from './support/fake-e2b.js'

const fake = useFakeE2B()

function disposeLater(session: E2BSession): E2BSession {
  onTestFinished(() => session.dispose())
  return session
}

/** A sandbox made with the SDK directly, as another program would. */
async function foreignSandbox(metadata: Record<string, string>): Promise<string> {
  const client = new E2B({ ...fake.connection, debug: false })
  const sandbox = await client.Sandbox.create({ metadata, timeoutMs: 60_000 })
  onTestFinished(() => fake.expire(sandbox.sandboxId))
  return sandbox.sandboxId
}

const ping = defineTool({
  name: 'ping',
  description: 'Answers pong.',
  parameters: { type: 'object' },
  execute: () => 'pong',
})

describe('sandbox lifecycle', () => {
  it('creates the sandbox from the template, with its lifetime and airlock metadata', async () => {
    const executor = createE2BExecutor({
      ...fake.connection,
      template: 'code-interpreter-v1',
      sandboxTimeoutMs: 120_000,
      metadata: { app: 'lifecycle-test', airlock: 'spoofed' },
    })
    const session = disposeLater(await executor.createSession({ sessionId: 'lifecycle-1' }))
    const sandbox = fake.sandboxes.get(session.sandboxId)!
    expect(sandbox.templateId).toBe('code-interpreter-v1')
    expect(sandbox.timeouts[0]).toBe(120)
    expect(sandbox.metadata).toEqual({ app: 'lifecycle-test', airlock: '1', airlockSession: 'lifecycle-1' })
  })

  it('dispose kills the sandbox and the harness; await using does too', async () => {
    const executor = createE2BExecutor(fake.connection)
    let id: string
    {
      await using session = await executor.createSession()
      id = session.sandboxId
      expect(value(await session.run('1 + 1'))).toBe(2)
      expect(fake.sandboxes.get(id)?.alive).toBe(true)
    }
    expect(fake.sandboxes.get(id)?.alive).toBe(false)
    const session = await executor.createSession()
    await session.dispose()
    await session.dispose()
    expect(fake.sandboxes.get(session.sandboxId)?.alive).toBe(false)
    expect(await session.run('1')).toMatchObject({ type: 'error', error: { kind: 'internal' } })
  })

  it('a run extends the sandbox lifetime when less than it needs is left', async () => {
    const executor = createE2BExecutor({ ...fake.connection, sandboxTimeoutMs: 2_000 })
    const session = disposeLater(await executor.createSession({ limits: { timeoutMs: 1_000 } }))
    const sandbox = fake.sandboxes.get(session.sandboxId)!
    expect(sandbox.timeouts).toEqual([2])
    expect(value(await session.run('1'))).toBe(1)
    // The run may take timeoutMs, so the sandbox must outlive that by a margin: 1 s + 60 s.
    expect(sandbox.timeouts).toEqual([2, 61])
    expect(value(await session.run('2'))).toBe(2)
    expect(sandbox.timeouts).toEqual([2, 61])
  })
})

describe('reconnecting', () => {
  it('connectSession attaches to the running harness: state survives, new tools are installed', async () => {
    const executor = createE2BExecutor(fake.connection)
    const first = disposeLater(await executor.createSession({ sessionId: 'reconnect-1' }))
    expect(value(await first.run('const kept = 42'))).toBeUndefined()
    // As a restarted host would: only the sandbox id is known.
    const second = disposeLater(await executor.connectSession(first.sandboxId, { tools: [ping] }))
    expect(second.reattached).toBe(true)
    expect(second.id).toBe('reconnect-1')
    expect(value(await second.run('[kept, await ping({})]'))).toEqual([42, 'pong'])
  })

  it('with other limits, connectSession starts a fresh harness with the variables', async () => {
    const executor = createE2BExecutor(fake.connection)
    const first = disposeLater(await executor.createSession())
    expect(value(await first.run('const kept = 42'))).toBeUndefined()
    const processes = fake.sandboxes.get(first.sandboxId)!.processes
    const [old] = [...processes.values()]
    const second = disposeLater(
      await executor.connectSession(first.sandboxId, {
        limits: { memoryMb: 96 },
        variables: { initial: 'x' },
      }),
    )
    expect(second.reattached).toBe(false)
    expect(value(await second.run('[typeof kept, initial]'))).toEqual(['undefined', 'x'])
    // The harness started with other limits was killed, not left running beside the new one
    // (a kill is a signal: the process exits a moment after envd answers).
    await vi.waitFor(() => expect(old?.exited).toBe(true), { timeout: 2000 })
    expect(
      [...processes.values()].some((process) => !process.exited && process.args.join(' ').includes('=96 ')),
    ).toBe(true)
  })

  it('connectSession refuses sandboxes that are gone or were not made by airlock', async () => {
    const executor = createE2BExecutor(fake.connection)
    const gone = await executor.connectSession('fake-does-not-exist').catch((error: unknown) => error)
    expect(E2BSandboxNotFoundError.isInstance(gone)).toBe(true)
    const foreign = await foreignSandbox({ owner: 'someone else' })
    const refused = await executor.connectSession(foreign).catch((error: unknown) => error)
    expect(E2BSandboxNotFoundError.isInstance(refused)).toBe(true)
    expect((refused as Error).message).toMatch(/not created by airlock/)
    expect(fake.sandboxes.get(foreign)?.alive).toBe(true)
  })
})

describe('orphaned sandboxes', () => {
  it('are airlock sandboxes no live session here holds; only they are killed', async () => {
    const held = disposeLater(
      await createE2BExecutor({ ...fake.connection, metadata: { app: 'x' } }).createSession(),
    )
    const orphan = await foreignSandbox({ airlock: '1', airlockSession: 'crashed-host', app: 'x' })
    const unrelated = await foreignSandbox({ app: 'x' })

    const found = await findOrphanedSandboxes(fake.connection)
    expect(found.map((entry) => entry.sandboxId)).toEqual([orphan])
    expect(found[0]).toMatchObject({ sessionId: 'crashed-host', metadata: { app: 'x' } })
    expect(await findOrphanedSandboxes({ ...fake.connection, olderThanMs: 60_000 })).toEqual([])
    expect(await findOrphanedSandboxes({ ...fake.connection, metadata: { app: 'y' } })).toEqual([])
    const listed = fake.requests.filter(
      (request) => request.path === '/v2/sandboxes' && request.method === 'GET',
    )
    expect(new URL(listed.at(-1)!.url, fake.url).searchParams.get('metadata')).toBe('app=y&airlock=1')

    expect(await killOrphanedSandboxes(fake.connection)).toEqual([orphan])
    expect(fake.sandboxes.get(orphan)?.alive).toBe(false)
    expect(fake.sandboxes.get(held.sandboxId)?.alive).toBe(true)
    expect(fake.sandboxes.get(unrelated)?.alive).toBe(true)
  })
})

describe('the sandbox behind a session', () => {
  it('is there for setup: files written by the host are read by the code', async () => {
    const session = disposeLater(
      await createE2BExecutor(fake.connection).createSession({ allowedModules: ['node:fs'] }),
    )
    await session.sandbox.files.write('/home/user/data.txt', 'hello from the host')
    expect(
      value(await session.run("import { readFileSync } from 'node:fs'\nreadFileSync('data.txt', 'utf8')")),
    ).toBe('hello from the host')
  })

  it("offers the code interpreter's kernel too, whose quirks the executor's harness avoids", async () => {
    const session = disposeLater(await createE2BExecutor(fake.connection).createSession())
    const first = await session.sandbox.runCode('const x = 1\nx + 1', { language: 'js' })
    expect(first.error).toBeUndefined()
    expect(first.text).toBe('2')
    expect((await session.sandbox.runCode("'quoted'", { language: 'js' })).text).toBe('quoted')
    // The kernel's REPL cannot declare a const twice; a code action can.
    const again = await session.sandbox.runCode('const x = 2', { language: 'js' })
    expect(again.error).toMatchObject({ name: 'SyntaxError', value: expect.stringContaining("'x'") })
    expect(value(await session.run('const x = 1'))).toBeUndefined()
    expect(value(await session.run("const x = 'quoted'\nx"))).toBe('quoted')
    const execute = fake.requests.find((request) => request.path === '/execute')
    expect(execute?.headers['e2b-sandbox-port']).toBe('49999')
    expect(execute?.headers['x-access-token']).toBe(fake.sandboxes.get(session.sandboxId)?.accessToken)
  })
})
