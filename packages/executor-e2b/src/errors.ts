import { AirlockError } from '@airlock/core'

function hasMarker(value: unknown, marker: symbol): boolean {
  return typeof value === 'object' && value !== null && marker in value
}

const configurationMarker = Symbol.for('airlock.error.E2BConfigurationError')

/**
 * The executor cannot talk to E2B as configured: no API key, an unknown or outdated template, a
 * setting out of range. Retrying does not help; the message says what to change.
 */
export class E2BConfigurationError extends AirlockError {
  private readonly [configurationMarker] = true

  constructor(message: string, options?: { cause?: unknown }) {
    super('E2BConfigurationError', message, options)
  }

  static override isInstance(error: unknown): error is E2BConfigurationError {
    return hasMarker(error, configurationMarker)
  }
}

const authenticationMarker = Symbol.for('airlock.error.E2BAuthenticationError')

/** E2B refused the API key (HTTP 401). */
export class E2BAuthenticationError extends AirlockError {
  private readonly [authenticationMarker] = true

  constructor(message: string, options?: { cause?: unknown }) {
    super('E2BAuthenticationError', message, options)
  }

  static override isInstance(error: unknown): error is E2BAuthenticationError {
    return hasMarker(error, authenticationMarker)
  }
}

const rateLimitMarker = Symbol.for('airlock.error.E2BRateLimitError')

/** E2B refused the request for now (HTTP 429), after the SDK's own retries. Retry later. */
export class E2BRateLimitError extends AirlockError {
  private readonly [rateLimitMarker] = true
  readonly isRetryable = true

  constructor(message: string, options?: { cause?: unknown }) {
    super('E2BRateLimitError', message, options)
  }

  static override isInstance(error: unknown): error is E2BRateLimitError {
    return hasMarker(error, rateLimitMarker)
  }
}

const unavailableMarker = Symbol.for('airlock.error.E2BUnavailableError')

/**
 * E2B or the sandbox did not answer: a timeout, a 5xx (E2B answers 502 for a sandbox that is gone,
 * 503 when it is busy), or a network failure. Often passing; retry, and check the sandbox's
 * lifetime (`sandboxTimeoutMs`) when it keeps happening.
 */
export class E2BUnavailableError extends AirlockError {
  private readonly [unavailableMarker] = true
  readonly isRetryable = true

  constructor(message: string, options?: { cause?: unknown }) {
    super('E2BUnavailableError', message, options)
  }

  static override isInstance(error: unknown): error is E2BUnavailableError {
    return hasMarker(error, unavailableMarker)
  }
}

const sandboxNotFoundMarker = Symbol.for('airlock.error.E2BSandboxNotFoundError')

/** The sandbox to reconnect to does not exist anymore, or is not an airlock sandbox. */
export class E2BSandboxNotFoundError extends AirlockError {
  private readonly [sandboxNotFoundMarker] = true
  readonly sandboxId: string

  constructor(sandboxId: string, message: string, options?: { cause?: unknown }) {
    super('E2BSandboxNotFoundError', message, options)
    this.sandboxId = sandboxId
  }

  static override isInstance(error: unknown): error is E2BSandboxNotFoundError {
    return hasMarker(error, sandboxNotFoundMarker)
  }
}

const harnessMarker = Symbol.for('airlock.error.E2BHarnessError')

/**
 * The harness process that runs code actions could not start in the sandbox, typically because the
 * template has no `node` (Node.js >= 20) on its PATH. `stderr` holds what the process printed.
 */
export class E2BHarnessError extends AirlockError {
  private readonly [harnessMarker] = true
  readonly stderr: string

  constructor(message: string, stderr: string, options?: { cause?: unknown }) {
    super('E2BHarnessError', message, options)
    this.stderr = stderr
  }

  static override isInstance(error: unknown): error is E2BHarnessError {
    return hasMarker(error, harnessMarker)
  }
}

/** What the SDK's errors look like, by name (duplicated SDK copies make `instanceof` unreliable). */
interface SdkError {
  readonly name: string
  readonly message: string
  readonly statusCode?: number
}

function asSdkError(error: unknown): SdkError | undefined {
  if (!(error instanceof Error)) return undefined
  const { statusCode } = error as { statusCode?: unknown }
  return {
    name: error.name,
    message: error.message,
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
  }
}

/** True for SDK errors that say the thing looked up (sandbox, process, file) does not exist. */
export function isNotFoundError(error: unknown): boolean {
  const sdk = asSdkError(error)
  return (
    sdk !== undefined &&
    (sdk.name === 'NotFoundError' ||
      sdk.name === 'SandboxNotFoundError' ||
      sdk.name === 'FileNotFoundError' ||
      sdk.statusCode === 404)
  )
}

/** True for failures that may pass: timeouts, dropped connections, 5xx, rate limits. */
export function isTransientError(error: unknown): boolean {
  const sdk = asSdkError(error)
  if (sdk === undefined) return false
  if (sdk.name === 'TimeoutError' || sdk.name === 'RateLimitError' || sdk.name === 'ServiceBusyError') {
    return true
  }
  // Network failures surface as undici's `TypeError: fetch failed` or connect's `[unknown] terminated`.
  if (sdk.name === 'TypeError' && /fetch failed|terminated/i.test(sdk.message)) return true
  if (sdk.name === 'SandboxError' && /unknown|terminated|unavailable|internal/i.test(sdk.message)) return true
  return sdk.statusCode !== undefined && sdk.statusCode >= 500
}

/**
 * Turns an error from the E2B SDK into the matching airlock error, with what to do next.
 * `action` says what was being done ("Creating an E2B sandbox").
 */
export function toE2BError(error: unknown, action: string): AirlockError {
  if (AirlockError.isInstance(error)) return error
  const sdk = asSdkError(error)
  const detail = sdk === undefined ? String(error) : sdk.message
  const options = { cause: error }
  switch (sdk?.name) {
    case 'AuthenticationError':
      return new E2BAuthenticationError(
        `${action} failed: E2B refused the API key (${detail}). Check the apiKey setting or the E2B_API_KEY environment variable; keys are listed at https://e2b.dev/dashboard?tab=keys.`,
        options,
      )
    case 'RateLimitError':
      return new E2BRateLimitError(
        `${action} failed: E2B's rate limit was reached (${detail}). Wait and retry, run fewer sandboxes at once, or kill orphaned ones with killOrphanedSandboxes().`,
        options,
      )
    case 'ServiceBusyError':
      return new E2BUnavailableError(
        `${action} failed: E2B is busy and could not serve the request (${detail}). Retry in a few seconds.`,
        options,
      )
    case 'TimeoutError':
      return new E2BUnavailableError(
        `${action} failed: E2B or the sandbox did not answer in time (${detail}). Retry; if the sandbox was running long, its lifetime (sandboxTimeoutMs) may have ended.`,
        options,
      )
    case 'TemplateError':
      return new E2BConfigurationError(
        `${action} failed: the sandbox template is too old for this SDK (${detail}). Rebuild the template.`,
        options,
      )
    case 'SandboxNotFoundError':
    case 'NotFoundError':
      return new E2BUnavailableError(
        `${action} failed: E2B reports that something it needs does not exist (${detail}).`,
        options,
      )
  }
  if (sdk?.statusCode === 400 || sdk?.statusCode === 404) {
    return new E2BConfigurationError(
      `${action} failed: E2B refused the request (${detail}). Check the template name and the settings.`,
      options,
    )
  }
  return new E2BUnavailableError(`${action} failed: ${detail}`, options)
}
