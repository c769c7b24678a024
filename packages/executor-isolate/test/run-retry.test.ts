import { prepareCodeActionQuickly } from '@airlock/core'
import { describe, expect, it } from 'vitest'
import { type Connection, InProcessConnection, type SessionListener } from '../src/connection.js'
import type { SandboxMessage } from '../src/protocol.js'
import { IsolateSession } from '../src/session.js'

/** TypeScript the quick reading takes for JavaScript: its script does not compile, so the run is prepared again in full. */
const typeScript = 'globalThis.retried = true\nfunction typed() { let x: number = 41; return x + 1 }\ntyped()'

/**
 * An in-process connection that calls `beforeDelivery` with each message the sandbox sends, before
 * the session sees it: a way to act at an exact point of a run's exchange.
 */
async function interceptedConnection(beforeDelivery: (message: SandboxMessage) => void): Promise<Connection> {
  const connection = await InProcessConnection.create()
  return {
    post: (message) => connection.post(message),
    attach: (key, listener: SessionListener) =>
      connection.attach(key, {
        message: (message) => {
          beforeDelivery(message)
          listener.message(message)
        },
        lost: (loss) => listener.lost(loss),
      }),
    detach: (key) => connection.detach(key),
    get alive() {
      return connection.alive
    },
    get sessions() {
      return connection.sessions
    },
  }
}

async function openSession(connection: Connection): Promise<IsolateSession> {
  const session = new IsolateSession({}, { connect: async () => connection, moduleRoot: process.cwd() })
  await session.open()
  return session
}

describe('a run prepared again after its quick reading did not compile', () => {
  it('ends as aborted, running nothing, when the signal aborts before the full preparation is sent', async () => {
    expect(prepareCodeActionQuickly(typeScript, { importFunction: '__airlock_import' })).toBeDefined()
    const controller = new AbortController()
    let uncompiled = 0
    const connection = await interceptedConnection((message) => {
      if (message.type === 'done' && message.result.type === 'uncompiled') {
        uncompiled++
        controller.abort()
      }
    })
    await using session = await openSession(connection)
    const outcome = await session.run(typeScript, { signal: controller.signal })
    expect(uncompiled).toBe(1)
    expect(outcome).toMatchObject({ type: 'error', error: { kind: 'aborted', name: 'AbortError' } })
    expect(outcome.type === 'error' && outcome.error.sessionLost).toBeUndefined()
    expect(await session.run('[typeof retried, typeof typed]')).toMatchObject({
      type: 'value',
      value: ['undefined', 'undefined'],
    })
  })

  it('is stopped by an abort that arrives once the full preparation runs', async () => {
    const controller = new AbortController()
    // The fully prepared script prints before it spins: the abort comes exactly then.
    const connection = await interceptedConnection((message) => {
      if (message.type === 'log') controller.abort()
    })
    await using session = await openSession(connection)
    const spinning =
      "function spin() { let spins: number = 0; console.log('spinning'); while (true) spins++ }\nspin()"
    expect(prepareCodeActionQuickly(spinning, { importFunction: '__airlock_import' })).toBeDefined()
    expect(await session.run(spinning, { signal: controller.signal })).toMatchObject({
      type: 'error',
      error: { kind: 'aborted' },
      logs: 'spinning\n',
    })
  })
})
