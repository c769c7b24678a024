import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai'
import {
  ContextOverflowError,
  ModelAuthError,
  ModelCallError,
  type ModelCallErrorDetails,
  ModelConnectionError,
  ModelNotFoundError,
  ModelRateLimitError,
  ModelResponseError,
} from './errors.js'

/** What an error message needs to say where the call went and what was configured. */
export interface CallContext {
  readonly modelId: string
  /** The model id as sent in the request body. */
  readonly model: string
  readonly baseURL: string
  /** Whether an `Authorization` header was sent at all. */
  readonly keySent: boolean
  readonly maxRetries: number
  readonly timeoutMs: number
}

/** Where the call was when it failed: waiting for the response, or reading a streamed body. */
export type CallPhase = { readonly in: 'request' } | { readonly in: 'stream'; readonly chunks: number }

/**
 * Turns whatever the SDK (or the transport under it) threw into the typed error a caller can act
 * on. Errors already typed pass through. The caller handles aborts before calling this.
 */
export function toModelError(error: unknown, context: CallContext, phase: CallPhase): ModelCallError {
  if (ModelCallError.isInstance(error)) return error
  const base: ModelCallErrorDetails = { modelId: context.modelId, baseURL: context.baseURL, cause: error }
  const { baseURL, maxRetries } = context
  const attempts = `${maxRetries + 1} attempt${maxRetries === 0 ? '' : 's'}`

  if (isSdkError(error, APIConnectionTimeoutError, 'APIConnectionTimeoutError')) {
    return new ModelConnectionError(
      `${baseURL} did not answer within ${context.timeoutMs} ms (${attempts}). Raise timeoutMs for a slow model or a long reply, or check that the server is not overloaded.`,
      { ...base, timedOut: true },
    )
  }
  if (isSdkError(error, APIConnectionError, 'APIConnectionError')) {
    return new ModelConnectionError(
      `Could not reach ${baseURL} (${describeCause(error.cause ?? error)}; ${attempts}). Check that the server is running and that baseURL is right.`,
      { ...base, timedOut: false },
    )
  }
  if (isSdkError(error, APIError, 'APIError')) return fromApiError(error, context, base, phase)

  if (error instanceof SyntaxError) {
    return phase.in === 'stream'
      ? new ModelResponseError(
          `The stream from ${baseURL} sent a chunk that is not valid JSON, after ${phase.chunks} good chunk${phase.chunks === 1 ? '' : 's'}. The server is not speaking the OpenAI streaming format correctly; retry, or use generate() without streaming.`,
          { ...base, isRetryable: false },
        )
      : new ModelResponseError(
          `${baseURL} answered with malformed JSON instead of a chat completion (${error.message}). Check that baseURL is the API root of an OpenAI-compatible server (usually ending in /v1), not a web page or a proxy.`,
          { ...base, isRetryable: false },
        )
  }
  // Anything else thrown while the body is read is the transport failing (undici's `terminated`).
  if (phase.in === 'stream') {
    return new ModelResponseError(
      `The stream from ${baseURL} was cut off before the model finished, after ${phase.chunks} chunk${phase.chunks === 1 ? '' : 's'} (${describeCause(error)}). The reply is incomplete; retry the call.`,
      base,
    )
  }
  return new ModelResponseError(
    `The response from ${baseURL} could not be read (${describeCause(error)}). The connection probably dropped; retry the call.`,
    base,
  )
}

