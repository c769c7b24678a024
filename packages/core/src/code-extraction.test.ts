import { describe, expect, it } from 'vitest'
import { CODE_STOP_SEQUENCES, END_CODE, cutAtStopSequence, extractCode } from './code-extraction.js'

describe('extractCode', () => {
  it('extracts the taught format: thought, ts fence, end marker', () => {
    const reply = 'Thought: add them.\n```ts\nconst x: number = 1 + 1\nfinalAnswer(x)\n```\n<end_code>'
    expect(extractCode(reply)).toEqual({ code: 'const x: number = 1 + 1\nfinalAnswer(x)', language: 'ts' })
  })

  it.each([
    ['js', 'js'],
    ['javascript', 'js'],
    ['JavaScript', 'js'],
    ['ts', 'ts'],
    ['typescript', 'ts'],
    ['TS', 'ts'],
  ] as const)('accepts the label %s', (label, language) => {
    expect(extractCode(`\`\`\`${label}\nlet a = 1\n\`\`\``)).toEqual({ code: 'let a = 1', language })
  })

  it('ignores what follows the label in the info string', () => {
    expect(extractCode('```ts title="step.ts"\nlet a = 1\n```')?.code).toBe('let a = 1')
  })

  it('never runs blocks in other languages', () => {
    expect(extractCode('```python\nprint(1)\n```')).toBeUndefined()
    expect(extractCode('```jsx\n<div />\n```')).toBeUndefined()
    expect(extractCode('```json\n{"a": 1}\n```\n```ts\nlet a = 1\n```')?.code).toBe('let a = 1')
  })

  it('joins several labeled blocks in order; ts wins the language', () => {
    const reply = 'First:\n```js\nconst a = 1\n```\nThen:\n```ts\nconst b: number = a + 1\n```'
    expect(extractCode(reply)).toEqual({ code: 'const a = 1\n\nconst b: number = a + 1', language: 'ts' })
  })

  it('accepts unlabeled fences only when no labeled one exists', () => {
    expect(extractCode('```\nconsole.log(1)\n```')).toEqual({ code: 'console.log(1)', language: 'js' })
    expect(extractCode('Output looks like:\n```\n42\n```\n```js\nconsole.log(1)\n```')?.code).toBe(
      'console.log(1)',
    )
  })

  it('tolerates a missing closing fence (cut by a stop sequence)', () => {
    expect(extractCode('Thought: go.\n```ts\nconst a = 1\nconsole.log(a)\n')).toEqual({
      code: 'const a = 1\nconsole.log(a)',
      language: 'ts',
    })
  })

  it('ignores everything after the end marker', () => {
    const reply = '```ts\nlet a = 1\n```<end_code>\nObservation: 1\n```ts\nfinalAnswer(a)\n```'
    expect(extractCode(reply)?.code).toBe('let a = 1')
  })

  it('keeps a fence line inside a longer fence as code', () => {
    const reply = '````ts\nconst md = `\n```\n`\n````'
    expect(extractCode(reply)?.code).toBe('const md = `\n```\n`')
  })

  it('removes the indentation of an indented fence, keeping relative indentation', () => {
    const reply = '1. Run this:\n   ```ts\n   if (x) {\n     y()\n   }\n   ```'
    expect(extractCode(reply)?.code).toBe('if (x) {\n  y()\n}')
  })

  it('accepts <code> sections, with or without a fence inside, and unclosed', () => {
    expect(extractCode('Thought: go.\n<code>\nconst a = 1\n</code>')).toEqual({
      code: 'const a = 1',
      language: 'js',
    })
    expect(extractCode('<code>\n```ts\nlet a: number = 1\n```\n</code>')).toEqual({
      code: 'let a: number = 1',
      language: 'ts',
    })
    expect(extractCode('<code>\nlet a = 1\nlet b = 2')?.code).toBe('let a = 1\nlet b = 2')
  })

  it('prefers labeled fences over <code>, and <code> over unlabeled fences', () => {
    expect(extractCode('<code>x()</code>\n```js\ny()\n```')?.code).toBe('y()')
    expect(extractCode('```\nsample\n```\n<code>x()</code>')?.code).toBe('x()')
  })

  it('returns undefined without code, or with only empty blocks', () => {
    expect(extractCode('The answer is 42.')).toBeUndefined()
    expect(extractCode('```ts\n\n```')).toBeUndefined()
    expect(extractCode('')).toBeUndefined()
  })

  it('handles CRLF line endings', () => {
    expect(extractCode('```ts\r\nlet a = 1\r\n```\r\n')?.code).toBe('let a = 1')
  })
})

describe('stop sequences', () => {
  it('stop after the end marker or an invented observation', () => {
    expect(CODE_STOP_SEQUENCES).toContain(END_CODE)
    const reply = 'Thought\n```ts\nx()\n```\nObservation: made up'
    expect(cutAtStopSequence(reply, CODE_STOP_SEQUENCES)).toBe('Thought\n```ts\nx()\n```')
    expect(cutAtStopSequence('a<end_code>b\nObservation:', CODE_STOP_SEQUENCES)).toBe('a')
    expect(cutAtStopSequence('plain', CODE_STOP_SEQUENCES)).toBe('plain')
  })
})
