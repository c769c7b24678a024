import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Executor, ExecutorSession, SessionOptions } from '../src/executor.js'
import {
  type AgentEvent,
  type AgentStep,
  CodeAgent,
  type CodeAgentOptions,
  type FinalAnswerCheckContext,
} from '../src/code-agent.js'
import { CODE_STOP_SEQUENCES } from '../src/code-extraction.js'
import { AgentExecutorError, AgentModelError, InvalidDefinitionError } from '../src/errors.js'
import { addUsage, type ChatMessage, type Model, ZERO_USAGE } from '../src/model.js'
import { BEST_ANSWER_PROMPT, CONTINUE_AFTER_PLAN, MISSING_CODE_OBSERVATION } from '../src/prompt.js'
import { ScriptedModel } from '../src/testing/scripted-model.js'
import { defineTool } from '../src/tool.js'
import { createTestExecutor } from './support/test-executor.js'

/** A reply in the taught format. */
function reply(thought: string, code: string): string {
  return `Thought: ${thought}\n\`\`\`ts\n${code}\n\`\`\`\n<end_code>`
}

const temperatures: Record<string, number> = { Oslo: 4, Rome: 21, Lima: 18 }

function weatherTool(calls: string[] = []) {
  return defineTool({
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: z.object({ city: z.string() }),
    returns: z.object({ city: z.string(), tempC: z.number() }),
    execute: async ({ city }) => {
      calls.push(city)
      const tempC = temperatures[city]
      if (tempC === undefined) throw new Error(`Unknown city ${city}`)
      return { city, tempC }
    },
  })
}

interface SessionRecord {
  readonly options: SessionOptions
  readonly codes: string[]
  disposed: boolean
}

/** The test executor, with every session recorded: what it was given, what it ran, whether it was freed. */
function observedExecutor(inner: Executor = createTestExecutor()): {
  executor: Executor
  sessions: SessionRecord[]
} {
  const sessions: SessionRecord[] = []
  const executor: Executor = {
    specificationVersion: inner.specificationVersion,
    kind: inner.kind,
    capabilities: inner.capabilities,
    async createSession(options: SessionOptions = {}) {
      const session = await inner.createSession(options)
      const record: SessionRecord = { options, codes: [], disposed: false }
      sessions.push(record)
      const dispose = async () => {
        record.disposed = true
        await session.dispose()
      }
      const observed: ExecutorSession = {
        id: session.id,
        run: (code, runOptions) => {
          record.codes.push(code)
          return session.run(code, runOptions)
        },
        dispose,
        [Symbol.asyncDispose]: dispose,
      }
      return observed
    },
  }
  return { executor, sessions }
}

function agentWith(model: Model, options: Partial<CodeAgentOptions> = {}) {
  const { executor, sessions } = observedExecutor()
  const agent = new CodeAgent({ model, executor, tools: [weatherTool()], ...options })
  return { agent, sessions }
}

async function collect(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const collected: AgentEvent[] = []
  for await (const event of events) collected.push(event)
  return collected
}

const lastMessage = (messages: readonly ChatMessage[]) => messages.at(-1)!

