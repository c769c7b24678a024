import { describe, expect, it } from 'vitest'
import type { RunOutcome } from './executor.js'
import { InvalidDefinitionError } from './errors.js'
import { formatObservation, groupDigits, truncateText } from './observation.js'

const stats = { durationMs: 1, toolCalls: [] }
const options = { maxChars: 20_000 }

describe('formatObservation', () => {
  it('shows logs, then the value', () => {
    const outcome: RunOutcome = { type: 'value', value: { total: 3 }, logs: 'a\nb\n', stats }
    expect(formatObservation(outcome, options)).toBe('Logs:\na\nb\nValue: { total: 3 }')
  })

  it('leaves out an undefined value', () => {
    const outcome: RunOutcome = { type: 'value', value: undefined, logs: 'done\n', stats }
    expect(formatObservation(outcome, options)).toBe('Logs:\ndone')
  })

  it('says so when there is nothing to show', () => {
    const outcome: RunOutcome = { type: 'value', value: undefined, logs: '', stats }
    expect(formatObservation(outcome, options)).toMatch(/^No output: .*console\.log/)
  })

  it('quotes short strings and shows long or multi-line strings as they are', () => {
    const short: RunOutcome = { type: 'value', value: '42', logs: '', stats }
    expect(formatObservation(short, options)).toBe('Value: "42"')
    const text: RunOutcome = { type: 'value', value: 'line 1\nline 2', logs: '', stats }
    expect(formatObservation(text, options)).toBe('Value (a string of 13 chars):\nline 1\nline 2')
  })

  it('shows an error with kind, position, tool and code frame after the logs', () => {
    const outcome: RunOutcome = {
      type: 'error',
      logs: 'fetching\n',
      stats,
      error: {
        kind: 'tool',
        name: 'ToolInputError',
        message: 'Invalid arguments for tool get_weather:\n  - args.city: expected string',
        tool: 'get_weather',
        line: 2,
        column: 7,
        codeFrame: '  1 | const city = 1\n> 2 | await get_weather({ city })\n    |       ^',
      },
    }
    expect(formatObservation(outcome, options)).toBe(
      [
        'Logs:',
        'fetching',
        'Error (tool, in tool get_weather, at line 2:7): ToolInputError: Invalid arguments for tool get_weather:',
        '  - args.city: expected string',
        '  1 | const city = 1',
        '> 2 | await get_weather({ city })',
        '    |       ^',
      ].join('\n'),
    )
  })

  it('names the limit and warns when the session was lost', () => {
    const outcome: RunOutcome = {
      type: 'error',
      logs: '',
      stats,
      error: {
        kind: 'limit',
        limit: 'memoryMb',
        name: 'LimitError',
        message: 'out of memory',
        sessionLost: true,
      },
    }
    const text = formatObservation(outcome, options)
    expect(text).toMatch(/^Error \(limit memoryMb\): LimitError: out of memory\n/)
    expect(text).toContain('variables, functions and imports from earlier steps are gone')
  })

  it('is the answer itself for a final outcome', () => {
    const text: RunOutcome = { type: 'final', answer: 'Lyon', logs: 'noise\n', stats }
    expect(formatObservation(text, options)).toBe('Lyon')
    const data: RunOutcome = { type: 'final', answer: [1, 2n], logs: '', stats }
    expect(formatObservation(data, options)).toBe('[1, 2n]')
  })

  it('truncates to maxChars, keeping the head and the error at the tail', () => {
    const logs = Array.from({ length: 5_000 }, (_, index) => `line ${index}`).join('\n') + '\n'
    const outcome: RunOutcome = {
      type: 'error',
      logs,
      stats,
      error: { kind: 'runtime', name: 'Error', message: 'boom', line: 3, column: 1 },
    }
    const text = formatObservation(outcome, { maxChars: 1_000 })
    expect(text.length).toBeLessThanOrEqual(1_000)
    expect(text.startsWith('Logs:\nline 0\n')).toBe(true)
    expect(text.endsWith('Error (runtime, at line 3:1): Error: boom')).toBe(true)
    expect(text).toMatch(/\n… \[truncated [\d,]+ chars; print less or slice your data\]\n/)
  })

  it('refuses a maxChars that is not a positive integer', () => {
    const outcome: RunOutcome = { type: 'value', value: 1, logs: '', stats }
    expect(() => formatObservation(outcome, { maxChars: 0 })).toThrow(InvalidDefinitionError)
  })
})

describe('truncateText', () => {
  it('leaves short text alone', () => {
    expect(truncateText('short', 10)).toBe('short')
  })

  it('counts exactly what it cut', () => {
    const text = 'x'.repeat(50_000)
    const result = truncateText(text, 20_000)
    expect(result.length).toBeLessThanOrEqual(20_000)
    const cut = Number(/truncated ([\d,]+) chars/.exec(result)![1]!.replaceAll(',', ''))
    const marker = /\n… \[.*\]\n/.exec(result)![0]
    expect(result.length - marker.length + cut).toBe(text.length)
  })

  it('snaps cuts to line breaks', () => {
    const text = Array.from({ length: 1_000 }, (_, index) => `row ${index}`).join('\n')
    const result = truncateText(text, 500)
    const [head, tail] = result.split(/\n… \[.*\]\n/)
    expect(head!.split('\n').every((line) => /^row \d+$/.test(line))).toBe(true)
    expect(tail!.split('\n').every((line) => /^row \d+$/.test(line))).toBe(true)
  })

  it('never splits a surrogate pair', () => {
    const result = truncateText('😀'.repeat(10_000), 1_000)
    expect(result).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/)
  })
})

describe('groupDigits', () => {
  it('groups thousands', () => {
    expect(groupDigits(12_345_678)).toBe('12,345,678')
    expect(groupDigits(999)).toBe('999')
  })
})
