import { describe, expect, it } from 'vitest'
import { ModelResponseError } from '../src/index.js'
import { apiError, completion, json, raw, useOpenAIServer } from './openai-server.js'

const server = useOpenAIServer()
const { model } = server

const messages = [
  { role: 'system', content: 'You write code.' },
  { role: 'user', content: 'Add 1 and 2.' },
] as const

describe('generate: the request', () => {
  it('posts model, messages, temperature, stop and max_completion_tokens with the bearer key', async () => {
    server.script(json(completion('3')))
    await model({ temperature: 0.2, maxOutputTokens: 256 }).generate(messages, { stop: ['<end_code>'] })

    expect(server.requests).toHaveLength(1)
    const [request] = server.requests
    expect(request!.method).toBe('POST')
    expect(request!.path).toBe('/v1/chat/completions')
    expect(request!.headers['authorization']).toBe('Bearer sk-test')
    expect(request!.headers['content-type']).toMatch(/^application\/json/)
    expect(request!.body).toEqual({
      model: 'test-model',
      messages: [
        { role: 'system', content: 'You write code.' },
        { role: 'user', content: 'Add 1 and 2.' },
      ],
      temperature: 0.2,
      max_completion_tokens: 256,
      stop: ['<end_code>'],
    })
  })

  it('leaves out what was not set, and never asks for a stream', async () => {
    server.script(json(completion('3')))
    await model().generate([{ role: 'user', content: 'hi' }])

    expect(server.requests[0]!.body).toEqual({
      model: 'test-model',
      messages: [{ role: 'user', content: 'hi' }],
    })
  })

  it('sends the first 4 stop sequences, drops empty ones, and none with sendStop: false', async () => {
    server.script(json(completion('x')), json(completion('x')))
    await model().generate(messages, { stop: ['a', '', 'b', 'c', 'd', 'e'] })
    await model({ sendStop: false }).generate(messages, { stop: ['a'] })

    expect((server.requests[0]!.body as { stop: string[] }).stop).toEqual(['a', 'b', 'c', 'd'])
    expect(server.requests[1]!.body).not.toHaveProperty('stop')
  })

  it('adds extra headers and body fields, which may replace or drop its own, but not model or stream', async () => {
    server.script(json(completion('x')))
    await model({
      temperature: 1,
      headers: { 'HTTP-Referer': 'https://example.test', 'X-Title': 'airlock' },
      extraBody: {
        top_p: 0.9,
        seed: 7,
        temperature: undefined,
        model: 'ignored',
        stream: true,
        options: { num_ctx: 8192 },
      },
    }).generate(messages)

    const request = server.requests[0]!
    expect(request.headers['http-referer']).toBe('https://example.test')
    expect(request.headers['x-title']).toBe('airlock')
    expect(request.body).toMatchObject({
      model: 'test-model',
      top_p: 0.9,
      seed: 7,
      options: { num_ctx: 8192 },
    })
    expect(request.body).not.toHaveProperty('temperature')
    expect(request.body).not.toHaveProperty('stream')
  })
})

describe('generate: the response', () => {
  it('maps text and usage, and keeps the raw completion', async () => {
    server.script(json(completion('The sum is 3.', { prompt_tokens: 42, completion_tokens: 5 })))
    const output = await model().generate(messages)

    expect(output.text).toBe('The sum is 3.')
    expect(output.usage).toEqual({ inputTokens: 42, outputTokens: 5 })
    expect(output.raw).toMatchObject({ id: 'chatcmpl-test', choices: [{ finish_reason: 'stop' }] })
  })

  it('reports zero usage when the server reports none', async () => {
    server.script(json(completion('ok', null)))
    const output = await model().generate(messages)

    expect(output.usage).toEqual({ inputTokens: 0, outputTokens: 0 })
  })

  it('cuts the text before the first stop sequence when the server did not', async () => {
    server.script(json(completion('Thought: go.\n```ts\nfinalAnswer(3)\n```\n<end_code>\nObservation: 3')))
    const output = await model().generate(messages, { stop: ['<end_code>', '\nObservation:'] })

    expect(output.text).toBe('Thought: go.\n```ts\nfinalAnswer(3)\n```\n')
  })

  it('cuts at stop sequences beyond the 4 sent to the server', async () => {
    server.script(json(completion('one two three')))
    const output = await model().generate(messages, { stop: ['a1', 'a2', 'a3', 'a4', ' two'] })

    expect(output.text).toBe('one')
  })

  it('returns the refusal when the message has no content', async () => {
    const refused = completion(null)
    ;(refused as { choices: { message: Record<string, unknown> }[] }).choices[0]!.message['refusal'] =
      'I cannot help with that.'
    server.script(json(refused), json(completion(null)))

    expect((await model().generate(messages)).text).toBe('I cannot help with that.')
    expect((await model().generate(messages)).text).toBe('')
  })

  it('rejects malformed JSON with ModelResponseError', async () => {
    server.script(raw('{"id": "chatcmpl-test", "choices": [ {"index": 0, '))
    const failure = await model()
      .generate(messages)
      .catch((error: unknown) => error)

    expect(ModelResponseError.isInstance(failure)).toBe(true)
    expect(failure).toMatchObject({ name: 'ModelResponseError', isRetryable: false, baseURL: server.baseURL })
    expect((failure as Error).message).toMatch(/malformed JSON instead of a chat completion/)
    expect((failure as Error).message).toMatch(/baseURL is the API root/)
  })

  it('rejects a body that is not a chat completion, e.g. a web page behind a wrong baseURL', async () => {
    server.script(
      raw('<html>Welcome</html>', { headers: { 'content-type': 'text/html' } }),
      json({ object: 'list', data: [] }),
    )

    await expect(model().generate(messages)).rejects.toThrow(
      /answered without a chat completion.*<html>Welcome/,
    )
    await expect(model().generate(messages)).rejects.toThrow(/no `choices`/)
  })

  it('rejects a choice without a message', async () => {
    server.script(json({ id: 'x', choices: [{ index: 0, text: 'legacy completion' }] }))

    await expect(model().generate(messages)).rejects.toThrow(ModelResponseError)
  })

  it("passes a 400 it does not classify on as ModelCallError with the server's message", async () => {
    server.script(
      apiError(400, { message: "Invalid value for 'temperature': must be <= 2.", param: 'temperature' }),
    )
    const failure = await model()
      .generate(messages)
      .catch((error: unknown) => error)

    expect(failure).toMatchObject({ name: 'ModelCallError', status: 400, isRetryable: false })
    expect((failure as Error).message).toBe(
      `${server.baseURL} answered 400: Invalid value for 'temperature': must be <= 2. The server refused the request as sent; its message says what to change.`,
    )
  })
})