describe('CodeAgent run loop', () => {
  it('succeeds in 3 steps with concurrent tool calls and a recovered error', async () => {
    const calls: string[] = []
    const model = new ScriptedModel([
      reply(
        'Fetch both cities at once.',
        "const [oslo, rome] = await Promise.all([get_weather({ city: 'Oslo' }), get_weather({ city: 'Rome' })])\nconsole.log(oslo.tempC, rome.tempC)",
      ),
      reply('Compute the difference.', 'const diff = oslo.temp.toFixed(1)'),
      reply('The field is tempC.', 'finalAnswer(rome.tempC - oslo.tempC)'),
    ])
    const { agent, sessions } = agentWith(model, { tools: [weatherTool(calls)] })

    const result = await agent.run('How much warmer is Rome than Oslo, in °C?')

    expect(result.state).toBe('success')
    expect(result.output).toBe(17)
    expect(result.error).toBeUndefined()
    expect(calls.sort()).toEqual(['Oslo', 'Rome'])
    expect(result.steps.map((step) => step.kind)).toEqual(['action', 'action', 'action'])
    expect(result.steps.map((step) => step.step)).toEqual([1, 2, 3])
    expect(agent.memory).toBe(result.steps)

    const [first, second, third] = result.steps as [AgentStep, AgentStep, AgentStep]
    if (first.kind !== 'action' || second.kind !== 'action' || third.kind !== 'action') throw new Error()
    expect(first.outcome?.type).toBe('value')
    expect(first.observation).toBe('Logs:\n4 21')
    expect(second.outcome?.type).toBe('error')
    expect(second.error).toMatchObject({ kind: 'runtime', name: 'TypeError' })
    expect(second.observation).toMatch(/^Error \(runtime, at line 1:\d+\): TypeError: /)
    expect(third.outcome).toMatchObject({ type: 'final', answer: 17 })
    expect(third.code).toBe('finalAnswer(rome.tempC - oslo.tempC)')
    expect(third.language).toBe('ts')

    // The conversation: system, task, then one (assistant, observation) pair per step.
    const sent = model.calls[2]!.messages
    expect(sent.map((message) => message.role)).toEqual([
      'system',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ])
    expect(sent[0]!.content).toBe(agent.systemPrompt)
    expect(sent[1]!.content).toBe('Task:\nHow much warmer is Rome than Oslo, in °C?')
    expect(sent[2]!.content).toBe(
      `Thought: Fetch both cities at once.\n\`\`\`ts\nconst [oslo, rome] = await Promise.all([get_weather({ city: 'Oslo' }), get_weather({ city: 'Rome' })])\nconsole.log(oslo.tempC, rome.tempC)\n\`\`\`\n<end_code>`,
    )
    expect(sent[3]!.content).toBe('Observation:\nLogs:\n4 21')
    expect(sent[5]!.content).toBe(`Observation:\n${second.observation}`)
    for (const call of model.calls) expect(call.options.stop).toEqual(CODE_STOP_SEQUENCES)

    // One session for the whole run, given the tools, and freed at the end.
    expect(sessions).toHaveLength(1)
    expect(sessions[0]!.codes).toHaveLength(3)
    expect(sessions[0]!.options.tools!.map((tool) => tool.name)).toEqual(['get_weather'])
    expect(sessions[0]!.disposed).toBe(true)
  })

  it('answers a reply without code with the expected format, as an error step', async () => {
    const model = new ScriptedModel(['The answer is 4.', reply('Now in code.', 'finalAnswer(2 + 2)')])
    const { agent } = agentWith(model)
    const events = await collect(agent.stream('What is 2 + 2?'))
    const result = (events.at(-1) as Extract<AgentEvent, { type: 'done' }>).result

    expect(result).toMatchObject({ state: 'success', output: 4 })
    const first = result.steps[0]!
    expect(first).toMatchObject({
      kind: 'action',
      error: { kind: 'format' },
      observation: MISSING_CODE_OBSERVATION,
    })
    expect(first.kind === 'action' && first.code).toBe(undefined)
    expect(events).toContainEqual({
      type: 'error',
      step: 1,
      error: { kind: 'format', message: 'The reply had no code block.' },
    })
    expect(lastMessage(model.calls[1]!.messages).content).toBe(`Observation:\n${MISSING_CODE_OBSERVATION}`)
    // No code block, so no end marker is added to the remembered reply.
    expect(model.calls[1]!.messages[2]!.content).toBe('The answer is 4.')
  })

  it('sends a refused final answer back with the reason, then accepts a corrected one', async () => {
    const seen: { answer: unknown; context: FinalAnswerCheckContext }[] = []
    const model = new ScriptedModel([
      reply('Answer.', "console.log('checking')\nfinalAnswer('21')"),
      reply('Again.', 'finalAnswer(21)'),
      reply('Once more.', 'finalAnswer(21.0)'),
    ])
    let attempts = 0
    const { agent } = agentWith(model, {
      finalAnswerChecks: [
        (answer, context) => {
          seen.push({ answer, context })
          return typeof answer === 'number' || 'the answer must be a number, not text.'
        },
        () => ++attempts > 1,
      ],
    })

    const result = await agent.run('Temperature in Rome?')

    expect(result).toMatchObject({ state: 'success', output: 21 })
    expect(result.steps.map((step) => step.error?.kind)).toEqual(['check', 'check', undefined])
    expect(seen.map((entry) => entry.answer)).toEqual(['21', 21, 21])
    expect(seen[0]!.context.task).toBe('Temperature in Rome?')
    expect(seen[1]!.context.steps).toHaveLength(1)
    const firstObservation = lastMessage(model.calls[1]!.messages).content
    expect(firstObservation).toBe(
      'Observation:\nLogs:\nchecking\nYour final answer was not accepted: the answer must be a number, not text.\nKeep working, then call finalAnswer again with a corrected answer.',
    )
    expect(lastMessage(model.calls[2]!.messages).content).toContain(
      'Your final answer was not accepted: it did not pass the checks of this agent.',
    )
  })

  it('asks for a best answer from memory when steps run out', async () => {
    const model = new ScriptedModel([
      reply('Look.', "const w = await get_weather({ city: 'Lima' })\nconsole.log(w.tempC)"),
      reply('Look again.', 'console.log(w.city)'),
      'It is 18 °C in Lima.',
    ])
    const { agent, sessions } = agentWith(model, { maxSteps: 5 })

    const result = await agent.run('Weather in Lima?', { maxSteps: 2 })

    expect(result.state).toBe('max_steps')
    expect(result.output).toBe('It is 18 °C in Lima.')
    expect(result.steps.map((step) => step.kind)).toEqual(['action', 'action', 'final'])
    expect(result.steps[2]).toMatchObject({ kind: 'final', step: 3, output: 'It is 18 °C in Lima.' })
    const finalCall = model.calls[2]!
    expect(finalCall.options.stop).toBeUndefined()
    // The request joins the last observation, so roles keep alternating.
    expect(finalCall.messages.map((message) => message.role)).toEqual([
      'system',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ])
    expect(lastMessage(finalCall.messages).content).toBe(`Observation:\nLogs:\nLima\n\n${BEST_ANSWER_PROMPT}`)
    expect(sessions[0]!.disposed).toBe(true)
  })

  it('plans before the first step and every planningInterval steps', async () => {
    const model = new ScriptedModel([
      '1. Get the weather.\n2. Answer.',
      reply('Step one.', "const w = await get_weather({ city: 'Oslo' })"),
      reply('Step two.', 'console.log(w.tempC)'),
      'Updated: 1. Answer with 4.',
      reply('Done.', 'finalAnswer(w.tempC)'),
    ])
    const { agent } = agentWith(model, { planningInterval: 2, maxSteps: 3 })
    const events = await collect(agent.stream('Weather in Oslo?'))
    const result = (events.at(-1) as Extract<AgentEvent, { type: 'done' }>).result

    expect(result).toMatchObject({ state: 'success', output: 4 })
    expect(result.steps.map((step) => step.kind)).toEqual([
      'planning',
      'action',
      'action',
      'planning',
      'action',
    ])
    expect(result.steps[0]).toMatchObject({
      kind: 'planning',
      modelOutput: '1. Get the weather.\n2. Answer.',
    })
    expect(events).toContainEqual({ type: 'planning', step: 4, text: 'Updated: 1. Answer with 4.' })

    expect(model.calls[0]!.options.stop).toBeUndefined()
    expect(lastMessage(model.calls[0]!.messages).content).toMatch(
      /^Task:\nWeather in Oslo\?\n\nBefore writing any code, make a plan/,
    )
    expect(lastMessage(model.calls[0]!.messages).content).toContain('You have 3 code steps in total.')
    expect(lastMessage(model.calls[3]!.messages).content).toContain('Pause and update your plan.')
    expect(lastMessage(model.calls[3]!.messages).content).toContain('You have 1 code steps left.')
    // The plan stays in memory, followed by the request to act on it.
    expect(model.calls[1]!.messages.slice(1).map((message) => message.content)).toEqual([
      'Task:\nWeather in Oslo?',
      '1. Get the weather.\n2. Answer.',
      CONTINUE_AFTER_PLAN,
    ])
    expect(model.calls[4]!.messages.slice(-2).map((message) => message.content)).toEqual([
      'Updated: 1. Answer with 4.',
      CONTINUE_AFTER_PLAN,
    ])
  })

  it('sums usage over every model call, planning included', async () => {
    const model = new ScriptedModel(
      ['Plan: answer.', reply('Go.', 'console.log(1)'), reply('Done.', 'finalAnswer(1)')],
      { estimateUsage: true },
    )
    const { agent } = agentWith(model, { planningInterval: 5 })
    const result = await agent.run('One?')

    const perStep = result.steps.reduce((sum, step) => addUsage(sum, step.usage), ZERO_USAGE)
    expect(result.usage).toEqual(perStep)
    const expectedInput = model.calls.reduce(
      (sum, call) =>
        sum + Math.ceil(call.messages.reduce((chars, message) => chars + message.content.length, 0) / 4),
      0,
    )
    expect(result.usage.inputTokens).toBe(expectedInput)
    expect(result.usage.outputTokens).toBeGreaterThan(0)
    expect(result.steps.every((step) => step.usage.inputTokens > 0)).toBe(true)
  })

  it('streams typed events in order', async () => {
    const model = new ScriptedModel(
      [reply('Print.', "console.log('a')\nconsole.log('b')"), reply('Finish.', "finalAnswer('ok')")],
      { streaming: true },
    )
    const { agent } = agentWith(model)
    const events = await collect(agent.stream('Say ok.'))

    const types = events
      .map((event) => event.type)
      .filter((type, index, all) => type !== 'model_delta' || all[index - 1] !== 'model_delta')
    expect(types).toEqual([
      'step_start',
      'model_delta',
      'model_output',
      'code',
      'log',
      'log',
      'outcome',
      'observation',
      'step_end',
      'step_start',
      'model_delta',
      'model_output',
      'code',
      'outcome',
      'observation',
      'final_answer',
      'step_end',
      'done',
    ])
    const deltas = events.filter((event) => event.type === 'model_delta' && event.step === 1)
    expect(deltas.length).toBeGreaterThan(3)
    expect(deltas.map((event) => (event as { text: string }).text).join('')).toBe(
      reply('Print.', "console.log('a')\nconsole.log('b')").replace('<end_code>', ''),
    )
    expect(
      events.filter((event) => event.type === 'log').map((event) => (event as { line: string }).line.trim()),
    ).toEqual(['a', 'b'])
    expect(events).toContainEqual({ type: 'code', step: 2, code: "finalAnswer('ok')", language: 'ts' })
    expect(events).toContainEqual({ type: 'final_answer', step: 2, output: 'ok' })
    expect(events.find((event) => event.type === 'outcome')).toMatchObject({
      step: 1,
      outcome: { type: 'value', value: undefined, logs: 'a\nb\n' },
    })
    const stepEnd = events.find((event) => event.type === 'step_end')!
    expect(stepEnd).toMatchObject({ step: 1, kind: 'action', usage: ZERO_USAGE })
    if (stepEnd.type !== 'step_end') throw new Error()
    expect(stepEnd.durationMs).toBeGreaterThanOrEqual(stepEnd.modelMs)
    expect(stepEnd.executionMs).toBeGreaterThanOrEqual(0)
  })

  it('calls onStepEnd callbacks after every step, in order', async () => {
    const seen: string[] = []
    const model = new ScriptedModel(['Plan.', reply('Go.', 'finalAnswer(1)')])
    const { agent } = agentWith(model, {
      planningInterval: 3,
      onStepEnd: [
        (step, { steps, task }) => {
          seen.push(`first ${step.step} ${step.kind} ${steps.length} ${task}`)
        },
        async (step) => {
          seen.push(`second ${step.step}`)
        },
      ],
    })
    await agent.run('T')
    expect(seen).toEqual(['first 1 planning 1 T', 'second 1', 'first 2 action 2 T', 'second 2'])
  })

  it('defines variables in the sandbox and describes them in the task', async () => {
    const model = new ScriptedModel([reply('Use them.', 'finalAnswer(numbers.length + offset)')])
    const { agent, sessions } = agentWith(model, { variables: { offset: 10, numbers: [0] } })
    const result = await agent.run('Count.', { variables: { numbers: [1, 2, 3] } })
    expect(result.output).toBe(13)
    expect(sessions[0]!.options.variables).toEqual({ offset: 10, numbers: [1, 2, 3] })
    expect(model.calls[0]!.messages[1]!.content).toBe(
      'Task:\nCount.\n\nThese variables are already defined in the sandbox:\n- offset: a number (10)\n- numbers: an array of 3 items',
    )
  })
})

