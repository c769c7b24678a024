import { randomUUID } from 'node:crypto'
import { types } from 'node:util'
import { type Data, toData } from './data.js'
import { DataBoundaryError, ToolInputError } from './errors.js'
import type { RunError, ToolCallRecord } from './executor.js'
import type { Limits } from './limits.js'
import type { Tool, ToolContext } from './tool.js'

export interface ToolCallerOptions {
  /** The session's tools, called by name. */
  readonly tools: readonly Tool[]
  /** Passed to tools as `ToolContext.sessionId`. */
  readonly sessionId: string
  readonly limits: Pick<Limits, 'maxToolCalls' | 'maxValueBytes'>
  /** The run's signal: passed to tools as `ToolContext.signal`; calls made after it aborted do not run. */
  readonly signal: AbortSignal
  /**
   * Prototypes that mark plain objects in the arguments besides the host's `Object.prototype`:
   * an executor whose sandbox shares the host process passes its realm's `Object.prototype`.
   */
  readonly plainObjectPrototypes?: readonly object[]
}

/** How one tool call ended: the result as host-owned data, or an error the sandbox code sees. */
export type ToolCallOutcome =
  | { readonly ok: true; readonly value: Data }
  | { readonly ok: false; readonly error: RunError }

/** The bridge an executor calls when sandbox code calls a tool. One per run. */
export interface ToolCaller {
  /**
   * Copies `args` with `toData`, validates them against the tool's schema (`ToolInputError`
   * naming the tool, field path and expected type), runs the tool with a `ToolContext` (the run's
   * signal, the session id, a unique call id), and copies its result with `toData` (within
   * `maxValueBytes`). Never rejects: every failure is an outcome with a `RunError` of kind
   * `tool`, `limit` (`maxToolCalls`) or `aborted`.
   */
  call(name: string, args: unknown): Promise<ToolCallOutcome>
  /**
   * `call` with arguments already copied by `copyToolArguments`, e.g. in the thread that runs the
   * sandbox: a copy that failed is counted and recorded as the call it stands for.
   */
  callCopied(name: string, copy: ToolArgumentsCopy): Promise<ToolCallOutcome>
  /** Finished calls, in completion order (calls refused by `maxToolCalls` are not recorded). */
  readonly records: readonly ToolCallRecord[]
  /**
   * Set once a limit was hit (more than `maxToolCalls` calls); the executor must end the run with
   * it even if sandbox code caught the error its call was refused with.
   */
  readonly limitError: RunError | undefined
}

/**
 * Creates the tool-call bridge for one run.
 *
 * @example
 * const caller = createToolCaller({ tools, sessionId, limits, signal })
 * const outcome = await caller.call('get_weather', { city: 'Oslo' })
 * if (!outcome.ok) throw toSandboxError(outcome.error)
 */
