import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AirlockError } from '@airlock/core'
import { describe, expect, it } from 'vitest'
import {
  ContextOverflowError,
  createOpenAIModel,
  ModelAuthError,
  ModelCallError,
  ModelConnectionError,
  ModelNotFoundError,
  ModelRateLimitError,
  type OpenAIModelSettings,
} from '../src/index.js'
import { apiError, completion, hang, json, replyChunks, sse, useOpenAIServer } from './openai-server.js'

const server = useOpenAIServer()
const { model } = server

const messages = [{ role: 'user', content: 'hi' }] as const

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    if (error instanceof Error) return error
    throw new Error(`rejected with a non-error: ${String(error)}`)
  }
  throw new Error('resolved, but a rejection was expected')
}

async function streamRejection(settings: Partial<OpenAIModelSettings> = {}): Promise<Error> {
  return rejection(
    (async () => {
      for await (const _delta of model(settings).stream(messages)) {
        // drained
      }
    })(),
  )
}

describe('auth', () => {
  it('maps 401 to ModelAuthError that names the key and the baseURL', async () => {
    server.script(
      apiError(
        401,
        { message: 'Incorrect API key provided: sk-test.', code: 'invalid_api_key' },
        { 'x-request-id': 'req_1' },
      ),
    )
    const error = await rejection(model().generate(messages))

    expect(ModelAuthError.isInstance(error)).toBe(true)
    expect(ModelCallError.isInstance(error)).toBe(true)
    expect(AirlockError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({
      name: 'ModelAuthError',
      status: 401,
      code: 'invalid_api_key',
      requestId: 'req_1',
      modelId: 'openai:test-model',
      baseURL: server.baseURL,
      isRetryable: false,
    })
    expect(error.message).toBe(
      `${server.baseURL} answered 401: Incorrect API key provided: sk-test. Check apiKey (or OPENAI_API_KEY), and that baseURL is the server this key belongs to.`,
    )
    expect(server.requests).toHaveLength(1)
  })

  it('says no key was sent when the server wanted one', async () => {
    server.script(apiError(401, { message: 'Unauthorized' }))
    const error = await rejection(
      createOpenAIModel({ model: 'test-model', baseURL: server.baseURL }).generate(messages),
    )

    expect(ModelAuthError.isInstance(error)).toBe(true)
    expect(error.message).toMatch(
      /answered 401: Unauthorized\. No API key was sent: pass apiKey to createOpenAIModel\.$/,
    )
  })

  it('maps 403 to ModelAuthError about permissions', async () => {
    server.script(apiError(403, { message: 'You are not allowed to sample from this model' }))
    const error = await rejection(model().generate(messages))

    expect(error).toMatchObject({ name: 'ModelAuthError', status: 403 })
    expect(error.message).toMatch(/may lack access to test-model/)
  })

  it('maps 401 on a stream request too', async () => {
    server.script(apiError(401, { message: 'bad key' }))

    expect(ModelAuthError.isInstance(await streamRejection())).toBe(true)
  })
})

describe('unknown model', () => {
  it('maps 404 model_not_found to ModelNotFoundError naming the model and baseURL', async () => {
    server.script(
      apiError(404, {
        message: 'The model `gpt-9` does not exist or you do not have access to it.',
        code: 'model_not_found',
      }),
    )
    const error = await rejection(model({ model: 'gpt-9' }).generate(messages))

    expect(ModelNotFoundError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ model: 'gpt-9', status: 404, code: 'model_not_found', isRetryable: false })
    expect(error.message).toBe(
      `The server does not know the model "gpt-9": ${server.baseURL} answered 404: The model \`gpt-9\` does not exist or you do not have access to it. Check the model id (GET ${server.baseURL}/models lists them; for Ollama, run \`ollama pull gpt-9\`) and that baseURL is the API root, usually ending in /v1.`,
    )
  })

  it('recognises the wordings of Ollama (404) and of routers that answer 400', async () => {
    server.script(
      apiError(404, { message: 'model "qwen9" not found, try pulling it first', type: 'api_error' }),
      apiError(400, { message: 'qwen9 is not a valid model ID' }),
    )

    expect(ModelNotFoundError.isInstance(await rejection(model({ model: 'qwen9' }).generate(messages)))).toBe(
      true,
    )
    expect(ModelNotFoundError.isInstance(await rejection(model({ model: 'qwen9' }).generate(messages)))).toBe(
      true,
    )
  })
})