describe('CodeAgent failures and cancellation', () => {
  it('ends with state error and an AgentModelError when the model fails', async () => {
    const cause = new Error('503 Service Unavailable')
    const model = new ScriptedModel((_messages, callIndex) => {
      if (callIndex === 1) throw cause
      return reply('Look.', 'console.log(1)')
    })
    const { agent, sessions } = agentWith(model)
    const events = await collect(agent.stream('Anything.'))
    const result = (events.at(-1) as Extract<AgentEvent, { type: 'done' }>).result

    expect(result.state).toBe('error')
    expect(result.output).toBeUndefined()
    expect(AgentModelError.isInstance(result.error)).toBe(true)
    expect(result.error!.cause).toBe(cause)
    expect(result.error!.message).toBe('The model scripted failed at step 2: Error: 503 Service Unavailable')
    expect(result.steps.map((step) => [step.kind, step.error?.kind])).toEqual([
      ['action', undefined],
      ['action', 'model'],
    ])
    expect(events.map((event) => event.type).slice(-3)).toEqual(['error', 'step_end', 'done'])
    expect(sessions[0]!.disposed).toBe(true)
  })

  it('ends with state error and an AgentExecutorError when no session can be created', async () => {
    const inner = createTestExecutor()
    const executor: Executor = {
      specificationVersion: 'executor-v1',
      kind: 'broken',
      capabilities: inner.capabilities,
      createSession: async () => {
        throw new Error('quota exceeded')
      },
    }
    const model = new ScriptedModel([])
    const result = await new CodeAgent({ model, executor }).run('Anything.')
    expect(result.state).toBe('error')
    expect(AgentExecutorError.isInstance(result.error)).toBe(true)
    expect(result.error!.message).toBe(
      'The broken executor could not create a session: Error: quota exceeded',
    )
    expect(result.steps).toEqual([])
    expect(model.calls).toHaveLength(0)
  })

  it('ends with state error when a session run rejects instead of returning an outcome', async () => {
    const { executor, sessions } = observedExecutor()
    const broken: Executor = {
      ...executor,
      createSession: async (options) => {
        const session = await executor.createSession(options)
        return { ...session, run: async () => Promise.reject(new Error('channel closed')) }
      },
    }
    const model = new ScriptedModel([reply('Go.', 'console.log(1)')])
    const result = await new CodeAgent({ model, executor: broken }).run('Anything.')
    expect(result.state).toBe('error')
    expect(AgentExecutorError.isInstance(result.error)).toBe(true)
    expect(result.steps[0]).toMatchObject({
      kind: 'action',
      code: 'console.log(1)',
      error: { kind: 'executor' },
    })
    expect(sessions[0]!.disposed).toBe(true)
  })

  it('stops when aborted while the code runs: rejects with the reason and frees the session', async () => {
    const controller = new AbortController()
    const reason = new Error('user pressed stop')
    let toolSignal: AbortSignal | undefined
    const stopper = defineTool({
      name: 'wait_forever',
      description: 'Never returns on its own.',
      parameters: z.object({}),
      execute: (_args, { signal }) => {
        toolSignal = signal
        controller.abort(reason)
        return new Promise(() => {})
      },
    })
    const model = new ScriptedModel([
      reply('Wait.', 'await wait_forever({})'),
      reply('Never.', 'finalAnswer(1)'),
    ])
    const { agent, sessions } = agentWith(model, { tools: [stopper] })

    await expect(agent.run('Wait.', { signal: controller.signal })).rejects.toBe(reason)
    expect(model.calls).toHaveLength(1)
    expect(model.calls[0]!.options.signal).toBe(controller.signal)
    expect(sessions[0]!.disposed).toBe(true)
    expect(toolSignal?.aborted).toBe(true)
  })

  it('stops promptly when aborted during a model call that ignores the signal', async () => {
    const controller = new AbortController()
    const reason = new Error('timeout')
    const model = new ScriptedModel((_messages, callIndex) => {
      if (callIndex === 0) return reply('Go.', 'console.log(1)')
      setTimeout(() => controller.abort(reason), 5)
      return new Promise<string>(() => {})
    })
    const { agent, sessions } = agentWith(model)
    const events: AgentEvent[] = []
    const consume = async () => {
      for await (const event of agent.stream('Anything.', { signal: controller.signal })) events.push(event)
    }
    await expect(consume()).rejects.toBe(reason)
    expect(events.some((event) => event.type === 'done')).toBe(false)
    expect(agent.memory).toHaveLength(1)
    expect(sessions[0]!.disposed).toBe(true)
  })

  it('rejects at once when the signal is already aborted, creating no session', async () => {
    const model = new ScriptedModel([])
    const { agent, sessions } = agentWith(model)
    await expect(agent.run('Anything.', { signal: AbortSignal.abort(new Error('early')) })).rejects.toThrow(
      'early',
    )
    expect(sessions).toHaveLength(0)
  })

  it('frees the session when the consumer stops reading the stream', async () => {
    const model = new ScriptedModel([reply('Go.', 'console.log(1)'), reply('Go.', 'finalAnswer(1)')])
    const { agent, sessions } = agentWith(model)
    for await (const event of agent.stream('Anything.')) {
      if (event.type === 'observation') break
    }
    expect(sessions[0]!.disposed).toBe(true)
    expect(model.calls).toHaveLength(1)
  })

  it('rejects when a finalAnswer check throws, after freeing the session', async () => {
    const model = new ScriptedModel([reply('Go.', 'finalAnswer(1)')])
    const { agent, sessions } = agentWith(model, {
      finalAnswerChecks: [
        () => {
          throw new Error('check bug')
        },
      ],
    })
    await expect(agent.run('Anything.')).rejects.toThrow('check bug')
    expect(sessions[0]!.disposed).toBe(true)
  })
})

