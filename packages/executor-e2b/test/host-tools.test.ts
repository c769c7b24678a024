// Tools run on the host, with the host's secrets; the sandbox only ever sees tool names, arguments
// and results. These tests prove it the blunt way: everything the fake E2B received or sent back
// (headers, bodies, decoded stdin, uploaded files, process output) is searched for the secret.

import { createHmac, randomBytes } from 'node:crypto'
import { CodeAgent, defineTool } from '@airlock/core'
import { ScriptedModel } from '@airlock/core/testing'
import { describe, expect, it, onTestFinished } from 'vitest'
import { z } from 'zod'
import { createE2BExecutor } from '../src/index.js'
import { useFakeE2B, value } from './support/fake-e2b.js'

const fake = useFakeE2B()

// Unique per run, so a match can only come from this test's traffic.
const SECRET = `sk-live-${randomBytes(24).toString('hex')}`
const signature = (text: string) => createHmac('sha256', SECRET).update(text).digest('hex')
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// Tools that cannot work without the secret, as an API client's tools would.
const sign = defineTool({
  name: 'sign',
  description: 'Signs text with the service key.',
  parameters: z.object({ text: z.string() }),
  execute: async ({ text }) => {
    await sleep(Math.random() * 20)
    return signature(text)
  },
})
const getAccount = defineTool({
  name: 'get_account',
  description: 'Looks up an account with the service credentials.',
  parameters: z.object({ id: z.string() }),
  returns: z.object({ id: z.string(), plan: z.string(), authorized: z.boolean() }),
  execute: async ({ id }) => {
    const authorization = `Bearer ${SECRET}`
    return { id, plan: 'pro', authorized: authorization.endsWith(SECRET) }
  },
})

describe('tools run on the host', () => {
  it('concurrent calls of tools holding a secret work, and the secret never reaches E2B', async () => {
    const session = await createE2BExecutor(fake.connection).createSession({ tools: [sign, getAccount] })
    onTestFinished(() => session.dispose())
    const texts = Array.from({ length: 12 }, (_, index) => `message ${index}`)
    const outcome = await session.run(
      [
        `const texts = ${JSON.stringify(texts)}`,
        'const [account, ...signatures] = await Promise.all([',
        "  get_account({ id: 'acct_7' }),",
        '  ...texts.map((text) => sign({ text })),',
        '])',
        'console.log(account.plan, signatures.length)',
        ';({ account, signatures })',
      ].join('\n'),
    )
    expect(value(outcome)).toEqual({
      account: { id: 'acct_7', plan: 'pro', authorized: true },
      signatures: texts.map(signature),
    })
    expect(outcome.logs).toBe('pro 12\n')
    expect(outcome.stats.toolCalls).toHaveLength(13)

    const everything = fake.transcript()
    expect(everything.length).toBeGreaterThan(10_000)
    // What the sandbox was told about the tools: their names, nothing else.
    expect(everything).toContain('"tools":["sign","get_account"]')
    expect(everything).not.toContain(SECRET)
    // Nor the tools' code: the HMAC call and the bearer header exist only on the host.
    expect(everything).not.toContain('createHmac')
    expect(everything).not.toContain('Bearer')
    // The E2B API key goes to the control plane only, never to the sandbox.
    const toSandbox = fake.requests.filter((request) => request.sandboxId !== undefined)
    expect(toSandbox.length).toBeGreaterThan(0)
    for (const request of toSandbox) expect(JSON.stringify(request)).not.toContain(fake.apiKey)
    for (const request of fake.requests) expect(request.body).not.toContain(fake.apiKey)
  })

  it('managed agents work on this executor: the sub-agent runs on the host and uses its tools there', async () => {
    const executor = createE2BExecutor(fake.connection)
    const researcher = new CodeAgent({
      name: 'researcher',
      description: 'Looks up accounts with the service credentials.',
      model: new ScriptedModel([
        'Thought: look the account up and sign its id.\n```ts\n' +
          "const account = await get_account({ id: 'acct_7' })\n" +
          'const signed = await sign({ text: account.id })\n' +
          'finalAnswer({ plan: account.plan, signed })\n```\n<end_code>',
      ]),
      executor,
      tools: [getAccount, sign],
    })
    const lead = new CodeAgent({
      model: new ScriptedModel([
        'Thought: the researcher has the credentials.\n```ts\n' +
          "const found = await researcher({ task: 'Find the plan of account acct_7 and sign its id.' })\n" +
          'finalAnswer(`plan ${found.plan}, signed ${found.signed.slice(0, 12)}`)\n```\n<end_code>',
      ]),
      executor,
      managedAgents: [researcher],
    })
    const before = fake.sandboxes.size
    const result = await lead.run('What plan is account acct_7 on?')
    expect(result.error).toBeUndefined()
    expect(result).toMatchObject({
      state: 'success',
      output: `plan pro, signed ${signature('acct_7').slice(0, 12)}`,
    })
    // One sandbox for the lead, one for the researcher's run; both killed when their runs ended.
    const made = [...fake.sandboxes.values()].slice(before)
    expect(made).toHaveLength(2)
    expect(made.every((sandbox) => !sandbox.alive)).toBe(true)
    expect(fake.transcript()).not.toContain(SECRET)
  })

  it('values larger than one stdin write travel in parts, both ways', async () => {
    const echo = defineTool({
      name: 'echo',
      description: 'Returns what it gets.',
      parameters: z.object({ text: z.string() }),
      execute: ({ text }) => `${text}!`,
    })
    const big = defineTool({
      name: 'get_big',
      description: 'Returns a large text.',
      parameters: z.object({}),
      execute: () => 'é'.repeat(600_000),
    })
    const session = await createE2BExecutor(fake.connection).createSession({ tools: [echo, big] })
    onTestFinished(() => session.dispose())
    const outcome = await session.run(
      "const text = await get_big({})\nconst back = await echo({ text })\n;[text.length, back.length, back.endsWith('é!')]",
    )
    expect(value(outcome)).toEqual([600_000, 600_001, true])
    const parts = fake.requests.filter((request) =>
      request.decoded.some((text) => text.startsWith('{"t":"part"')),
    )
    expect(parts.length).toBeGreaterThanOrEqual(3)
  })
})
