import { AirlockError } from '@airlock/core'

function hasMarker(value: unknown, marker: symbol): boolean {
  return typeof value === 'object' && value !== null && marker in value
}

/** What every failed model call knows about itself, whatever went wrong. */
export interface ModelCallErrorDetails {
  /** The model's `id`, e.g. `openai:gpt-5-mini`. */
  readonly modelId: string
  /** The API root the call went to, e.g. `http://127.0.0.1:11434/v1`. */
  readonly baseURL: string
  /** HTTP status of the failed response; `undefined` when there was none (connection, stream). */
  readonly status?: number | undefined
  /** The server's error code (`context_length_exceeded`, `model_not_found`, ...), when it sent one. */
  readonly code?: string | undefined
  /** The server's request id (`x-request-id`), to quote to the provider's support. */
  readonly requestId?: string | undefined
  /** Whether the same call may succeed if made again later. */
  readonly isRetryable?: boolean
  readonly cause?: unknown
}

const modelCallMarker = Symbol.for('airlock.error.ModelCallError')

/**
 * A call to an OpenAI-compatible server failed, after the retries the model makes itself. The
 * subclasses name the failures a caller can act on; this class itself covers the rest (a 400 the
 * server explains in `message`, a 5xx that persisted through every retry).
 *
 * @example
 * try {
 *   await model.generate(messages)
 * } catch (error) {
 *   if (ModelCallError.isInstance(error) && error.isRetryable) scheduleRetry()
 *   else throw error
 * }
 */
export class ModelCallError extends AirlockError {
  private readonly [modelCallMarker] = true
  readonly modelId: string
  readonly baseURL: string
  readonly status: number | undefined
  readonly code: string | undefined
  readonly requestId: string | undefined
  /** Whether the same call may succeed if made again later (rate limits, 5xx, dropped connections). */
  readonly isRetryable: boolean

  /** `name` is for the subclasses; leave it out when creating a `ModelCallError` itself. */
  constructor(message: string, details: ModelCallErrorDetails, name = 'ModelCallError') {
    super(name, message, details.cause === undefined ? undefined : { cause: details.cause })
    this.modelId = details.modelId
    this.baseURL = details.baseURL
    this.status = details.status
    this.code = details.code
    this.requestId = details.requestId
    this.isRetryable = details.isRetryable ?? false
  }

  static override isInstance(error: unknown): error is ModelCallError {
    return hasMarker(error, modelCallMarker)
  }
}

const modelAuthMarker = Symbol.for('airlock.error.ModelAuthError')

/**
 * No API key was available, or the server refused the one sent (401/403). Not retryable: the key,
 * its permissions or `baseURL` must change first.
 */
export class ModelAuthError extends ModelCallError {
  private readonly [modelAuthMarker] = true

  constructor(message: string, details: ModelCallErrorDetails) {
    super(message, { ...details, isRetryable: false }, 'ModelAuthError')
  }

  static override isInstance(error: unknown): error is ModelAuthError {
    return hasMarker(error, modelAuthMarker)
  }
}

const modelNotFoundMarker = Symbol.for('airlock.error.ModelNotFoundError')

/**
 * The server does not know the model (or the URL: a 404 also answers a `baseURL` without its
 * `/v1`). `model` is the id that was sent.
 */
export class ModelNotFoundError extends ModelCallError {
  private readonly [modelNotFoundMarker] = true
  /** The model id as sent to the server, without the provider prefix of `modelId`. */
  readonly model: string

  constructor(message: string, details: ModelCallErrorDetails & { readonly model: string }) {
    super(message, { ...details, isRetryable: false }, 'ModelNotFoundError')
    this.model = details.model
  }

  static override isInstance(error: unknown): error is ModelNotFoundError {
    return hasMarker(error, modelNotFoundMarker)
  }
}

const contextOverflowMarker = Symbol.for('airlock.error.ContextOverflowError')

/**
 * The messages (plus the room reserved for the reply) do not fit the model's context window.
 * Retrying the same call cannot help: shorten the conversation, lower `maxOutputTokens`, or pick a
 * model (or a server setting such as vLLM's `--max-model-len`) with a larger window.
 */
export class ContextOverflowError extends ModelCallError {
  private readonly [contextOverflowMarker] = true

  constructor(message: string, details: ModelCallErrorDetails) {
    super(message, { ...details, isRetryable: false }, 'ContextOverflowError')
  }

  static override isInstance(error: unknown): error is ContextOverflowError {
    return hasMarker(error, contextOverflowMarker)
  }
}

const modelRateLimitMarker = Symbol.for('airlock.error.ModelRateLimitError')

/**
 * The server still answered 429 after every retry. Retryable later, except when the account is
 * out of quota (`code: 'insufficient_quota'`), which only billing fixes.
 */
export class ModelRateLimitError extends ModelCallError {
  private readonly [modelRateLimitMarker] = true
  /** How long the server asked to wait (`retry-after-ms` or `Retry-After`), when it said. */
  readonly retryAfterMs: number | undefined

  constructor(
    message: string,
    details: ModelCallErrorDetails & { readonly retryAfterMs?: number | undefined },
  ) {
    super(
      message,
      { ...details, isRetryable: details.isRetryable ?? details.code !== 'insufficient_quota' },
      'ModelRateLimitError',
    )
    this.retryAfterMs = details.retryAfterMs
  }

  static override isInstance(error: unknown): error is ModelRateLimitError {
    return hasMarker(error, modelRateLimitMarker)
  }
}

const modelConnectionMarker = Symbol.for('airlock.error.ModelConnectionError')

/**
 * No response came back: the server was unreachable (refused, DNS, TLS) or did not answer within
 * `timeoutMs`, on every attempt.
 */
export class ModelConnectionError extends ModelCallError {
  private readonly [modelConnectionMarker] = true
  /** True when the attempt ran out of time rather than failing to connect. */
  readonly timedOut: boolean

  constructor(message: string, details: ModelCallErrorDetails & { readonly timedOut: boolean }) {
    super(message, { ...details, isRetryable: true }, 'ModelConnectionError')
    this.timedOut = details.timedOut
  }

  static override isInstance(error: unknown): error is ModelConnectionError {
    return hasMarker(error, modelConnectionMarker)
  }
}

const modelResponseMarker = Symbol.for('airlock.error.ModelResponseError')

/**
 * The server answered, but not with a usable chat completion: malformed JSON, a body without
 * `choices`, or a stream cut off before the model finished. Retryable: these are usually a
 * dropped connection or a proxy in the way, not the request's fault.
 */
export class ModelResponseError extends ModelCallError {
  private readonly [modelResponseMarker] = true

  constructor(message: string, details: ModelCallErrorDetails) {
    super(message, { ...details, isRetryable: details.isRetryable ?? true }, 'ModelResponseError')
  }

  static override isInstance(error: unknown): error is ModelResponseError {
    return hasMarker(error, modelResponseMarker)
  }
}
