import { CODE_STOP_SEQUENCES, CodeAgent, type Executor } from '@airlock/core'
import { expect, it } from 'vitest'
import { replyChunks, sse, useOpenAIServer } from './openai-server.js'

const server = useOpenAIServer()

/**
 * A test double, not an executor: it runs nothing and answers every code action as if the code
 * had called `finalAnswer(3)`, which is all this test needs to see the model inside the loop.
 */
function answeringExecutor(received: string[]): Executor {
  return {
    specificationVersion: 'executor-v1',
    kind: 'test-double',
    capabilities: {
      stateful: false,
      hardKill: false,
      memoryLimit: false,
      operationLimit: false,
      network: false,
      toolsRunOn: 'host',
    },
    async createSession() {
      return {
        id: 'session-1',
        async run(code) {
          received.push(code)
          return { type: 'final', answer: 3, logs: '', stats: { durationMs: 0, toolCalls: [] } }
        },
        async dispose() {},
        async [Symbol.asyncDispose]() {},
      }
    },
  }
}

it('drives a CodeAgent: streamed deltas, the code stop sequences, usage', async () => {
  server.script(
    sse(
      replyChunks(
        ['Thought: add.\n', '```ts\nfinalAnswer(1 + 2)\n```\n', '<end_code>', '\nObservation: invented'],
        [120, 30],
      ),
    ),
  )
  const received: string[] = []
  const model = server.model()
  const agent = new CodeAgent({ model, executor: answeringExecutor(received), maxSteps: 2 })

  const deltas: string[] = []
  let result
  for await (const event of agent.stream('What is 1 + 2?')) {
    if (event.type === 'model_delta') deltas.push(event.text)
    if (event.type === 'done') result = event.result
  }

  expect(result).toMatchObject({ state: 'success', output: 3, usage: { inputTokens: 120, outputTokens: 30 } })
  expect(received).toEqual(['finalAnswer(1 + 2)'])
  expect(deltas.join('')).toBe('Thought: add.\n```ts\nfinalAnswer(1 + 2)\n```\n')
  expect(server.requests).toHaveLength(1)
  expect(server.requests[0]!.body).toMatchObject({ stream: true, stop: [...CODE_STOP_SEQUENCES] })
})
