import type { ChatMessage, GenerateOptions, Model, ModelDelta, ModelOutput, Usage } from '@airlock/core'
import { InvalidDefinitionError } from '@airlock/core'
import OpenAI from 'openai'
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions'
import { ModelAuthError, ModelConnectionError, ModelResponseError } from './errors.js'
import { type CallContext, isRecord, toModelError } from './map-error.js'
import { StopSequenceCutter } from './stop-sequences.js'

const OPENAI_BASE_URL = 'https://api.openai.com/v1'
/** OpenAI rejects more; other servers mostly accept more, but the client cuts at all of them anyway. */
const MAX_SERVER_STOP_SEQUENCES = 4
const SDK_DEFAULT_MAX_RETRIES = 2
const SDK_DEFAULT_TIMEOUT_MS = 10 * 60 * 1000

export interface OpenAIModelSettings {
  /** The model id the server knows: `gpt-5-mini`, `qwen3:8b` (Ollama), `meta-llama/Llama-3.1-8B-Instruct` (vLLM). */
  readonly model: string
  /**
   * The API key, sent as `Authorization: Bearer <key>`. Defaults to `OPENAI_API_KEY`, but only
   * when `baseURL` is not set, so an OpenAI key is never sent to another server by accident.
   * With a `baseURL` and no key, no `Authorization` header is sent, which is what local servers
   * (Ollama, vLLM, llama.cpp, LM Studio) expect. Without `baseURL` and without a key, the first
   * call fails with `ModelAuthError`.
   */
  readonly apiKey?: string
  /**
   * The API root of an OpenAI-compatible server, usually ending in `/v1`:
   * `http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8000/v1` (vLLM),
   * `https://openrouter.ai/api/v1`, `https://router.huggingface.co/v1`. Defaults to
   * `OPENAI_BASE_URL`, then `https://api.openai.com/v1`.
   */
  readonly baseURL?: string
  /** The first half of `id` (`<provider>:<model>`), for logs and results. Defaults to `'openai'`. */
  readonly provider?: string
  /** Sampling temperature; left to the server when not set. OpenAI's reasoning models accept only the default. */
  readonly temperature?: number
  /**
   * Upper bound on generated tokens, sent as `max_completion_tokens` (OpenAI's current name,
   * which its reasoning models require). Ollama and LM Studio read only `max_tokens`: for them,
   * pass `extraBody: { max_tokens: n }` instead.
   */
  readonly maxOutputTokens?: number
  /**
   * Retries after a 408, 409, 429, 5xx or a failed connection, with the `openai` SDK's backoff:
   * exponential from 0.5 s up to 8 s with up to 25% jitter, or what the server asks for in
   * `retry-after-ms` / `Retry-After` (up to 60 s). Defaults to the client's setting, 2 for the
   * client this model creates. A stream is never retried once its body has started.
   */
  readonly maxRetries?: number
  /**
   * Time limit per attempt, in milliseconds: for `generate`, until the whole response has
   * arrived; for `stream`, until the response starts and then between two chunks. Defaults to the
   * client's setting, 10 minutes for the client this model creates.
   */
  readonly timeoutMs?: number
  /** Extra HTTP headers for every request (e.g. OpenRouter's `HTTP-Referer`, a proxy's auth). */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * Extra fields of the request body, for parameters this package does not name: `top_p`,
   * `seed`, `reasoning_effort`, `max_tokens`, OpenRouter's `provider`, vLLM's `top_k`. Applied
   * after this package's own fields except `model`, `messages` and `stream`, so it can also
   * replace them, or drop one by setting it to `undefined` (e.g. `stream_options` for a server
   * that rejects it).
   */
  readonly extraBody?: Readonly<Record<string, unknown>>
  /**
   * Send the call's stop sequences to the server as `stop` (the first 4). Defaults to `true`.
   * Set `false` for models that reject `stop` (OpenAI's o-series and some GPT-5 models); the
   * text is cut at every stop sequence on the client either way.
   */
  readonly sendStop?: boolean
  /**
   * A client to use instead of creating one, e.g. an `AzureOpenAI` or one with a custom `fetch`.
   * Its key and base URL then apply, so `apiKey` and `baseURL` must not be set too.
   */
  readonly client?: OpenAI
}

/**
 * Creates a `Model` that calls the Chat Completions API of OpenAI or any OpenAI-compatible server
 * through the official `openai` SDK. Nothing is sent until the first call.
 *
 * @example
 * // OpenAI, with OPENAI_API_KEY in the environment
 * const model = createOpenAIModel({ model: 'gpt-5-mini', sendStop: false })
 *
 * // A local Ollama server: no key needed
 * const local = createOpenAIModel({ model: 'qwen3:8b', baseURL: 'http://127.0.0.1:11434/v1', provider: 'ollama' })
 * const { text, usage } = await local.generate([{ role: 'user', content: 'Say hi.' }])
 */
