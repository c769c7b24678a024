import type { RunOutcome } from '@airlock/core'
import { describe, expect, it } from 'vitest'
import { Interpreter } from './interpreter.js'
import { createLocalExecutor } from './local-executor.js'
import { LocalSession, sameThreadEnvironment } from './session.js'
import { warmUp } from './warm-up.js'

/** What sandbox code can see of a realm's global state, as JSON text made in the sandbox. */
const probe = `JSON.stringify({
  globals: Object.getOwnPropertyNames(globalThis).sort(),
  regexpStatics: [RegExp.$1, RegExp.lastMatch, RegExp.input],
  arrayPrototype: Object.getOwnPropertyNames(Array.prototype).sort(),
  objectPrototype: Object.getOwnPropertyNames(Object.prototype).sort(),
  symbols: Object.getOwnPropertySymbols(globalThis).length,
})`

function look(interpreter: Interpreter): unknown {
  return JSON.parse(interpreter.compile(probe).run() as string)
}

const idle = () => new Promise((resolve) => setImmediate(resolve))

describe('the spare realm and its warm-up', () => {
  it('leaves nothing sandbox code can see: no names, no declarations, no regex statics', () => {
    const warmed = new Interpreter()
    warmUp(warmed)
    expect(warmed.engine.lexicalNames.size).toBe(0)
    expect(look(warmed)).toEqual(look(new Interpreter()))
  })

  it('a session created after idle time takes the spare and is isolated from earlier sessions', async () => {
    const executor = createLocalExecutor()
    await using first = await executor.createSession()
    await idle()
    await first.run('Array.prototype.polluted = 1; globalThis.leaked = 2; const mine = 3')
    await using second = await executor.createSession({ variables: { given: 4 } })
    // A session on a realm built then and there, not ahead.
    const options = { variables: { given: 4 } }
    await using inline = new LocalSession(
      options,
      sameThreadEnvironment(options, process.cwd()),
      new Interpreter(),
    )
    const seen = await second.run(`[typeof [].polluted, typeof leaked, typeof mine, given, ${probe}]`)
    const expected = await inline.run(`[typeof [].polluted, typeof leaked, typeof mine, given, ${probe}]`)
    const value = (outcome: RunOutcome): unknown[] => {
      if (outcome.type !== 'value') throw new Error(JSON.stringify(outcome))
      return outcome.value as unknown[]
    }
    expect(value(seen).slice(0, 4)).toEqual(['undefined', 'undefined', 'undefined', 4])
    expect(value(seen)).toEqual(value(expected))
  })
})
