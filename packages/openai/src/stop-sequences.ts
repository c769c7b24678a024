/**
 * Cuts generated text before the first stop sequence, on the client, for text that arrives in
 * pieces. Servers honour `stop` unevenly (OpenAI takes at most 4 and its reasoning models none;
 * some local servers ignore it, others leave the sequence in), so the model applies every stop
 * sequence itself and the `Model` contract holds whatever the server did.
 *
 * While streaming, a piece that ends with the start of a stop sequence (`<end_` of `<end_code>`)
 * is held back until the next piece shows whether the sequence completes.
 */
export class StopSequenceCutter {
  readonly #stops: readonly string[]
  #pending = ''
  #stopped = false

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((stop) => stop !== '')
  }

  /** True once a stop sequence was seen; everything after it is dropped. */
  get stopped(): boolean {
    return this.#stopped
  }

  /** Takes the next piece of text and returns what can be released now (possibly `''`). */
  push(text: string): string {
    if (this.#stopped) return ''
    const buffer = this.#pending + text
    let end = -1
    for (const stop of this.#stops) {
      const at = buffer.indexOf(stop)
      if (at !== -1 && (end === -1 || at < end)) end = at
    }
    if (end !== -1) {
      this.#stopped = true
      this.#pending = ''
      return buffer.slice(0, end)
    }
    const held = this.#heldBack(buffer)
    this.#pending = buffer.slice(buffer.length - held)
    return buffer.slice(0, buffer.length - held)
  }

  /** The text still held back, at the end of the reply: it did not grow into a stop sequence. */
  flush(): string {
    const rest = this.#pending
    this.#pending = ''
    return rest
  }

  /** Length of the longest end of `buffer` that is a proper start of some stop sequence. */
  #heldBack(buffer: string): number {
    let held = 0
    for (const stop of this.#stops) {
      for (let length = Math.min(stop.length - 1, buffer.length); length > held; length--) {
        if (buffer.endsWith(stop.slice(0, length))) {
          held = length
          break
        }
      }
    }
    return held
  }
}
