/**
 * A small OpenAI-compatible server for tests, on node:http at 127.0.0.1 and a free port. It
 * records every request and answers each with the next scripted responder, so a test drives the
 * real `openai` SDK over real HTTP and then checks what arrived on the wire.
 */
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { createOpenAIModel, type OpenAIModel, type OpenAIModelSettings } from '../src/index.js'

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** The parsed JSON body, or the raw text when it is not JSON. */
  readonly body: unknown
  /** When the request arrived (`performance.now()`), to check backoff between attempts. */
  readonly at: number
  /** Resolves when the client closed the connection before the response was complete. */
  readonly closedEarly: Promise<void>
}

/** Answers one request. May finish the response later, or never (the client must abort). */
export type Responder = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>

export interface OpenAITestServer {
  /** The API root to pass as `baseURL`, e.g. `http://127.0.0.1:53124/v1`. */
  readonly baseURL: string
  /** Every request received, in order. */
  readonly requests: RecordedRequest[]
  /** Queues responders, one per coming request. A request with none gets a 500 that says so. */
  script(...responders: Responder[]): void
  /** Forgets requests and queued responders, between tests. */
  reset(): void
  close(): Promise<void>
}

export async function startOpenAIServer(): Promise<OpenAITestServer> {
  const requests: RecordedRequest[] = []
  let queue: Responder[] = []

  const server = createServer(async (incoming, response) => {
    const at = performance.now()
    const parts: Buffer[] = []
    for await (const part of incoming) parts.push(part as Buffer)
    const text = Buffer.concat(parts).toString('utf8')
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // Kept as text; a test that expected JSON sees the difference.
    }
    const closedEarly = new Promise<void>((resolve) => {
      response.once('close', () => {
        if (!response.writableFinished) resolve()
      })
    })
    const request: RecordedRequest = {
      method: incoming.method ?? '',
      path: incoming.url ?? '',
      headers: incoming.headers,
      body,
      at,
      closedEarly,
    }
    requests.push(request)
    const responder = queue.shift()
    if (responder === undefined) {
      json(
        { error: { message: `unscripted request #${requests.length}`, type: 'test_error' } },
        { status: 500 },
      )(request, response)
      return
    }
    try {
      await responder(request, response)
    } catch (error) {
      response.destroy(error instanceof Error ? error : new Error(String(error)))
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script(...responders) {
      queue.push(...responders)
    },
    reset() {
      requests.length = 0
      queue = []
    },
    async close() {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

/** The test server of one test file, with a model that talks to it. */
export interface OpenAITestContext extends OpenAITestServer {
  /** A model on this server (`test-model`, key `sk-test`), with `settings` on top. */
  model(settings?: Partial<OpenAIModelSettings>): OpenAIModel
}

/**
 * Registers the test file's server: started before its tests, reset before each, closed after.
 * The returned context is usable inside tests and hooks, once the server has started.
 */
export function useOpenAIServer(): OpenAITestContext {
  let started: OpenAITestServer | undefined
  beforeAll(async () => {
    started = await startOpenAIServer()
  })
  afterAll(() => started?.close())
  beforeEach(() => started?.reset())
  const current = (): OpenAITestServer => {
    if (started === undefined)
      throw new Error('The test server starts in beforeAll: use it inside tests and hooks.')
    return started
  }
  return {
    get baseURL() {
      return current().baseURL
    },
    get requests() {
      return current().requests
    },
    script: (...responders) => current().script(...responders),
    reset: () => current().reset(),
    close: () => current().close(),
    model: (settings = {}) =>
      createOpenAIModel({ model: 'test-model', baseURL: current().baseURL, apiKey: 'sk-test', ...settings }),
  }
}

export interface ReplyInit {
  readonly status?: number
  readonly headers?: Readonly<Record<string, string>>
}

/** A JSON response. */
export function json(body: unknown, { status = 200, headers = {} }: ReplyInit = {}): Responder {
  return (_request, response) => {
    const text = JSON.stringify(body)
    response.writeHead(status, { 'content-type': 'application/json', ...headers })
    response.end(text)
  }
}

/** A response with any body and content type, e.g. malformed JSON or an HTML page. */
export function raw(body: string, { status = 200, headers = {} }: ReplyInit = {}): Responder {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers })
    response.end(body)
  }
}

/** An OpenAI-style error body: `{ error: { message, type, code, param } }`. */
export function apiError(
  status: number,
  error: { message: string; type?: string; code?: string | null; param?: string | null },
  headers: Readonly<Record<string, string>> = {},
): Responder {
  return json(
    { error: { type: 'invalid_request_error', code: null, param: null, ...error } },
    { status, headers },
  )
}

export interface SseOptions {
  /** Send `data: [DONE]` at the end. Defaults to true. */
  readonly done?: boolean
  /** Destroy the socket after the events instead of ending the response. */
  readonly destroy?: boolean
  /** Pause before each event, in ms. */
  readonly delayMs?: number
  /** After the events, keep the response open without sending anything more. */
  readonly hang?: boolean
}

/**
 * A server-sent event stream. Objects are sent as `data: <json>`, strings as they are (so a
 * test can send malformed lines).
 */
export function sse(events: readonly (object | string)[], options: SseOptions = {}): Responder {
  const { done = true, destroy = false, delayMs = 0, hang = false } = options
  return async (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    response.flushHeaders()
    for (const event of events) {
      if (delayMs > 0) await sleep(delayMs)
      if (response.destroyed) return
      response.write(typeof event === 'string' ? event : `data: ${JSON.stringify(event)}\n\n`)
    }
    if (hang) return
    if (destroy) {
      // Let the written events reach the client first, so it sees a stream cut off mid-way.
      await sleep(20)
      response.socket?.destroy()
      return
    }
    if (done) response.write('data: [DONE]\n\n')
    response.end()
  }
}

/** Never answers: for abort and timeout tests. */
export function hang(): Responder {
  return () => {}
}

/** A non-streamed chat completion with `content` and usage. */
export function completion(
  content: string | null,
  usage: { prompt_tokens: number; completion_tokens: number } | null = {
    prompt_tokens: 11,
    completion_tokens: 7,
  },
  finishReason = 'stop',
): object {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    ...(usage === null
      ? {}
      : { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }),
  }
}

/** A streamed chunk with a content delta, and a finish reason when given. */
export function chunk(content: string | null, finishReason: string | null = null): object {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finishReason }],
  }
}

/** The last chunk of a stream with `include_usage`: no choices, only usage. */
export function usageChunk(promptTokens: number, completionTokens: number): object {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  }
}

/** The chunks of a complete reply: a role chunk, one chunk per piece, a finish chunk, the usage. */
export function replyChunks(pieces: readonly string[], usage: readonly [number, number] = [5, 3]): object[] {
  return [
    {
      ...chunk(null),
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    },
    ...pieces.map((piece) => chunk(piece)),
    chunk(null, 'stop'),
    usageChunk(usage[0], usage[1]),
  ]
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
