// Entry of a session's worker thread (`thread: 'worker'`): runs one LocalSession; its tools stay
// in the main thread and are called through messages.
import { parentPort } from 'node:worker_threads'
import {
  copyToolArguments,
  type RunError,
  type RunOutcome,
  type ToolCaller,
  type ToolCallOutcome,
} from '@airlock/core'
import { Interpreter } from './interpreter.js'
import { LocalSession } from './session.js'
import { warmUp } from './warm-up.js'
import type { MainMessage, WorkerMessage, WorkerSetup } from './worker-protocol.js'

/** The run the main thread is waiting for. */
interface WorkerRun {
  readonly runId: number
  readonly controller: AbortController
  /** Tool calls waiting for their outcome, by call id. */
  readonly calls: Map<number, (outcome: ToolCallOutcome) => void>
}

/**
 * Started by `WorkerPool` ahead of any session: loads the interpreter, builds and warms up the
 * session's realm (as the main thread's spare is), says `booted`, and builds its session when the
 * `open` message comes.
 */
export function serveSession(): void {
  const port = parentPort!
  const interpreter = new Interpreter()
  warmUp(interpreter)
  port.once('message', (message: MainMessage) => {
    if (message.type === 'open') openSession(message.setup, interpreter)
  })
  port.postMessage({ type: 'booted' } satisfies WorkerMessage)
}

function openSession(setup: WorkerSetup, interpreter: Interpreter): void {
  const port = parentPort!
  const send = (message: WorkerMessage) => port.postMessage(message)
  let current: WorkerRun | undefined
  let callIds = 0

  // The session makes no call once its run ended: every call here belongs to `run`.
  const remoteToolCaller = (
    run: WorkerRun,
    maxValueBytes: number,
    plainObjectPrototypes: readonly object[] | undefined,
  ): ToolCaller => {
    let limitError: RunError | undefined
    const callCopied: ToolCaller['callCopied'] = (name, copy) =>
      new Promise((resolve) => {
        const callId = ++callIds
        run.calls.set(callId, (outcome) => {
          // The main thread's caller refuses every call past maxToolCalls with its limit error.
          if (!outcome.ok && outcome.error.kind === 'limit') limitError ??= outcome.error
          resolve(outcome)
        })
        send({ type: 'tool', runId: run.runId, callId, name, copy })
      })
    return {
      // Records are kept by the main thread's caller, which ran the tools.
      records: [],
      get limitError() {
        return limitError
      },
      call: (name, args) =>
        callCopied(name, copyToolArguments(name, args, { maxValueBytes, plainObjectPrototypes })),
      callCopied,
    }
  }

  let session: LocalSession
  try {
    session = new LocalSession(
      {
        sessionId: setup.sessionId,
        limits: setup.limits,
        allowedModules: setup.allowedModules,
        variables: setup.variables,
      },
      {
        moduleDirectory: setup.moduleDirectory,
        toolNames: setup.toolNames,
        abortFlag: setup.abortFlag,
        toolCaller: ({ limits, plainObjectPrototypes }) =>
          remoteToolCaller(current!, limits.maxValueBytes, plainObjectPrototypes),
      },
      interpreter,
    )
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) }
    send({ type: 'open-failed', name, message })
    return
  }

  port.on('message', (message: MainMessage) => {
    switch (message.type) {
      case 'run': {
        const run: WorkerRun = { runId: message.runId, controller: new AbortController(), calls: new Map() }
        current = run
        const onLog = (line: string) => send({ type: 'log', runId: run.runId, line })
        void session
          .run(message.code, { signal: run.controller.signal, onLog })
          .catch((error: unknown): RunOutcome => ({
            type: 'error',
            error: { kind: 'internal', name: 'Error', message: `The interpreter failed: ${String(error)}` },
            logs: '',
            stats: { durationMs: 0, toolCalls: [] },
          }))
          .then((outcome) => {
            if (current === run) current = undefined
            send({ type: 'done', runId: run.runId, outcome })
          })
        return
      }
      case 'open':
        return
      case 'abort':
        if (current?.runId === message.runId) current.controller.abort()
        return
      case 'tool-result': {
        const resolve = current?.runId === message.runId ? current.calls.get(message.callId) : undefined
        current?.calls.delete(message.callId)
        resolve?.(message.outcome)
        return
      }
    }
  })
  send({ type: 'ready' })
}