describe('managed agents', () => {
  it('lets a parent agent call a named agent as a tool with its own session', async () => {
    const subModel = new ScriptedModel([
      reply(
        'Look it up.',
        "const w = await get_weather({ city: 'Lima' })\nfinalAnswer({ city: w.city, tempC: w.tempC })",
      ),
    ])
    const { executor, sessions } = observedExecutor()
    const researcher = new CodeAgent({
      name: 'weather_researcher',
      description: 'Finds current weather facts.',
      model: subModel,
      executor,
      tools: [weatherTool()],
    })
    const parentModel = new ScriptedModel([
      reply(
        'Delegate.',
        "const found = await weather_researcher({ task: 'Temperature in Lima?', additional_context: 'Use °C.' })\nconsole.log(found)",
      ),
      reply('Answer.', 'finalAnswer(`${found.city}: ${found.tempC} °C`)'),
    ])
    const lead = new CodeAgent({ model: parentModel, executor, managedAgents: [researcher] })

    expect(lead.tools.map((tool) => tool.name)).toEqual(['weather_researcher'])
    expect(lead.systemPrompt).toContain('declare function weather_researcher(args: {')
    expect(lead.systemPrompt).toContain('Finds current weather facts.')

    const result = await lead.run('How warm is it in Lima?')

    expect(result).toMatchObject({ state: 'success', output: 'Lima: 18 °C' })
    expect(subModel.calls[0]!.messages[1]!.content).toBe(
      'Task:\nTemperature in Lima?\n\nAdditional context:\nUse °C.',
    )
    expect(researcher.memory).toHaveLength(1)
    expect(sessions).toHaveLength(2)
    expect(sessions.every((session) => session.disposed)).toBe(true)
  })

  it('fails the tool call when the managed agent errors', async () => {
    const { executor } = observedExecutor()
    const helper = new CodeAgent({
      name: 'helper',
      description: 'Helps.',
      model: new ScriptedModel(() => {
        throw new Error('model down')
      }),
      executor,
    })
    const parentModel = new ScriptedModel([
      reply('Delegate.', "await helper({ task: 'x' })"),
      reply('Give up.', "finalAnswer('no help')"),
    ])
    const result = await new CodeAgent({ model: parentModel, executor, managedAgents: [helper] }).run('T')
    expect(result.output).toBe('no help')
    expect(result.steps[0]).toMatchObject({ error: { kind: 'tool' } })
    expect((result.steps[0] as { observation: string }).observation).toContain('model down')
  })
})

