import type { ChatMessage, GenerateOptions, Model, ModelDelta, ModelOutput, Usage } from '../model.js'
import { cutAtStopSequence } from '../code-extraction.js'
import { InvalidDefinitionError, UnscriptedCallError } from '../errors.js'
import { ZERO_USAGE } from '../model.js'

/** One scripted reply: text (usage zero or estimated), or a full `ModelOutput` used as given. */
export type ScriptedOutput = string | ModelOutput

/** Answers any call; `callIndex` counts calls from 0. May be async, e.g. to simulate latency. */
export type ScriptedResponder = (
  messages: readonly ChatMessage[],
  callIndex: number,
) => ScriptedOutput | Promise<ScriptedOutput>

export interface ScriptedModelOptions {
  /** Defaults to `'scripted'`. */
  readonly id?: string
  /** Adds `stream()`, which yields each reply in word-sized pieces and then `finish`. */
  readonly streaming?: boolean
  /**
   * Gives string replies a simulated usage instead of zero: one token per 4 characters, rounded
   * up, of the messages sent (`inputTokens`) and of the reply after stop sequences (`outputTokens`).
   * Crude, but deterministic and of the right order for English text and code.
   */
  readonly estimateUsage?: boolean
}

/** A call the model received, in order. */
export interface ScriptedCall {
  readonly method: 'generate' | 'stream'
  /** A copy of the messages as they were at the call. */
  readonly messages: readonly ChatMessage[]
  readonly options: GenerateOptions
}

/**
 * A `Model` that replays scripted replies, for tests and offline demos.
 *
 * Like a provider, it cuts each reply before the first of `options.stop`, and it honours the
 * abort signal. A call beyond the script throws `UnscriptedCallError`.
 *
 * @example
 * const model = new ScriptedModel([
 *   'Thought: add.\n```ts\nfinalAnswer(1 + 1)\n```\n<end_code>',
 * ])
 * const result = await new CodeAgent({ model, executor }).run('What is 1 + 1?')
 * expect(model.calls).toHaveLength(1)
 */
export class ScriptedModel implements Model {
  readonly id: string
  /** Every call received, in order. */
  readonly calls: ScriptedCall[] = []
  /** Present only with `streaming: true`, so the agent's feature test sees a non-streaming model otherwise. */
  readonly stream?: (messages: readonly ChatMessage[], options?: GenerateOptions) => AsyncIterable<ModelDelta>

  readonly #script: readonly ScriptedOutput[] | ScriptedResponder
  readonly #estimateUsage: boolean

  constructor(script: readonly ScriptedOutput[] | ScriptedResponder, options: ScriptedModelOptions = {}) {
    const { id = 'scripted', streaming = false, estimateUsage = false } = options
    if (typeof script !== 'function' && !Array.isArray(script)) {
      throw new InvalidDefinitionError(
        'ScriptedModel takes an array of replies (strings or ModelOutput) or a function (messages, callIndex) => reply.',
      )
    }
    this.id = id
    this.#script = script
    this.#estimateUsage = estimateUsage
    if (streaming) this.stream = (messages, streamOptions) => this.#stream(messages, streamOptions)
  }

  async generate(messages: readonly ChatMessage[], options: GenerateOptions = {}): Promise<ModelOutput> {
    return this.#reply('generate', messages, options)
  }

  async *#stream(messages: readonly ChatMessage[], options: GenerateOptions = {}): AsyncIterable<ModelDelta> {
    const { text, usage, raw } = await this.#reply('stream', messages, options)
    for (const piece of text.match(/\s*\S+|\s+/g) ?? []) {
      options.signal?.throwIfAborted()
      yield { type: 'text', text: piece }
    }
    yield { type: 'finish', usage, ...(raw === undefined ? {} : { raw }) }
  }

  async #reply(
    method: ScriptedCall['method'],
    messages: readonly ChatMessage[],
    options: GenerateOptions,
  ): Promise<ModelOutput> {
    const { signal, stop = [] } = options
    signal?.throwIfAborted()
    const callIndex = this.calls.length
    this.calls.push({ method, messages: [...messages], options })
    let scripted: ScriptedOutput
    if (typeof this.#script === 'function') {
      scripted = await this.#script(messages, callIndex)
    } else {
      if (callIndex >= this.#script.length) throw new UnscriptedCallError(callIndex, this.#script.length)
      scripted = this.#script[callIndex]!
    }
    signal?.throwIfAborted()
    if (typeof scripted !== 'string') return { ...scripted, text: cutAtStopSequence(scripted.text, stop) }
    const text = cutAtStopSequence(scripted, stop)
    return { text, usage: this.#estimateUsage ? estimate(messages, text) : ZERO_USAGE }
  }
}

function estimate(messages: readonly ChatMessage[], text: string): Usage {
  const inputChars = messages.reduce((sum, message) => sum + message.content.length, 0)
  return { inputTokens: Math.ceil(inputChars / 4), outputTokens: Math.ceil(text.length / 4) }
}
