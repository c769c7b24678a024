/** One message of a chat transcript, in the role vocabulary every chat API shares. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant'
  readonly content: string
}

/** Tokens a model call consumed, as the provider reported them (0 when it reports nothing). */
export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
}

export interface ModelOutput {
  readonly text: string
  readonly usage: Usage
  /** The provider's raw response, for debugging; never read by core. */
  readonly raw?: unknown
}

/** A piece of a streamed response: text as it arrives, then exactly one `finish`. */
export type ModelDelta =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'finish'; readonly usage: Usage; readonly raw?: unknown }

export interface GenerateOptions {
  /** Generation ends before any of these strings. */
  readonly stop?: readonly string[]
  readonly signal?: AbortSignal
}

/**
 * A chat model. `stream` is optional: the agent uses it when present to show text as it arrives.
 *
 * @example
 * const model: Model = {
 *   id: 'echo',
 *   async generate(messages) {
 *     return { text: messages.at(-1)!.content, usage: { inputTokens: 0, outputTokens: 0 } }
 *   },
 * }
 */
export interface Model {
  /** Provider and model, e.g. `openai:gpt-5-mini`, for logs and results. */
  readonly id: string
  generate(messages: readonly ChatMessage[], options?: GenerateOptions): Promise<ModelOutput>
  stream?(messages: readonly ChatMessage[], options?: GenerateOptions): AsyncIterable<ModelDelta>
}

export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0 })

export function addUsage(a: Usage, b: Usage): Usage {
  return { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens }
}