export function createToolCaller(options: ToolCallerOptions): ToolCaller {
  const { sessionId, limits, signal, plainObjectPrototypes = [] } = options
  // A Map, not an object: a name like "constructor" or "__proto__" must not find anything.
  const tools = new Map(options.tools.map((tool) => [tool.name, tool]))
  const records: ToolCallRecord[] = []
  let calls = 0
  let limitError: RunError | undefined

  const run = async (name: string, copy: ToolArgumentsCopy): Promise<ToolCallOutcome> => {
    const tool = tools.get(name)
    if (tool === undefined) {
      const available = [...tools.keys()]
      return failure({
        kind: 'tool',
        name: 'ToolError',
        tool: name,
        message:
          available.length === 0
            ? `There is no tool named ${name}: no tools are available in this session.`
            : `There is no tool named ${name}. Available tools: ${available.join(', ')}.`,
      })
    }

    if (!copy.ok) return copy

    const validation = await tool.parameters.validate(copy.value, 'args')
    if (!validation.ok) {
      const error = new ToolInputError(name, validation.issues)
      return failure({ kind: 'tool', name: error.name, tool: name, message: error.message })
    }

    const context: ToolContext = { signal, sessionId, toolCallId: `call_${randomUUID()}` }
    let result: unknown
    try {
      result = await tool.execute(validation.value, context)
    } catch (error) {
      return failure({ kind: 'tool', tool: name, ...describeThrown(name, error) })
    }

    try {
      return { ok: true, value: toData(result, { maxBytes: limits.maxValueBytes, rootName: 'result' }) }
    } catch (error) {
      if (!DataBoundaryError.isInstance(error)) throw error
      return failure({
        kind: 'tool',
        name: 'DataBoundaryError',
        tool: name,
        message: `Tool ${name} returned a non-data value (a bug in the tool, not in your code): ${error.message}.`,
      })
    }
  }

  const callCopied = async (name: string, copy: ToolArgumentsCopy): Promise<ToolCallOutcome> => {
    if (signal.aborted) {
      return failure({
        kind: 'aborted',
        name: 'AbortError',
        tool: name,
        message: `Tool ${name} was not called: the run was already aborted.`,
      })
    }
    calls++
    if (calls > limits.maxToolCalls) {
      limitError ??= {
        kind: 'limit',
        name: 'LimitError',
        limit: 'maxToolCalls',
        message: `The run made more than ${limits.maxToolCalls} tool calls (limit maxToolCalls). Make fewer calls per step: batch work into fewer calls, or continue in the next step.`,
      }
      return failure(limitError)
    }
    const started = performance.now()
    let outcome: ToolCallOutcome
    try {
      outcome = await run(name, copy)
    } catch (error) {
      // Only a failing schema validator gets here: still an outcome, never a rejection.
      outcome = failure({ kind: 'tool', tool: name, ...describeThrown(name, error) })
    }
    records.push({ tool: name, ok: outcome.ok, durationMs: performance.now() - started })
    return outcome
  }

  return {
    get records() {
      return records
    },
    get limitError() {
      return limitError
    },
    call: (name, args) =>
      callCopied(name, copyToolArguments(name, args, { ...limits, plainObjectPrototypes })),
    callCopied,
  }
}

/** Tool arguments copied out of the sandbox, or the error a call with them ends with. */
export type ToolArgumentsCopy =
  | { readonly ok: true; readonly value: Data }
  | { readonly ok: false; readonly error: RunError }

/**
 * Copies a tool call's arguments with `toData` (within `maxValueBytes`), as `ToolCaller.call`
 * does. Never throws: arguments that are not data make a failed copy naming the tool.
 */
export function copyToolArguments(
  name: string,
  args: unknown,
  options: { readonly maxValueBytes: number; readonly plainObjectPrototypes?: readonly object[] },
): ToolArgumentsCopy {
  try {
    // `name()` means no arguments: declarations promise that a tool with nothing required takes it.
    const value = toData(args === undefined ? {} : args, {
      maxBytes: options.maxValueBytes,
      plainObjectPrototypes: options.plainObjectPrototypes ?? [],
      rootName: 'args',
    })
    return { ok: true, value }
  } catch (error) {
    // Anything else is a broken toData: still an outcome, never a rejection.
    if (!DataBoundaryError.isInstance(error))
      return failure({ kind: 'tool', tool: name, ...describeThrown(name, error) })
    return failure({
      kind: 'tool',
      name: 'DataBoundaryError',
      tool: name,
      message: `Tool ${name} was called with arguments that cannot be passed to it: ${error.message}.`,
    })
  }
}

function failure(error: RunError): { readonly ok: false; readonly error: RunError } {
  return { ok: false, error }
}

/** The name and message of anything a tool threw, without its stack (which shows host paths). */
function describeThrown(tool: string, error: unknown): { name: string; message: string } {
  // isNativeError also recognizes errors made in another realm (a vm context, a worker's copy).
  if (error instanceof Error || types.isNativeError(error)) {
    const message = safeString(error.message, '')
    return {
      name: safeString(error.name, 'Error'),
      message: message === '' ? `Tool ${tool} failed without a message.` : message,
    }
  }
  return {
    name: 'ToolError',
    message: `Tool ${tool} failed: ${safeString(error, 'it threw a value that is not an Error')}`,
  }
}

function safeString(value: unknown, fallback: string): string {
  try {
    return typeof value === 'string' ? value : String(value)
  } catch {
    return fallback
  }
}
