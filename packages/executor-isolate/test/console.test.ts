import { defineTool } from '@airlock/core'
import { describe, expect, it } from 'vitest'
import { isolationModes } from './support.js'

const ping = defineTool({
  name: 'ping',
  description: 'Answers pong.',
  parameters: { type: 'object' },
  execute: () => 'pong',
})

const { each } = isolationModes()

for (const [mode, executor] of each) {
  describe(`console output (${mode})`, () => {
    // Entries travel apart from the run's result; the result used to overtake the entries printed
    // after a tool call now and then, and those were lost. Many runs make a lost entry show.
    it('keeps every entry printed after a tool call, run after run', async () => {
      await using session = await executor.createSession({ tools: [ping] })
      for (let index = 0; index < 40; index++) {
        const streamed: string[] = []
        const outcome = await session.run(
          `console.log('before ${index}')\nawait ping({})\nconsole.log('after', ${index})\nconsole.log('last')\n${index}`,
          { onLog: (line) => streamed.push(line) },
        )
        expect(outcome).toMatchObject({
          type: 'value',
          value: index,
          logs: `before ${index}\nafter ${index}\nlast\n`,
        })
        expect(streamed).toEqual([`before ${index}`, `after ${index}`, 'last'])
      }
    })

    it('keeps the truncation marker that ends the output after a tool call', async () => {
      await using session = await executor.createSession({ tools: [ping], limits: { maxOutputBytes: 8 } })
      for (let index = 0; index < 20; index++) {
        const outcome = await session.run(`await ping({})\nconsole.log('0123456789')\n'done'`)
        expect(outcome).toMatchObject({ type: 'value', value: 'done' })
        expect(outcome.logs).toMatch(/^0123456\n\[output truncated: /)
      }
    })
  })
}