export function createOpenAIModel(settings: OpenAIModelSettings): OpenAIModel {
  return new OpenAIModel(settings)
}

/**
 * A `Model` over the Chat Completions API of the `openai` SDK. See `createOpenAIModel`.
 *
 * Every call either resolves, or rejects with the signal's reason when its `signal` aborts, or
 * rejects with a `ModelCallError` subclass whose message says what to do. Text is cut before
 * the first stop sequence, whether or not the server honoured `stop`.
 *
 * @example
 * const model = new OpenAIModel({ model: 'gpt-5-mini' })
 * for await (const delta of model.stream([{ role: 'user', content: 'Count to 3.' }])) {
 *   if (delta.type === 'text') process.stdout.write(delta.text)
 *   else console.log('\n', delta.usage)
 * }
 */
export class OpenAIModel implements Model {
  /** `<provider>:<model>`, e.g. `openai:gpt-5-mini`. */
  readonly id: string
  /** The model id sent to the server. */
  readonly model: string
  /** The API root calls go to. */
  readonly baseURL: string

  readonly #settings: OpenAIModelSettings
  /** Undefined when there is no key for OpenAI's own API: the first call says so. */
  readonly #client: OpenAI | undefined
  readonly #context: CallContext

  constructor(settings: OpenAIModelSettings) {
    if (typeof settings !== 'object' || settings === null) {
      throw new InvalidDefinitionError(
        'createOpenAIModel takes one settings object: { model, apiKey?, baseURL?, ... }.',
      )
    }
    const { model, provider = 'openai', client, apiKey, baseURL } = settings
    if (typeof model !== 'string' || model.trim() === '') {
      throw new InvalidDefinitionError(
        'createOpenAIModel needs `model`, the model id the server knows, e.g. "gpt-5-mini", or "qwen3:8b" on Ollama.',
      )
    }
    if (typeof provider !== 'string' || provider === '') {
      throw new InvalidDefinitionError('`provider` must be a non-empty string such as "openai" or "ollama".')
    }
    assertNumber(settings.temperature, 'temperature', { min: 0 })
    assertNumber(settings.maxOutputTokens, 'maxOutputTokens', { min: 1, integer: true })
    assertNumber(settings.maxRetries, 'maxRetries', { min: 0, integer: true })
    assertNumber(settings.timeoutMs, 'timeoutMs', { min: 1, integer: true })
    if (client !== undefined && (apiKey !== undefined || baseURL !== undefined)) {
      throw new InvalidDefinitionError(
        'Pass either `client` or `apiKey`/`baseURL`, not both: an injected client brings its own key and base URL.',
      )
    }

    this.#settings = settings
    this.model = model
    this.id = `${provider}:${model}`
    let keySent = true
    if (client !== undefined) {
      this.#client = client
      this.baseURL = client.baseURL
    } else {
      const fromEnvironment = baseURL === undefined
      this.baseURL = baseURL ?? readEnv('OPENAI_BASE_URL') ?? OPENAI_BASE_URL
      const given = apiKey ?? (fromEnvironment ? readEnv('OPENAI_API_KEY') : undefined)
      const key = given === '' ? undefined : given
      keySent = key !== undefined
      if (key !== undefined || !fromEnvironment) {
        this.#client = new OpenAI({
          // The SDK insists on a key; for a keyless server, a placeholder whose header is removed.
          apiKey: key ?? 'none',
          ...(key === undefined ? { defaultHeaders: { Authorization: null } } : {}),
          baseURL: this.baseURL,
          // Organisation and project ids from the environment belong to OpenAI, like its key.
          ...(fromEnvironment ? {} : { organization: null, project: null }),
          // The errors thrown here say everything the SDK would log; OPENAI_LOG still opts in.
          ...(readEnv('OPENAI_LOG') === undefined ? { logLevel: 'off' as const } : {}),
        })
      }
    }
    this.#context = {
      modelId: this.id,
      model,
      baseURL: this.baseURL,
      keySent,
      maxRetries: settings.maxRetries ?? this.#client?.maxRetries ?? SDK_DEFAULT_MAX_RETRIES,
      timeoutMs: settings.timeoutMs ?? this.#client?.timeout ?? SDK_DEFAULT_TIMEOUT_MS,
    }
  }

  /**
   * One chat completion. Retries as `maxRetries` says; rejects with the signal's reason on abort
   * and with a `ModelCallError` subclass otherwise.
   */
  async generate(messages: readonly ChatMessage[], options: GenerateOptions = {}): Promise<ModelOutput> {
    const { signal, stop = [] } = options
    signal?.throwIfAborted()
    const client = this.#requireClient()
    let completion: unknown
    try {
      completion = await client.chat.completions.create(
        this.#body(messages, stop, false) as unknown as ChatCompletionCreateParamsNonStreaming,
        this.#requestOptions(signal),
      )
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      throw toModelError(error, this.#context, { in: 'request' })
    }
    return this.#readCompletion(completion, stop)
  }

  /**
   * One chat completion, streamed: `text` deltas as they arrive, then exactly one `finish` with
   * the usage the server reported (zeros when it reports none). The request is sent when
   * iteration starts; stopping early (`break`) cancels it.
   */
  async *stream(
    messages: readonly ChatMessage[],
    options: GenerateOptions = {},
  ): AsyncGenerator<ModelDelta, void, undefined> {
    const { signal, stop = [] } = options
    signal?.throwIfAborted()
    const client = this.#requireClient()
    let chunks: AsyncIterable<unknown> & { readonly controller: AbortController }
    try {
      chunks = await client.chat.completions.create(
        this.#body(messages, stop, true) as unknown as ChatCompletionCreateParamsStreaming,
        this.#requestOptions(signal),
      )
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      throw toModelError(error, this.#context, { in: 'request' })
    }

    const { controller } = chunks
    // The SDK ties the signal to the body as well; this makes sure of it for injected clients.
    const cancel = () => controller.abort()
    signal?.addEventListener('abort', cancel, { once: true })
    const iterator = chunks[Symbol.asyncIterator]()
    const cutter = new StopSequenceCutter(stop)
    let received = 0
    let finishReason: string | undefined
    let usage: Usage = { inputTokens: 0, outputTokens: 0 }
    let rawUsage: unknown
    let id: unknown
    let responseModel: unknown
    let completed = false
    try {
      while (true) {
        // Also covers an abort in the moment between the response and the listener above.
        if (signal?.aborted) throw signal.reason
        let next: IteratorResult<unknown>
        try {
          next = await this.#nextChunk(iterator, controller, received)
        } catch (error) {
          if (signal?.aborted) throw signal.reason
          // Once the text is complete, a connection dropped before the usage chunk or `[DONE]`
          // costs only the usage numbers.
          if (finishReason !== undefined || cutter.stopped) break
          throw toModelError(error, this.#context, { in: 'stream', chunks: received })
        }
        if (next.done === true) break
        received++
        const chunk = next.value
        if (!isRecord(chunk)) throw this.#malformedChunk(chunk, received)
        id ??= chunk['id']
        responseModel ??= chunk['model']
        if (isRecord(chunk['usage'])) {
          rawUsage = chunk['usage']
          usage = readUsage(rawUsage)
        }
        const choices = chunk['choices']
        if (choices !== undefined && choices !== null && !Array.isArray(choices)) {
          throw this.#malformedChunk(chunk, received)
        }
        for (const choice of choices ?? []) {
          if (!isRecord(choice) || (choice['index'] ?? 0) !== 0) continue
          const delta = choice['delta']
          const content = isRecord(delta) ? delta['content'] : undefined
          if (typeof content === 'string' && content !== '') {
            const text = cutter.push(content)
            if (text !== '') yield { type: 'text', text }
          }
          if (typeof choice['finish_reason'] === 'string') finishReason = choice['finish_reason']
        }
      }
      // An abort ends the SDK's iteration quietly; it must not pass for the end of the reply.
      if (signal?.aborted) throw signal.reason
      if (finishReason === undefined && !cutter.stopped) {
        throw new ModelResponseError(
          `The stream from ${this.baseURL} ended before the model finished: no finish_reason after ${received} chunk${received === 1 ? '' : 's'}. The reply is incomplete; retry the call.`,
          { modelId: this.id, baseURL: this.baseURL },
        )
      }
      const rest = cutter.flush()
      if (rest !== '') yield { type: 'text', text: rest }
      completed = true
      yield { type: 'finish', usage, raw: { id, model: responseModel, finishReason, usage: rawUsage } }
    } finally {
      signal?.removeEventListener('abort', cancel)
      // The consumer stopped early or something failed: close the HTTP request too.
      if (!completed) {
        controller.abort()
        iterator.return?.().catch(() => {})
      }
    }
  }

  #requireClient(): OpenAI {
    if (this.#client !== undefined) return this.#client
    throw new ModelAuthError(
      `No API key for ${this.id}: set OPENAI_API_KEY or pass apiKey to createOpenAIModel. For a server that needs no key (Ollama, vLLM, llama.cpp, LM Studio), pass its baseURL instead.`,
      { modelId: this.id, baseURL: this.baseURL },
    )
  }

  #body(messages: readonly ChatMessage[], stop: readonly string[], stream: boolean): Record<string, unknown> {
    const { temperature, maxOutputTokens, extraBody, sendStop = true } = this.#settings
    const serverStop = sendStop
      ? stop.filter((sequence) => sequence !== '').slice(0, MAX_SERVER_STOP_SEQUENCES)
      : []
    return {
      ...(temperature === undefined ? {} : { temperature }),
      ...(maxOutputTokens === undefined ? {} : { max_completion_tokens: maxOutputTokens }),
      ...(serverStop.length === 0 ? {} : { stop: serverStop }),
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      ...extraBody,
      model: this.model,
      messages: messages.map(({ role, content }) => ({ role, content })),
      // `undefined` for generate, so that a `stream` in extraBody cannot turn it into a stream.
      stream: stream ? true : undefined,
    }
  }

  #requestOptions(signal: AbortSignal | undefined): OpenAI.RequestOptions {
    const { maxRetries, timeoutMs, headers } = this.#settings
    return {
      ...(signal === undefined ? {} : { signal }),
      ...(maxRetries === undefined ? {} : { maxRetries }),
      ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
      ...(headers === undefined ? {} : { headers: { ...headers } }),
    }
  }

  #readCompletion(completion: unknown, stop: readonly string[]): ModelOutput {
    const choices = isRecord(completion) ? completion['choices'] : undefined
    if (!Array.isArray(choices)) {
      throw new ModelResponseError(
        `${this.baseURL} answered without a chat completion (no \`choices\` in ${describeValue(completion)}). Check that baseURL is the API root of an OpenAI-compatible server, usually ending in /v1.`,
        { modelId: this.id, baseURL: this.baseURL, isRetryable: false },
      )
    }
    const message: unknown = isRecord(choices[0]) ? choices[0]['message'] : undefined
    const content = isRecord(message) ? (message['content'] ?? message['refusal'] ?? '') : undefined
    if (typeof content !== 'string') {
      throw new ModelResponseError(
        `${this.baseURL} answered with a chat completion that has no message text (${choices.length} choices). The server may not support this model for chat; try another model or server.`,
        { modelId: this.id, baseURL: this.baseURL, isRetryable: false },
      )
    }
    const cutter = new StopSequenceCutter(stop)
    const text = cutter.push(content) + cutter.flush()
    return { text, usage: readUsage(isRecord(completion) ? completion['usage'] : undefined), raw: completion }
  }

  /** The next chunk, or a timeout when none arrives within `timeoutMs` (which then cancels the request). */
  async #nextChunk(
    iterator: AsyncIterator<unknown>,
    controller: AbortController,
    received: number,
  ): Promise<IteratorResult<unknown>> {
    const { timeoutMs } = this.#context
    let timer: ReturnType<typeof setTimeout> | undefined
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort()
        reject(
          new ModelConnectionError(
            `The stream from ${this.baseURL} sent nothing for ${timeoutMs} ms after ${received} chunk${received === 1 ? '' : 's'}; the reply is incomplete. Raise timeoutMs for a model that pauses long (e.g. while reasoning), or retry.`,
            { modelId: this.id, baseURL: this.baseURL, timedOut: true },
          ),
        )
      }, timeoutMs)
    })
    try {
      return await Promise.race([iterator.next(), idle])
    } finally {
      clearTimeout(timer)
    }
  }

  #malformedChunk(chunk: unknown, received: number): ModelResponseError {
    return new ModelResponseError(
      `The stream from ${this.baseURL} sent chunk ${received} that is not a chat completion chunk (${describeValue(chunk)}). The server is not speaking the OpenAI streaming format; retry, or use generate() without streaming.`,
      { modelId: this.id, baseURL: this.baseURL, isRetryable: false },
    )
  }
}

function readUsage(usage: unknown): Usage {
  if (!isRecord(usage)) return { inputTokens: 0, outputTokens: 0 }
  return {
    inputTokens: tokenCount(usage['prompt_tokens']),
    outputTokens: tokenCount(usage['completion_tokens']),
  }
}

function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

/** A short description of an unexpected value, for error messages. */
function describeValue(value: unknown): string {
  if (value === undefined || value === '') return 'an empty body'
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.length > 120 ? `${text.slice(0, 120)}…` : text
}

function readEnv(name: string): string | undefined {
  const value = process.env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function assertNumber(
  value: number | undefined,
  name: string,
  { min, integer = false }: { min: number; integer?: boolean },
): void {
  if (value === undefined) return
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  ) {
    throw new InvalidDefinitionError(
      `\`${name}\` must be ${integer ? 'an integer' : 'a number'} of at least ${min}, got ${String(value)}.`,
    )
  }
}