describe('replay', () => {
  it('prints a deterministic transcript of the last run', async () => {
    const model = new ScriptedModel(
      [
        'Plan: look, then answer.',
        reply('Look.', "const w = await get_weather({ city: 'Oslo' })\nconsole.log(w.tempC)"),
        'No code this time.',
        reply('Answer.', "console.log('done')\nfinalAnswer({ tempC: w.tempC })"),
      ],
      { estimateUsage: true },
    )
    const { agent } = agentWith(model, { planningInterval: 10 })
    expect(agent.replay()).toBe('No run yet.\n')
    await agent.run('Weather in Oslo?')
    const transcript = agent.replay()
    expect(transcript).toBe(agent.replay())
    // Token counts follow the system prompt's length, which is not what this test is about.
    expect(
      transcript.replaceAll(/[\d,]+ input tokens, [\d,]+ output tokens/g, 'N input tokens, N output tokens'),
    ).toMatchInlineSnapshot(`
        "Task: Weather in Oslo?

        === Step 1: planning (N input tokens, N output tokens) ===
        Plan: look, then answer.

        === Step 2: action (N input tokens, N output tokens) ===
        Thought: Look.
        \`\`\`ts
        const w = await get_weather({ city: 'Oslo' })
        console.log(w.tempC)
        \`\`\`
        --- Observation ---
        Logs:
        4

        === Step 3: action (N input tokens, N output tokens) ===
        No code this time.
        --- Observation ---
        Your reply had no code block, so nothing ran. Reply with a Thought, then one code block fenced as \`\`\`ts and followed by <end_code>. If you have the answer, call finalAnswer(value) in that code.

        === Step 4: action (N input tokens, N output tokens) ===
        Thought: Answer.
        \`\`\`ts
        console.log('done')
        finalAnswer({ tempC: w.tempC })
        \`\`\`
        --- Logs ---
        done
        --- Final answer ---
        { tempC: 4 }

        === Result: success ===
        { tempC: 4 }
        Usage: N input tokens, N output tokens over 4 steps
        "
      `)
  })
})

