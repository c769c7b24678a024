import { InvalidDefinitionError } from '@airlock/core'
import OpenAI from 'openai'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOpenAIModel, ModelAuthError, OpenAIModel, type OpenAIModelSettings } from '../src/index.js'
import { completion, json, useOpenAIServer } from './openai-server.js'

const server = useOpenAIServer()
beforeEach(() => {
  // The developer's own environment must not leak into these tests.
  for (const name of [
    'OPENAI_API_KEY',
    'OPENAI_BASE_URL',
    'OPENAI_ORG_ID',
    'OPENAI_PROJECT_ID',
    'OPENAI_LOG',
  ]) {
    vi.stubEnv(name, undefined)
  }
})
afterEach(() => {
  vi.unstubAllEnvs()
})

const messages = [{ role: 'user', content: 'hi' }] as const

describe('identity', () => {
  it('is openai:<model> by default, <provider>:<model> when named', () => {
    const openai = createOpenAIModel({ model: 'gpt-5-mini', apiKey: 'sk' })
    const ollama = createOpenAIModel({
      model: 'qwen3:8b',
      provider: 'ollama',
      baseURL: 'http://127.0.0.1:11434/v1',
    })

    expect(openai).toBeInstanceOf(OpenAIModel)
    expect(openai.id).toBe('openai:gpt-5-mini')
    expect(openai.baseURL).toBe('https://api.openai.com/v1')
    expect(ollama.id).toBe('ollama:qwen3:8b')
    expect(ollama.model).toBe('qwen3:8b')
    expect(typeof ollama.stream).toBe('function')
  })

  it('refuses settings that cannot work, when they are written', () => {
    const bad: unknown[] = [
      undefined,
      {},
      { model: '' },
      { model: 'm', temperature: Number.NaN },
      { model: 'm', maxOutputTokens: 0 },
      { model: 'm', maxRetries: 1.5 },
      { model: 'm', timeoutMs: -1 },
      { model: 'm', provider: '' },
      { model: 'm', client: new OpenAI({ apiKey: 'sk' }), apiKey: 'sk' },
    ]
    for (const settings of bad) {
      expect(() => createOpenAIModel(settings as OpenAIModelSettings)).toThrow(InvalidDefinitionError)
    }
    expect(() => createOpenAIModel({ model: 'm', maxRetries: -1 })).toThrow(
      '`maxRetries` must be an integer of at least 0, got -1.',
    )
  })
})

describe('api key', () => {
  it('uses OPENAI_API_KEY and OPENAI_BASE_URL when baseURL is not set', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-from-env')
    vi.stubEnv('OPENAI_BASE_URL', server.baseURL)
    server.script(json(completion('ok')))
    const model = createOpenAIModel({ model: 'test-model' })
    await model.generate(messages)

    expect(model.baseURL).toBe(server.baseURL)
    expect(server.requests[0]!.headers['authorization']).toBe('Bearer sk-from-env')
  })

  it('never sends OPENAI_API_KEY, or OpenAI org and project ids, to a baseURL it was given', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-secret')
    vi.stubEnv('OPENAI_ORG_ID', 'org-secret')
    vi.stubEnv('OPENAI_PROJECT_ID', 'proj-secret')
    server.script(json(completion('ok')))
    await createOpenAIModel({ model: 'test-model', baseURL: server.baseURL }).generate(messages)

    const { headers } = server.requests[0]!
    expect(headers['authorization']).toBeUndefined()
    expect(headers['openai-organization']).toBeUndefined()
    expect(headers['openai-project']).toBeUndefined()
  })

  it('sends an explicit key to a given baseURL, and none for an empty one', async () => {
    server.script(json(completion('ok')), json(completion('ok')))
    await createOpenAIModel({ model: 'test-model', baseURL: server.baseURL, apiKey: 'sk-router' }).generate(
      messages,
    )
    await createOpenAIModel({ model: 'test-model', baseURL: server.baseURL, apiKey: '' }).generate(messages)

    expect(server.requests[0]!.headers['authorization']).toBe('Bearer sk-router')
    expect(server.requests[1]!.headers['authorization']).toBeUndefined()
  })

  it('fails the first call, not the constructor, with ModelAuthError when OpenAI has no key', async () => {
    const model = createOpenAIModel({ model: 'gpt-5-mini' })
    const error = await model.generate(messages).catch((reason: unknown) => reason)
    const streamError = await model
      .stream(messages)
      .next()
      .catch((reason: unknown) => reason)

    expect(ModelAuthError.isInstance(error)).toBe(true)
    expect(ModelAuthError.isInstance(streamError)).toBe(true)
    expect((error as Error).message).toBe(
      'No API key for openai:gpt-5-mini: set OPENAI_API_KEY or pass apiKey to createOpenAIModel. For a server that needs no key (Ollama, vLLM, llama.cpp, LM Studio), pass its baseURL instead.',
    )
  })
})

describe('an injected client', () => {
  it('brings its key and base URL; the model applies its own request settings', async () => {
    server.script(json(completion('from client')))
    const client = new OpenAI({
      apiKey: 'sk-client',
      baseURL: server.baseURL,
      defaultHeaders: { 'X-Client': 'yes' },
    })
    const model = createOpenAIModel({ model: 'test-model', client, headers: { 'X-Model': 'yes' } })
    const output = await model.generate(messages)

    expect(model.baseURL).toBe(server.baseURL)
    expect(output.text).toBe('from client')
    expect(server.requests[0]!.headers).toMatchObject({
      authorization: 'Bearer sk-client',
      'x-client': 'yes',
      'x-model': 'yes',
    })
  })
})
