import { styleText } from 'node:util'
import { type AgentEvent, formatData, type RunError, type RunResult, type Usage } from '@airlock/core'
import { highlight } from './highlight.js'

type Style = Parameters<typeof styleText>[0]

/** Shows a run to a person: thoughts as they stream, highlighted code, logs, results, a summary. */
export interface EventRenderer {
  render(event: AgentEvent): void
  /** Stops any spinner; call once the stream has ended or thrown. */
  close(): void
}

const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/** A one-line spinner on stderr, shown only on a terminal so pipes and logs stay clean. */
class Spinner {
  #timer: NodeJS.Timeout | undefined
  #frame = 0
  #label = ''

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(label: string): void {
    if (!this.stream.isTTY) return
    this.stop()
    this.#label = label
    this.#timer = setInterval(() => this.#draw(), 80)
    this.#timer.unref()
    this.#draw()
  }

  stop(): void {
    if (this.#timer === undefined) return
    clearInterval(this.#timer)
    this.#timer = undefined
    this.stream.write('\r\x1b[2K')
  }

  #draw(): void {
    const frame = SPINNER_FRAMES[this.#frame++ % SPINNER_FRAMES.length]!
    this.stream.write(`\r\x1b[2K${styleText('cyan', frame, { stream: this.stream })} ${this.#label}`)
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`
}

function formatUsage(usage: Usage): string {
  return `${usage.inputTokens.toLocaleString('en-US')} in / ${usage.outputTokens.toLocaleString('en-US')} out tokens`
}

/** The model's text before its code block: the thought, without the `Thought:` label. */
function thoughtOf(text: string): string {
  const fence = text.search(/```|<code>/)
  return (fence === -1 ? text : text.slice(0, fence)).replace(/^\s*Thought:\s*/, '').trim()
}

export function createPrettyRenderer(out: NodeJS.WriteStream, err: NodeJS.WriteStream): EventRenderer {
  const paint = (style: Style, text: string) => styleText(style, text, { stream: out })
  const spinner = new Spinner(err)
  const phases = { modelMs: 0, executionMs: 0 }
  let streamed = ''
  let streamedThought = false

  const write = (text: string) => {
    spinner.stop()
    out.write(text)
  }
  const block = (label: string, style: Style, body: string) =>
    write(`${paint(style, `${label}`)}\n${body.replace(/\n$/, '')}\n`)

  const describeError = (error: RunError) => {
    const where =
      error.line === undefined
        ? ''
        : ` at line ${error.line}${error.column === undefined ? '' : `:${error.column}`}`
    let text = `${paint('red', `${error.name}${where}:`)} ${error.message}`
    if (error.codeFrame) text += `\n${paint('gray', error.codeFrame.replace(/\n$/, ''))}`
    if (error.sessionLost) text += `\n${paint('yellow', 'The sandbox was restarted; its state is gone.')}`
    return text
  }

  return {
    render(event) {
      switch (event.type) {
        case 'step_start':
          streamed = ''
          streamedThought = false
          write(
            `\n${paint('bold', event.kind === 'action' ? `Step ${event.step}` : event.kind === 'planning' ? `Planning (step ${event.step})` : 'Final answer from memory')}\n`,
          )
          spinner.start('model is thinking')
          break
        case 'model_delta': {
          // Show the thought as it streams; the code is shown highlighted once it is complete.
          const before = thoughtOf(streamed)
          streamed += event.text
          const after = thoughtOf(streamed)
          if (!/```|<code>/.test(streamed) || after.length > before.length) {
            const fresh = after.slice(before.length)
            if (fresh !== '') {
              write(paint('italic', fresh))
              streamedThought = true
            }
          }
          spinner.start('model is writing code')
          break
        }
        case 'model_output': {
          if (streamedThought) write('\n')
          else {
            const thought = thoughtOf(event.text)
            if (thought !== '') write(`${paint('italic', thought)}\n`)
          }
          break
        }
        case 'planning':
          block('Plan', 'blue', event.text)
          break
        case 'code': {
          const lines = highlight(event.code, out).split('\n')
          const width = String(lines.length).length
          const numbered = lines.map(
            (line, index) => `${paint('gray', `${String(index + 1).padStart(width)} │`)} ${line}`,
          )
          write(`${paint('gray', `── code (${event.language}) ──`)}\n${numbered.join('\n')}\n`)
          spinner.start('executor is running the code')
          break
        }
        case 'log':
          write(`${paint('gray', '│')} ${event.line}\n`)
          spinner.start('executor is running the code')
          break
        case 'outcome': {
          const { outcome } = event
          if (outcome.type === 'value' && outcome.value !== undefined) {
            write(`${paint('green', '→')} ${formatData(outcome.value)}\n`)
          } else if (outcome.type === 'error') {
            write(`${paint('red', '✗')} ${describeError(outcome.error)}\n`)
          }
          break
        }
        case 'error':
          if (event.error.kind === 'format' || event.error.kind === 'check') {
            write(`${paint('yellow', '!')} ${event.error.message}\n`)
          } else if (event.error.kind === 'model' || event.error.kind === 'executor') {
            write(`${paint('red', '✗')} ${event.error.message}\n`)
          }
          break
        case 'observation':
          break
        case 'final_answer':
          write(
            `\n${paint(['bold', 'green'], 'Answer:')} ${typeof event.output === 'string' ? event.output : formatData(event.output)}\n`,
          )
          break
        case 'step_end':
          phases.modelMs += event.modelMs
          phases.executionMs += event.executionMs
          write(
            paint(
              'gray',
              `   ${formatMs(event.durationMs)} (model ${formatMs(event.modelMs)}, code ${formatMs(event.executionMs)}) · ${formatUsage(event.usage)}`,
            ) + '\n',
          )
          break
        case 'done':
          write(`\n${summary(event.result, phases)}\n`)
          break
      }
    },
    close() {
      spinner.stop()
    },
  }

  function summary(result: RunResult, totals: { modelMs: number; executionMs: number }): string {
    const actions = result.steps.filter((step) => step.kind === 'action').length
    const state = result.state === 'success' ? paint('green', 'success') : paint('yellow', result.state)
    const lines = [
      `${paint('bold', 'Summary')}: ${state} in ${actions} step${actions === 1 ? '' : 's'}, ${formatMs(result.durationMs)}`,
      `  model ${formatMs(totals.modelMs)} · code ${formatMs(totals.executionMs)} · ${formatUsage(result.usage)}`,
    ]
    if (result.error !== undefined) lines.push(`  ${paint('red', result.error.message)}`)
    return lines.join('\n')
  }
}

/** One JSON object per line and event, for scripts: `airlock run ... --json | jq`. */
export function createJsonRenderer(out: NodeJS.WriteStream): EventRenderer {
  return {
    render(event) {
      out.write(`${JSON.stringify(event, jsonReplacer)}\n`)
    },
    close() {},
  }
}

/** Keeps Data that JSON cannot hold readable: bigint, Map, Set, Uint8Array, undefined, errors. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $bigint: value.toString() }
  if (value instanceof Map) return { $map: [...value.entries()] }
  if (value instanceof Set) return { $set: [...value.values()] }
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') }
  if (value instanceof Error) return { name: value.name, message: value.message }
  if (value === undefined) return null
  return value
}