describe('context overflow', () => {
  it('maps 400 context_length_exceeded to ContextOverflowError', async () => {
    server.script(
      apiError(400, {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
        code: 'context_length_exceeded',
        param: 'messages',
      }),
    )
    const error = await rejection(model().generate(messages))

    expect(ContextOverflowError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', isRetryable: false })
    expect(error.message).toMatch(/^The request does not fit the context window of test-model: /)
    expect(error.message).toMatch(/Shorten the conversation, lower maxOutputTokens, or use a model/)
  })

  it('recognises overflow by message when the server sends no code (vLLM, llama.cpp)', async () => {
    server.script(
      json(
        {
          error: {
            message:
              "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (1000 in the messages, 4000 in the completion).",
            type: 'BadRequestError',
            code: 400,
          },
        },
        { status: 400 },
      ),
      apiError(400, {
        message: 'the request exceeds the available context size, try increasing it',
        type: 'exceed_context_size_error',
      }),
    )

    expect(ContextOverflowError.isInstance(await rejection(model().generate(messages)))).toBe(true)
    expect(ContextOverflowError.isInstance(await rejection(model().generate(messages)))).toBe(true)
  })
})

describe('retries', () => {
  it('retries a 429 after the Retry-After the server asked for, then succeeds', async () => {
    server.script(
      apiError(
        429,
        { message: 'Rate limit reached', code: 'rate_limit_exceeded' },
        { 'retry-after-ms': '120' },
      ),
      json(completion('finally')),
    )
    const output = await model().generate(messages)

    expect(output.text).toBe('finally')
    expect(server.requests).toHaveLength(2)
    const waited = server.requests[1]!.at - server.requests[0]!.at
    expect(waited).toBeGreaterThanOrEqual(110)
    expect(waited).toBeLessThan(1000)
    expect(server.requests[1]!.headers['x-stainless-retry-count']).toBe('1')
  })

  it('honours Retry-After in seconds, and retries stream requests before the body starts', async () => {
    server.script(apiError(429, { message: 'slow down' }, { 'retry-after': '0.1' }), sse(replyChunks(['ok'])))
    const deltas = []
    for await (const delta of model().stream(messages)) deltas.push(delta)

    expect(deltas.map((delta) => delta.type)).toEqual(['text', 'finish'])
    expect(server.requests).toHaveLength(2)
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(90)
  })

  it('gives up with ModelRateLimitError after maxRetries, with the wait the server asked for', async () => {
    const limited = () => apiError(429, { message: 'Rate limit reached' }, { 'retry-after-ms': '10' })
    server.script(limited(), limited(), limited())
    const error = await rejection(model({ maxRetries: 2 }).generate(messages))

    expect(server.requests).toHaveLength(3)
    expect(ModelRateLimitError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ status: 429, isRetryable: true, retryAfterMs: 10 })
    expect(error.message).toBe(
      `${server.baseURL} answered 429: Rate limit reached. Still rate limited after 2 retries: wait and try again, send fewer requests, or raise maxRetries.`,
    )
  })

  it('says an exhausted quota is not worth retrying', async () => {
    server.script(apiError(429, { message: 'You exceeded your current quota.', code: 'insufficient_quota' }))
    const error = await rejection(model({ maxRetries: 0 }).generate(messages))

    expect(error).toMatchObject({
      name: 'ModelRateLimitError',
      isRetryable: false,
      code: 'insufficient_quota',
    })
    expect(error.message).toMatch(/out of quota; check its plan and billing/)
  })

  it('retries a 500 with exponential backoff and jitter when the server names no wait', async () => {
    server.script(apiError(500, { message: 'boom', type: 'server_error' }), json(completion('recovered')))
    const output = await model({ maxRetries: 1 }).generate(messages)

    expect(output.text).toBe('recovered')
    expect(server.requests).toHaveLength(2)
    // The SDK's first backoff: 0.5 s less up to 25% jitter.
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(370)
  })

  it('ends with a retryable ModelCallError when 5xx persists', async () => {
    const failing = () => apiError(503, { message: 'overloaded' }, { 'retry-after-ms': '5' })
    server.script(failing(), failing())
    const error = await rejection(model({ maxRetries: 1 }).generate(messages))

    expect(server.requests).toHaveLength(2)
    expect(error).toMatchObject({ name: 'ModelCallError', status: 503, isRetryable: true })
    expect(error.message).toBe(
      `${server.baseURL} answered 503: overloaded (after 1 retries). The server failed; retry later.`,
    )
  })

  it('does not retry a 400', async () => {
    server.script(apiError(400, { message: 'bad' }))
    await rejection(model({ maxRetries: 3 }).generate(messages))

    expect(server.requests).toHaveLength(1)
  })

  it('points at sendStop: false when the model rejects stop sequences', async () => {
    server.script(
      apiError(400, {
        message: "Unsupported parameter: 'stop' is not supported with this model.",
        code: 'unsupported_parameter',
        param: 'stop',
      }),
    )
    const error = await rejection(model({ model: 'o3' }).generate(messages, { stop: ['<end_code>'] }))

    expect(error.message).toMatch(/does not accept stop sequences: create it with sendStop: false/)
  })
})

describe('connection', () => {
  it('maps an unreachable server to ModelConnectionError naming the baseURL', async () => {
    const closed = createServer()
    closed.listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const { port } = closed.address() as AddressInfo
    closed.close()
    await once(closed, 'close')

    const baseURL = `http://127.0.0.1:${port}/v1`
    const error = await rejection(
      createOpenAIModel({ model: 'm', baseURL, maxRetries: 0 }).generate([{ role: 'user', content: 'hi' }]),
    )

    expect(ModelConnectionError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ timedOut: false, isRetryable: true, baseURL })
    expect(error.message).toMatch(
      new RegExp(
        `^Could not reach ${baseURL.replaceAll('.', '\\.')} \\(.*ECONNREFUSED.*; 1 attempt\\)\\. Check that the server is running`,
      ),
    )
  })

  it('maps a server that does not answer in timeoutMs to ModelConnectionError with timedOut', async () => {
    server.script(hang(), hang())
    const startedAt = performance.now()
    const error = await rejection(model({ timeoutMs: 100, maxRetries: 0 }).generate(messages))

    expect(ModelConnectionError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ timedOut: true })
    expect(error.message).toBe(
      `${server.baseURL} did not answer within 100 ms (1 attempt). Raise timeoutMs for a slow model or a long reply, or check that the server is not overloaded.`,
    )
    expect(performance.now() - startedAt).toBeLessThan(1000)
    await server.requests[0]!.closedEarly
  })
})
