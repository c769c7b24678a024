import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { extractCode } from './code-extraction.js'
import { buildSystemPrompt, buildTaskMessage } from './prompt.js'
import { defineTool } from './tool.js'

const weather = defineTool({
  name: 'get_weather',
  description: 'Current weather for a city.',
  parameters: z.object({ city: z.string().describe('City name, e.g. "Oslo"') }),
  returns: z.object({ tempC: z.number(), conditions: z.string() }),
  execute: async () => ({ tempC: 21, conditions: 'sunny' }),
})

const search = defineTool({
  name: 'search_notes',
  description: 'Full-text search over the team notes. Returns the best matches first.',
  parameters: z.object({ query: z.string(), limit: z.number().int().optional() }),
  execute: async () => [],
})

describe('buildSystemPrompt', () => {
  it('renders the full prompt with two tools, modules and instructions', () => {
    const prompt = buildSystemPrompt({
      tools: [weather, search],
      allowedModules: ['lodash', 'date-fns'],
      instructions: 'Answer in French.',
    })
    expect(prompt).toMatchSnapshot()
  })

  it('declares the tools and finalAnswer in one ts block', () => {
    const prompt = buildSystemPrompt({ tools: [weather, search] })
    const tools = prompt.slice(prompt.indexOf('## Tools'))
    const block = extractCode(tools)
    expect(block?.language).toBe('ts')
    expect(block?.code).toContain('declare function finalAnswer(value: unknown): never')
    expect(block?.code).toContain('declare function get_weather(args: {')
    expect(block?.code).toContain('declare function search_notes(args: {')
  })

  it('teaches a format that extraction reads: every example reply yields its code', () => {
    const prompt = buildSystemPrompt()
    const examples = prompt.slice(prompt.indexOf('## Examples'), prompt.indexOf('## Tools'))
    const replies = examples.split(/\n(?=Thought: )/).slice(1)
    expect(replies.length).toBeGreaterThanOrEqual(5)
    for (const reply of replies) {
      expect(extractCode(reply.split('\nObservation:')[0]!)).toBeDefined()
    }
  })

  it('says when there are no tools and no modules, and omits empty instructions', () => {
    const prompt = buildSystemPrompt({ instructions: '   ' })
    expect(prompt).toContain('You have no tools besides `finalAnswer`')
    expect(prompt).toContain('No module can be imported')
    expect(prompt).not.toContain('## Instructions')
  })
})

describe('buildTaskMessage', () => {
  it('is the task alone without variables', () => {
    expect(buildTaskMessage('Count to 3.')).toBe('Task:\nCount to 3.')
  })

  it('describes each variable by its shape', () => {
    const message = buildTaskMessage('Summarize.', {
      report: 'x'.repeat(1_234),
      rows: [1, 2, 3],
      config: { a: 1, b: 2 },
      lookup: new Map([['k', 1]]),
      bytes: new Uint8Array(10),
      count: 5,
    })
    expect(message).toBe(
      [
        'Task:',
        'Summarize.',
        '',
        'These variables are already defined in the sandbox:',
        '- report: a string of 1,234 chars',
        '- rows: an array of 3 items',
        '- config: an object with keys a, b',
        '- lookup: a Map of 1 entries',
        '- bytes: a Uint8Array of 10 bytes',
        '- count: a number (5)',
      ].join('\n'),
    )
  })
})
