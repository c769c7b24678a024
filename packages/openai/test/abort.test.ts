import { describe, expect, it } from 'vitest'
import { apiError, chunk, completion, hang, json, sse, useOpenAIServer } from './openai-server.js'

const server = useOpenAIServer()
const { model } = server

const messages = [{ role: 'user', content: 'hi' }] as const

/** Waits until the server has received `count` requests. */
async function requestsArrived(count: number): Promise<void> {
  while (server.requests.length < count) await new Promise((resolve) => setTimeout(resolve, 2))
}

describe('abort', () => {
  it('rejects generate with the signal’s AbortError mid-request, quickly, and closes the connection', async () => {
    server.script(hang())
    const controller = new AbortController()
    const pending = model().generate(messages, { signal: controller.signal })
    await requestsArrived(1)
    const abortedAt = performance.now()
    controller.abort()

    const error = await pending.catch((reason: unknown) => reason)
    expect(error).toBe(controller.signal.reason)
    expect(error).toMatchObject({ name: 'AbortError' })
    expect(performance.now() - abortedAt).toBeLessThan(200)
    await server.requests[0]!.closedEarly
  })

  it('rejects with a custom reason as given, not wrapped', async () => {
    server.script(hang())
    const reason = new Error('user pressed stop')
    const controller = new AbortController()
    const pending = model().generate(messages, { signal: controller.signal })
    await requestsArrived(1)
    controller.abort(reason)

    await expect(pending).rejects.toBe(reason)
  })

  it('rejects stream mid-stream with the signal’s reason and closes the connection', async () => {
    server.script(sse([chunk('one'), chunk(' two'), chunk(' three'), chunk(null, 'stop')], { delayMs: 40 }))
    const controller = new AbortController()
    const seen: string[] = []
    let abortedAt = 0
    const error = await (async () => {
      for await (const delta of model().stream(messages, { signal: controller.signal })) {
        if (delta.type === 'text') seen.push(delta.text)
        if (seen.length === 1) {
          abortedAt = performance.now()
          controller.abort()
        }
      }
    })().catch((reason: unknown) => reason)

    expect(seen).toEqual(['one'])
    expect(error).toBe(controller.signal.reason)
    expect(performance.now() - abortedAt).toBeLessThan(200)
    await server.requests[0]!.closedEarly
  })

  it('rejects stream with the reason while waiting for the first byte', async () => {
    server.script(hang())
    const controller = new AbortController()
    const iterator = model().stream(messages, { signal: controller.signal })[Symbol.asyncIterator]()
    const next = iterator.next()
    await requestsArrived(1)
    controller.abort()

    await expect(next).rejects.toMatchObject({ name: 'AbortError' })
    await server.requests[0]!.closedEarly
  })

  it('rejects at once and sends nothing when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort()

    await expect(model().generate(messages, { signal: controller.signal })).rejects.toBe(
      controller.signal.reason,
    )
    await expect(model().stream(messages, { signal: controller.signal }).next()).rejects.toBe(
      controller.signal.reason,
    )
    expect(server.requests).toHaveLength(0)
  })

  it('stops waiting between retries when aborted during the backoff', async () => {
    server.script(
      apiError(429, { message: 'slow down' }, { 'retry-after-ms': '5000' }),
      json(completion('late')),
    )
    const controller = new AbortController()
    const pending = model().generate(messages, { signal: controller.signal })
    await requestsArrived(1)
    await new Promise((resolve) => setTimeout(resolve, 30))
    const abortedAt = performance.now()
    controller.abort()

    await expect(pending).rejects.toBe(controller.signal.reason)
    expect(performance.now() - abortedAt).toBeLessThan(200)
    expect(server.requests).toHaveLength(1)
  })
})