describe('CodeAgent options', () => {
  const model = new ScriptedModel([])
  const executor = createTestExecutor()

  it.each<[string, Partial<CodeAgentOptions>, RegExp]>([
    ['maxSteps', { maxSteps: 0 }, /maxSteps must be a positive integer, got 0/],
    ['planningInterval', { planningInterval: 1.5 }, /planningInterval must be a positive integer/],
    ['maxObservationChars', { maxObservationChars: -1 }, /maxObservationChars must be a positive integer/],
    ['model', { model: undefined as never }, /needs a model/],
    ['executor', { executor: {} as never }, /needs an executor/],
    ['name', { name: 'my agent' }, /Agent name "my agent" is not a valid JavaScript identifier/],
    ['limits', { limits: { timeoutMs: -5 } }, /Limit timeoutMs must be a positive integer/],
    [
      'finalAnswerChecks',
      { finalAnswerChecks: ['no' as never] },
      /finalAnswerChecks must be an array of functions/,
    ],
    ['variables', { variables: { 'bad name': 1 } }, /Variable name "bad name"/],
    ['variable shadowing a tool', { variables: { get_weather: 1 } }, /has the name of a tool/],
  ])('refuses a bad %s', (_name, options, message) => {
    const build = () => new CodeAgent({ model, executor, tools: [weatherTool()], ...options })
    expect(build).toThrow(InvalidDefinitionError)
    expect(build).toThrow(message)
  })

  it('refuses an executor of another contract version', () => {
    const build = () =>
      new CodeAgent({ model, executor: { ...executor, specificationVersion: 'executor-v0' as never } })
    expect(build).toThrow(/expects "executor-v1"/)
  })

  it('refuses duplicate tool names, managed agents included', () => {
    expect(() => new CodeAgent({ model, executor, tools: [weatherTool(), weatherTool()] })).toThrow(
      /Two tools are named "get_weather"/,
    )
    const sub = new CodeAgent({ model, executor, name: 'get_weather', description: 'Clashes.' })
    expect(() => new CodeAgent({ model, executor, tools: [weatherTool()], managedAgents: [sub] })).toThrow(
      /Two tools are named "get_weather"/,
    )
  })

  it('refuses a managed agent without a name or description', () => {
    const anonymous = new CodeAgent({ model, executor })
    expect(() => new CodeAgent({ model, executor, managedAgents: [anonymous] })).toThrow(
      /managedAgents\[0\] needs a name and a description/,
    )
    expect(() => anonymous.asTool()).toThrow(InvalidDefinitionError)
  })

  it('refuses a bad task or maxSteps at run time', async () => {
    const agent = new CodeAgent({ model, executor })
    await expect(agent.run('  ')).rejects.toThrow(/task must be a non-empty string/)
    await expect(agent.run('T', { maxSteps: 0 })).rejects.toThrow(/maxSteps must be a positive integer/)
  })
})