const CONTEXT_CODES = new Set(['context_length_exceeded', 'exceed_context_size_error'])
// The wordings of OpenAI, Azure, vLLM, llama.cpp, LM Studio, OpenRouter, TGI and others, which
// often send a plain 400 without a code.
const CONTEXT_MESSAGE =
  /context[ _-]?(length|window|size)|maximum context|context limit|prompt is too long|input is too long|too many tokens|max_new_tokens`? must be|exceeds? (the )?(available |maximum )?context/i
const NOT_FOUND_CODES = new Set(['model_not_found', 'model_not_available'])
const NOT_FOUND_MESSAGE =
  /\bmodel\b.{0,100}\b(not found|does not exist|not exist|is not a valid|no such)|\bnot a valid model|\b(unknown|invalid) model\b|\bno model\b/i

function fromApiError(
  error: APIError,
  context: CallContext,
  base: ModelCallErrorDetails,
  phase: CallPhase,
): ModelCallError {
  const { baseURL, model, maxRetries } = context
  const status = typeof error.status === 'number' ? error.status : undefined
  const body: unknown = error.error
  const code = stringOrUndefined(error.code) ?? (isRecord(body) ? stringOrUndefined(body['type']) : undefined)
  const param = stringOrUndefined(error.param)
  const said = serverMessage(error)
  const requestId = stringOrUndefined(error.requestID)
  const details: ModelCallErrorDetails = { ...base, status, code, requestId }
  const answered = status === undefined ? 'reported an error mid-stream' : `answered ${status}`
  const quoted = `${baseURL} ${answered}: ${said}`

  if (status === 401 || status === 403) {
    const what = context.keySent
      ? status === 401
        ? 'Check apiKey (or OPENAI_API_KEY), and that baseURL is the server this key belongs to.'
        : `The key may lack access to ${model}, or to this project or organisation; check its permissions and baseURL.`
      : 'No API key was sent: pass apiKey to createOpenAIModel.'
    return new ModelAuthError(`${quoted}. ${what}`, details)
  }
  if (status === 429) {
    const retryAfterMs = retryAfter(error.headers)
    if (code === 'insufficient_quota') {
      return new ModelRateLimitError(
        `${quoted}. The account behind the API key is out of quota; check its plan and billing. Retrying will not help.`,
        { ...details, retryAfterMs },
      )
    }
    return new ModelRateLimitError(
      `${quoted}. Still rate limited after ${maxRetries} retr${maxRetries === 1 ? 'y' : 'ies'}: wait and try again, send fewer requests, or raise maxRetries.`,
      { ...details, retryAfterMs },
    )
  }
  const clientError = status === undefined || (status >= 400 && status < 500)
  if (clientError && ((code !== undefined && CONTEXT_CODES.has(code)) || CONTEXT_MESSAGE.test(said))) {
    return new ContextOverflowError(
      `The request does not fit the context window of ${model}: ${quoted}. Shorten the conversation, lower maxOutputTokens, or use a model (or a server setting) with a larger context window.`,
      details,
    )
  }
  if (
    status === 404 ||
    (clientError && ((code !== undefined && NOT_FOUND_CODES.has(code)) || NOT_FOUND_MESSAGE.test(said)))
  ) {
    return new ModelNotFoundError(
      `The server does not know the model "${model}": ${quoted}. Check the model id (GET ${baseURL.replace(/\/$/, '')}/models lists them; for Ollama, run \`ollama pull ${model}\`) and that baseURL is the API root, usually ending in /v1.`,
      { ...details, model },
    )
  }
  if (param === 'stop' && status === 400) {
    return new ModelCallError(
      `${quoted}. The model ${model} does not accept stop sequences: create it with sendStop: false, and the stop sequences are applied to the text on the client instead.`,
      details,
    )
  }
  const retryable = status === undefined || status === 408 || status === 409 || status >= 500
  const retried = status !== undefined && retryable && maxRetries > 0 ? ` (after ${maxRetries} retries)` : ''
  const advice =
    status !== undefined && status >= 500
      ? 'The server failed; retry later.'
      : status === undefined
        ? phase.in === 'stream'
          ? 'The reply is incomplete; retry the call.'
          : 'Retry the call.'
        : 'The server refused the request as sent; its message says what to change.'
  return new ModelCallError(`${quoted}${retried}. ${advice}`, { ...details, isRetryable: retryable })
}

/** `instanceof`, or the class name along the prototype chain when another copy of `openai` made it. */
function isSdkError<T>(error: unknown, type: abstract new (...args: never[]) => T, name: string): error is T {
  if (error instanceof type) return true
  for (let proto: unknown = error; isRecord(proto); proto = Object.getPrototypeOf(proto)) {
    const ctor: unknown = proto['constructor']
    if (typeof ctor === 'function' && ctor.name === name && Object.hasOwn(proto, 'constructor')) return true
  }
  return false
}

/** The server's own words, without a final period: the messages built here add their own. */
function serverMessage(error: APIError): string {
  const body: unknown = error.error
  let said: string
  if (typeof body === 'string' && body !== '') said = body
  else if (isRecord(body) && typeof body['message'] === 'string' && body['message'] !== '')
    said = body['message']
  // The SDK's own message starts with the status, which the messages built here already show.
  else said = error.message.replace(/^\d{3} /, '')
  return said.trim().replace(/\.$/, '')
}

/** Milliseconds from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), when present. */
function retryAfter(headers: Headers | undefined): number | undefined {
  if (headers === undefined) return undefined
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '')
  if (Number.isFinite(ms) && ms >= 0) return ms
  const value = headers.get('retry-after')
  if (value === null) return undefined
  const seconds = Number.parseFloat(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(value)
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined
}

/** `fetch failed: connect ECONNREFUSED 127.0.0.1:9`: the messages along the `cause` chain. */
function describeCause(error: unknown): string {
  const parts: string[] = []
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    if (!(current instanceof Error)) {
      parts.push(String(current))
      break
    }
    if (current.message !== '' && !parts.includes(current.message)) parts.push(current.message)
    current = current.cause
  }
  return parts.join(': ') || 'no details'
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}
