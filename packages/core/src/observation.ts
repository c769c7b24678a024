import type { Data } from './data.js'
import type { RunError, RunOutcome } from './executor.js'
import { InvalidDefinitionError } from './errors.js'
import { formatData } from './format-data.js'

export interface ObservationOptions {
  /**
   * Longest observation, in characters. Longer ones keep their head and tail around a marker that
   * says how much was cut, because the model pays for every character it rereads on each step.
   */
  readonly maxChars: number
}

/** Strings up to this long without line breaks are shown quoted on the `Value:` line. */
const INLINE_STRING_CHARS = 200

/**
 * Turns a run's outcome into the text the model reads next.
 *
 * - `value`: what the code printed (`Logs:`), then the last expression's value (`Value:`), left out
 *   when it is `undefined` (the common `console.log(...)` last line).
 * - `error`: the logs, then the error with its kind, position and code frame, so the model can fix
 *   the exact line.
 * - `final`: the answer itself, since no further step will read it (strings as they are).
 *
 * @example
 * formatObservation(outcome, { maxChars: 20_000 })
 * // 'Logs:\n3 invoices\nValue: { total: 240.5, currency: "EUR" }'
 */
export function formatObservation(outcome: RunOutcome, options: ObservationOptions): string {
  const { maxChars } = options
  if (!Number.isSafeInteger(maxChars) || maxChars <= 0) {
    throw new InvalidDefinitionError(`maxChars must be a positive integer, got ${String(maxChars)}.`)
  }
  return truncateText(render(outcome), maxChars)
}

function render(outcome: RunOutcome): string {
  if (outcome.type === 'final') return renderAnswer(outcome.answer)
  const parts: string[] = []
  if (outcome.logs !== '') parts.push(`Logs:\n${outcome.logs.replace(/\n$/, '')}`)
  if (outcome.type === 'error') {
    parts.push(renderError(outcome.error))
  } else if (outcome.value !== undefined) {
    parts.push(renderValue(outcome.value))
  } else if (parts.length === 0) {
    parts.push(
      'No output: the code printed nothing and its last expression has no value. Use console.log to see results.',
    )
  }
  return parts.join('\n')
}

/** Renders a final answer for people: strings as written, anything else as data. */
export function renderAnswer(answer: Data): string {
  return typeof answer === 'string' ? answer : formatData(answer)
}

function renderValue(value: Data): string {
  if (typeof value === 'string' && (value.length > INLINE_STRING_CHARS || value.includes('\n'))) {
    return `Value (a string of ${groupDigits(value.length)} chars):\n${value}`
  }
  return `Value: ${formatData(value)}`
}

function renderError(error: RunError): string {
  const where: string[] = [error.kind === 'limit' && error.limit ? `limit ${error.limit}` : error.kind]
  if (error.tool !== undefined) where.push(`in tool ${error.tool}`)
  if (error.line !== undefined) {
    where.push(error.column === undefined ? `at line ${error.line}` : `at line ${error.line}:${error.column}`)
  }
  const lines = [`Error (${where.join(', ')}): ${error.name}: ${error.message}`]
  if (error.codeFrame !== undefined && error.codeFrame !== '') lines.push(error.codeFrame.replace(/\n$/, ''))
  if (error.sessionLost === true) {
    lines.push(
      'The sandbox was restarted: variables, functions and imports from earlier steps are gone; recreate what you still need.',
    )
  }
  return lines.join('\n')
}

/**
 * Shortens `text` to at most `maxChars` characters, keeping the head and the tail (where errors
 * and final values are) around a marker saying how much was cut and what to do about it. Cuts
 * snap to line breaks when one is near, and never split a surrogate pair.
 *
 * @example
 * truncateText('x'.repeat(50_000), 20_000)
 * // 'xxx…\n… [truncated 30,059 chars; print less or slice your data]\n…xxx'
 */
export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text
  // The marker's length depends on the count it shows; size it for the worst case first.
  const marker = (cut: number) => `\n… [truncated ${groupDigits(cut)} chars; print less or slice your data]\n`
  const budget = Math.max(0, maxChars - marker(text.length).length)
  let headEnd = snapToLine(text, Math.floor(budget * 0.6), 'backward')
  let tailStart = snapToLine(text, text.length - (budget - headEnd), 'forward')
  // Never leave half a surrogate pair on either side: move the cut away from the pair.
  if (isLowSurrogate(text, headEnd)) headEnd--
  if (isLowSurrogate(text, tailStart)) tailStart++
  return text.slice(0, headEnd) + marker(tailStart - headEnd) + text.slice(tailStart)
}

/** Moves a cut to a nearby line break (within 200 chars) so lines stay whole. */
function snapToLine(text: string, at: number, direction: 'backward' | 'forward'): number {
  const reach = 200
  if (direction === 'backward') {
    const newline = text.lastIndexOf('\n', at - 1)
    return newline !== -1 && at - newline <= reach ? newline : at
  }
  const newline = text.indexOf('\n', at)
  return newline !== -1 && newline - at <= reach ? newline + 1 : at
}

function isLowSurrogate(text: string, at: number): boolean {
  const code = text.charCodeAt(at)
  return at > 0 && code >= 0xdc00 && code <= 0xdfff
}

/** `12345` → `12,345`, written out so the output does not depend on the host's locale data. */
export function groupDigits(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}
