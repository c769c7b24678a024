import { abortable } from './abortable.js'
import type { Data } from './data.js'
import type { Executor, ExecutorSession, RunError, RunOutcome } from './executor.js'
import type { Limits } from './limits.js'
import type { ChatMessage, GenerateOptions, Model, ModelOutput, Usage } from './model.js'
import type { Tool } from './tool.js'
import {
  type CodeLanguage,
  CODE_STOP_SEQUENCES,
  END_CODE,
  type ExtractedCode,
  cutAtStopSequence,
  extractCode,
} from './code-extraction.js'
import { AgentExecutorError, AgentModelError, InvalidDefinitionError } from './errors.js'
import { resolveLimits } from './limits.js'
import { ZERO_USAGE, addUsage } from './model.js'
import { formatObservation, groupDigits, renderAnswer, truncateText } from './observation.js'
import {
  BEST_ANSWER_PROMPT,
  CONTINUE_AFTER_PLAN,
  MISSING_CODE_OBSERVATION,
  buildSystemPrompt,
  buildTaskMessage,
  initialPlanPrompt,
  rejectedAnswerObservation,
  updatePlanPrompt,
} from './prompt.js'
import { jsonSchema } from './schema.js'
import { assertToolName, assertUniqueToolNames, defineTool } from './tool.js'

/**
 * Why a step did not move the task forward: the code failed (a `RunError`), the reply had no
 * code block (`format`), a final answer was refused by a check (`check`), or the model or executor
 * failed (`model`, `executor`; these end the run with `state: 'error'`).
 */
export type StepError =
  | RunError
  | { readonly kind: 'format'; readonly message: string }
  | { readonly kind: 'check'; readonly message: string }
  | { readonly kind: 'model'; readonly message: string; readonly error: AgentModelError }
  | { readonly kind: 'executor'; readonly message: string; readonly error: AgentExecutorError }

interface StepBase {
  /** 1-based position in the run's memory. Planning and final steps are numbered too. */
  readonly step: number
  /** How many messages the model call received. */
  readonly inputMessages: number
  /** The model's reply, cut before any stop sequence; what it streamed so far when the call failed. */
  readonly modelOutput: string
  readonly usage: Usage
  /** Wall-clock time of the whole step; under `stream`, including time the consumer holds each event. */
  readonly durationMs: number
  /** Time spent in the model call. */
  readonly modelMs: number
  readonly error?: StepError
}

/** A step that asked the model for code and ran it. */
export interface ActionStep extends StepBase {
  readonly kind: 'action'
  readonly code?: string
  readonly language?: CodeLanguage
  readonly outcome?: RunOutcome
  /** What the model reads next; for an accepted final answer, the answer itself. */
  readonly observation: string
  /** Time spent in the executor. */
  readonly executionMs: number
}

/** A step that asked the model for a plan; the plan is `modelOutput`. */
export interface PlanningStep extends StepBase {
  readonly kind: 'planning'
}

/** The last call after `maxSteps` ran out, answering in plain text from memory. */
export interface FinalStep extends StepBase {
  readonly kind: 'final'
  readonly output: Data
}

export type AgentStep = ActionStep | PlanningStep | FinalStep

/** How a run ended, with everything it did. */
export interface RunResult {
  /** The final answer: from `finalAnswer(...)`, or the plain-text best answer after `max_steps`. */
  readonly output: Data
  /**
   * `success`: the code called `finalAnswer` and every check accepted it. `max_steps`: steps ran
   * out and `output` is the model's best answer from memory. `error`: the model or executor
   * failed; `error` says how and `output` is `undefined`.
   */
  readonly state: 'success' | 'max_steps' | 'error'
  readonly steps: readonly AgentStep[]
  /** Summed over every model call of the run, planning and the final call included. */
  readonly usage: Usage
  readonly durationMs: number
  readonly error?: AgentModelError | AgentExecutorError
}

/**
 * What `CodeAgent.stream` yields. Every step is framed by `step_start` and `step_end`; the run
 * ends with exactly one `done`, unless it throws (abort, or an error thrown by a callback).
 */
export type AgentEvent =
  | { readonly type: 'step_start'; readonly step: number; readonly kind: AgentStep['kind'] }
  /** Text as it arrives, for models with `stream`. */
  | { readonly type: 'model_delta'; readonly step: number; readonly text: string }
  | { readonly type: 'model_output'; readonly step: number; readonly text: string; readonly usage: Usage }
  | { readonly type: 'code'; readonly step: number; readonly code: string; readonly language: CodeLanguage }
  /** A console line of the running code, as it is printed. */
  | { readonly type: 'log'; readonly step: number; readonly line: string }
  /** What the executor returned for the step's code, before it is turned into an observation. */
  | { readonly type: 'outcome'; readonly step: number; readonly outcome: RunOutcome }
  | { readonly type: 'observation'; readonly step: number; readonly text: string }
  | { readonly type: 'error'; readonly step: number; readonly error: StepError }
  | { readonly type: 'planning'; readonly step: number; readonly text: string }
  | { readonly type: 'final_answer'; readonly step: number; readonly output: Data }
  | {
      readonly type: 'step_end'
      readonly step: number
      readonly kind: AgentStep['kind']
      readonly usage: Usage
      readonly durationMs: number
      readonly modelMs: number
      readonly executionMs: number
    }
  | { readonly type: 'done'; readonly result: RunResult }

export interface FinalAnswerCheckContext {
  readonly task: string
  /** The steps before the one that called `finalAnswer`. */
  readonly steps: readonly AgentStep[]
}

/**
 * Vets a final answer: `true` accepts it; `false` or a string (the reason, shown to the model)
 * refuses it, and the run goes on with the reason as the observation. A check that throws fails
 * the run: it is the caller's code, and its bug should surface.
 */
export type FinalAnswerCheck = (
  answer: Data,
  context: FinalAnswerCheckContext,
) => boolean | string | Promise<boolean | string>

export interface StepEndContext {
  readonly agent: CodeAgent
  readonly task: string
  /** The run's steps so far, this one included. */
  readonly steps: readonly AgentStep[]
}

/** Called after every step, in order; the run waits for it. A callback that throws fails the run. */
export type StepCallback = (step: AgentStep, context: StepEndContext) => void | Promise<void>

export interface CodeAgentOptions {
  readonly model: Model
  readonly executor: Executor
  readonly tools?: readonly Tool[]
  /** Action steps (code runs) per run; planning and the final best-answer call do not count. */
  readonly maxSteps?: number
  /** Appended to the system prompt: the agent's particular role, tone and constraints. */
  readonly instructions?: string
  /** Modules the code may import; listed in the prompt and passed to the executor. */
  readonly allowedModules?: readonly string[]
  /** Limits of each code run, over the executor's defaults. */
  readonly limits?: Partial<Limits>
  /** Plan before the first action step and again every `planningInterval` action steps. */
  readonly planningInterval?: number
  /** Run in order on each `finalAnswer`; the first refusal sends the model back to work. */
  readonly finalAnswerChecks?: readonly FinalAnswerCheck[]
  readonly onStepEnd?: StepCallback | readonly StepCallback[]
  /** Longest observation the model is shown; longer ones keep their head and tail. */
  readonly maxObservationChars?: number
  /** The tool name under which other agents call this one (a JavaScript identifier). */
  readonly name?: string
  /** What this agent is good at, for the agents that manage it. */
  readonly description?: string
  /** Agents this one can hand tasks to; each needs a `name` and a `description`. */
  readonly managedAgents?: readonly CodeAgent[]
  /** Defined in the sandbox at the start of every run (merged under the run's own `variables`). */
  readonly variables?: Readonly<Record<string, Data>>
}

export interface AgentRunOptions {
  /** Stops the run promptly: model call and code run are cancelled, the session disposed. */
  readonly signal?: AbortSignal
  /** Overrides the agent's `maxSteps` for this run. */
  readonly maxSteps?: number
  /** Defined in the sandbox for this run, over the agent's `variables`. */
  readonly variables?: Readonly<Record<string, Data>>
}

/** The arguments of an agent called as a tool. */
export interface ManagedAgentArgs {
  readonly task: string
  readonly additional_context?: string
}

type RunEnding = Pick<RunResult, 'output' | 'state' | 'error'>

interface RunContext {
  readonly task: string
  readonly signal: AbortSignal | undefined
  readonly maxSteps: number
  readonly steps: AgentStep[]
  /** The conversation the next action step sends: system, task, then (assistant, user) pairs. */
  readonly messages: ChatMessage[]
  usage: Usage
}

type ModelCall =
  | { readonly ok: true; readonly output: ModelOutput; readonly modelMs: number }
  | { readonly ok: false; readonly error: AgentModelError; readonly text: string; readonly modelMs: number }

type Execution =
  | { readonly ok: true; readonly outcome: RunOutcome; readonly executionMs: number }
  | { readonly ok: false; readonly error: AgentExecutorError; readonly executionMs: number }

interface LastRun {
  readonly task: string
  readonly steps: readonly AgentStep[]
  result?: RunResult
}

/**
 * An agent that acts by writing code: each step, the model writes a thought and one code block,
 * the executor runs it, and what it printed or returned is the next observation, until the code
 * calls `finalAnswer(value)` or `maxSteps` run out.
 *
 * Failures of the model's code, replies without code and refused answers are observations the
 * model learns from. A failing model call or executor ends the run with `state: 'error'` (the
 * steps so far are kept). Aborting the signal rejects `run` with the signal's reason.
 *
 * @example
 * const agent = new CodeAgent({ model, executor: createLocalExecutor(), tools: [weather], maxSteps: 10 })
 * const { output, state } = await agent.run('Is it warmer in Oslo or in Rome right now?')
 * for await (const event of agent.stream('Same, for Lima and Quito')) {
 *   if (event.type === 'log') console.log(event.line)
 * }
 */
export class CodeAgent {
  readonly model: Model
  readonly executor: Executor
  /** The tools the code can call: the given ones, then the managed agents as tools. */
  readonly tools: readonly Tool[]
  readonly maxSteps: number
  readonly name: string | undefined
  readonly description: string | undefined
  /** Sent as the first message of every run. */
  readonly systemPrompt: string

  readonly #allowedModules: readonly string[]
  readonly #limits: Partial<Limits> | undefined
  readonly #planningInterval: number | undefined
  readonly #finalAnswerChecks: readonly FinalAnswerCheck[]
  readonly #onStepEnd: readonly StepCallback[]
  readonly #maxObservationChars: number
  readonly #variables: Readonly<Record<string, Data>>
  #lastRun: LastRun | undefined

  constructor(options: CodeAgentOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidDefinitionError(
        'CodeAgent takes one options object: { model, executor, tools?, ... }.',
      )
    }
    const {
      model,
      executor,
      tools = [],
      maxSteps = 20,
      instructions,
      allowedModules = [],
      limits,
      planningInterval,
      finalAnswerChecks = [],
      onStepEnd = [],
      maxObservationChars = 20_000,
      name,
      description,
      managedAgents = [],
      variables = {},
    } = options

    if (typeof model !== 'object' || model === null || typeof model.generate !== 'function') {
      throw new InvalidDefinitionError(
        'CodeAgent needs a model: pass `model`, an object with generate(messages, options) (e.g. from @airlock/openai).',
      )
    }
    if (typeof executor !== 'object' || executor === null || typeof executor.createSession !== 'function') {
      throw new InvalidDefinitionError(
        'CodeAgent needs an executor: pass `executor`, e.g. createLocalExecutor() from @airlock/executor-local.',
      )
    }
    if (executor.specificationVersion !== 'executor-v1') {
      throw new InvalidDefinitionError(
        `The executor implements ${JSON.stringify(executor.specificationVersion)}, but this @airlock/core expects "executor-v1"; install matching versions of the executor package and @airlock/core.`,
      )
    }
    assertPositiveInteger(maxSteps, 'maxSteps')
    if (planningInterval !== undefined) assertPositiveInteger(planningInterval, 'planningInterval')
    assertPositiveInteger(maxObservationChars, 'maxObservationChars')
    if (instructions !== undefined && typeof instructions !== 'string') {
      throw new InvalidDefinitionError('instructions must be a string.')
    }
    if (!Array.isArray(allowedModules) || allowedModules.some((module) => typeof module !== 'string')) {
      throw new InvalidDefinitionError('allowedModules must be an array of module names, e.g. ["lodash"].')
    }
    if (limits !== undefined) resolveLimits(limits)
    if (!Array.isArray(finalAnswerChecks) || finalAnswerChecks.some((check) => typeof check !== 'function')) {
      throw new InvalidDefinitionError(
        'finalAnswerChecks must be an array of functions (answer, { task, steps }) => boolean | string.',
      )
    }
    const stepCallbacks: readonly StepCallback[] = typeof onStepEnd === 'function' ? [onStepEnd] : onStepEnd
    if (!Array.isArray(stepCallbacks) || stepCallbacks.some((callback) => typeof callback !== 'function')) {
      throw new InvalidDefinitionError(
        'onStepEnd must be a function or an array of functions (step, context).',
      )
    }
    if (name !== undefined) assertToolName(name, 'Agent name')
    if (description !== undefined && (typeof description !== 'string' || description.trim() === '')) {
      throw new InvalidDefinitionError('description must be a non-empty string saying what the agent does.')
    }
    if (!Array.isArray(tools)) throw new InvalidDefinitionError('tools must be an array of tools.')
    for (const tool of tools) {
      if (typeof tool !== 'object' || tool === null || typeof tool.execute !== 'function') {
        throw new InvalidDefinitionError('Every entry of tools must be a tool made by defineTool(...).')
      }
      assertToolName(tool.name)
    }
    if (!Array.isArray(managedAgents)) {
      throw new InvalidDefinitionError('managedAgents must be an array of CodeAgent instances.')
    }
    const agentTools = managedAgents.map((agent, index) => {
      if (!(agent instanceof CodeAgent)) {
        throw new InvalidDefinitionError(`managedAgents[${index}] is not a CodeAgent.`)
      }
      if (agent.name === undefined || agent.description === undefined) {
        throw new InvalidDefinitionError(
          `managedAgents[${index}] needs a name and a description, e.g. new CodeAgent({ name: 'researcher', description: 'Finds and summarizes sources.', ... }).`,
        )
      }
      return agent.asTool()
    })
    const allTools = [...tools, ...agentTools]
    assertUniqueToolNames(allTools)
    assertVariables(variables, allTools)

    this.model = model
    this.executor = executor
    this.tools = allTools
    this.maxSteps = maxSteps
    this.name = name
    this.description = description?.trim()
    this.#allowedModules = allowedModules
    this.#limits = limits
    this.#planningInterval = planningInterval
    this.#finalAnswerChecks = finalAnswerChecks
    this.#onStepEnd = stepCallbacks
    this.#maxObservationChars = maxObservationChars
    this.#variables = variables
    this.systemPrompt = buildSystemPrompt({
      tools: allTools,
      allowedModules,
      ...(instructions === undefined ? {} : { instructions }),
    })
  }

  /**
   * The steps of the latest run (the one in progress, if any), in order. When one agent runs
   * several tasks at once (e.g. called twice concurrently as a managed agent), the latest started.
   */
  get memory(): readonly AgentStep[] {
    return this.#lastRun?.steps ?? []
  }

  /**
   * Runs the task to its end. Built on `stream`, so both behave the same.
   *
   * @throws the signal's reason when `signal` aborts; whatever a check or `onStepEnd` callback throws.
   *
   * @example
   * const result = await agent.run('How many open issues mention "timeout"?', { maxSteps: 8 })
   * if (result.state === 'success') console.log(result.output)
   */
  async run(task: string, options: AgentRunOptions = {}): Promise<RunResult> {
    let result: RunResult | undefined
    for await (const event of this.stream(task, options)) {
      if (event.type === 'done') result = event.result
    }
    if (result === undefined) throw new Error('The agent stream ended without a result.')
    return result
  }

  /**
   * Runs the task, yielding what happens as it happens: model text, code, console lines,
   * observations, and a final `done` with the `RunResult`. Leaving the loop early (`break`)
   * stops the run and disposes its session.
   *
   * @example
   * for await (const event of agent.stream('Plot the monthly totals', { signal })) {
   *   if (event.type === 'model_delta') process.stdout.write(event.text)
   *   if (event.type === 'done') console.log(event.result.state)
   * }
   */
  async *stream(task: string, options: AgentRunOptions = {}): AsyncGenerator<AgentEvent, void, undefined> {
    const { signal, maxSteps = this.maxSteps, variables = {} } = options
    if (typeof task !== 'string' || task.trim() === '') {
      throw new InvalidDefinitionError('The task must be a non-empty string.')
    }
    assertPositiveInteger(maxSteps, 'maxSteps')
    assertVariables(variables, this.tools)
    signal?.throwIfAborted()

    const startedAt = performance.now()
    const sessionVariables = { ...this.#variables, ...variables }
    const context: RunContext = {
      task,
      signal,
      maxSteps,
      steps: [],
      messages: [
        { role: 'system', content: this.systemPrompt },
        { role: 'user', content: buildTaskMessage(task, sessionVariables) },
      ],
      usage: ZERO_USAGE,
    }
    const lastRun: LastRun = { task, steps: context.steps }
    this.#lastRun = lastRun

    const opened = await this.#openSession(sessionVariables, signal)
    let ending: RunEnding
    if (opened instanceof AgentExecutorError) {
      ending = { output: undefined, state: 'error', error: opened }
    } else {
      try {
        ending = yield* this.#loop(context, opened)
      } finally {
        // Ignored: a failed cleanup must not replace the run's result or the error being thrown.
        await opened.dispose().catch(() => {})
      }
    }
    const result: RunResult = {
      ...ending,
      steps: context.steps,
      usage: context.usage,
      durationMs: performance.now() - startedAt,
    }
    lastRun.result = result
    yield { type: 'done', result }
  }

  /**
   * This agent as a tool for another agent: `await name({ task, additional_context? })` runs this
   * agent's own loop, in its own session, and returns its output. The caller's abort signal
   * reaches the sub-run; a sub-run that ends in `error` fails the tool call with its error.
   *
   * @example
   * const researcher = new CodeAgent({ name: 'researcher', description: 'Searches the web.', model, executor, tools: [search] })
   * const lead = new CodeAgent({ model, executor, managedAgents: [researcher] })
   */
  asTool(): Tool<ManagedAgentArgs> {
    const { name, description } = this
    if (name === undefined || description === undefined) {
      throw new InvalidDefinitionError(
        'An agent used as a tool needs a name and a description: new CodeAgent({ name: "researcher", description: "Finds and summarizes sources.", ... }).',
      )
    }
    return defineTool({
      name,
      description: `${description}\nThis is an agent: give it a complete task in plain language, with everything it needs in additional_context, since it does not see your conversation. It returns its final answer.`,
      parameters: jsonSchema<ManagedAgentArgs>({
        type: 'object',
        properties: {
          task: { type: 'string', description: 'The task, stated completely.' },
          additional_context: {
            type: 'string',
            description: 'Facts, data or constraints the agent needs.',
          },
        },
        required: ['task'],
        additionalProperties: false,
      }),
      execute: async ({ task, additional_context }, { signal }) => {
        const fullTask =
          additional_context === undefined || additional_context.trim() === ''
            ? task
            : `${task}\n\nAdditional context:\n${additional_context}`
        const result = await this.run(fullTask, { signal })
        if (result.error !== undefined) throw result.error
        return result.output
      },
    })
  }

  /**
   * A readable transcript of the latest run: task, each step's model output, observation and
   * errors, and the result. Deterministic (no timings), so it suits logs, snapshots and diffs.
   *
   * @example
   * await agent.run('Count the vowels in "airlock"')
   * console.log(agent.replay())
   */
  replay(): string {
    const run = this.#lastRun
    if (run === undefined) return 'No run yet.\n'
    const parts: string[] = [`Task: ${run.task}`]
    for (const step of run.steps) parts.push(replayStep(step))
    const { result } = run
    if (result === undefined) {
      parts.push('=== Still running ===')
    } else {
      const lines = [`=== Result: ${result.state} ===`]
      if (result.error !== undefined) lines.push(`${result.error.name}: ${result.error.message}`)
      else lines.push(renderAnswer(result.output))
      lines.push(`Usage: ${formatUsage(result.usage)} over ${result.steps.length} steps`)
      parts.push(lines.join('\n'))
    }
    return `${parts.join('\n\n')}\n`
  }

  async #openSession(
    variables: Readonly<Record<string, Data>>,
    signal: AbortSignal | undefined,
  ): Promise<ExecutorSession | AgentExecutorError> {
    let creating: Promise<ExecutorSession>
    try {
      creating = Promise.resolve(
        this.executor.createSession({
          tools: this.tools,
          allowedModules: this.#allowedModules,
          variables,
          ...(this.#limits === undefined ? {} : { limits: this.#limits }),
        }),
      )
    } catch (error) {
      creating = Promise.reject(error)
    }
    try {
      return await abortable(creating, signal)
    } catch (error) {
      if (signal?.aborted) {
        // The session may still arrive after the abort; free it when it does.
        creating.then((session) => session.dispose()).catch(() => {})
        throw signal.reason
      }
      return new AgentExecutorError(
        this.executor.kind,
        `The ${this.executor.kind} executor could not create a session: ${describeError(error)}`,
        { cause: error },
      )
    }
  }

  async *#loop(
    context: RunContext,
    session: ExecutorSession,
  ): AsyncGenerator<AgentEvent, RunEnding, undefined> {
    const interval = this.#planningInterval
    for (let actions = 0; actions < context.maxSteps; actions++) {
      context.signal?.throwIfAborted()
      if (interval !== undefined && actions % interval === 0) {
        const failed = yield* this.#planningStep(context, actions)
        if (failed !== undefined) return failed
      }
      const ending = yield* this.#actionStep(context, session)
      if (ending !== undefined) return ending
    }
    context.signal?.throwIfAborted()
    return yield* this.#bestAnswerStep(context)
  }

  async *#planningStep(
    context: RunContext,
    actionsDone: number,
  ): AsyncGenerator<AgentEvent, RunEnding | undefined, undefined> {
    const step = context.steps.length + 1
    const startedAt = performance.now()
    yield { type: 'step_start', step, kind: 'planning' }
    const request =
      actionsDone === 0
        ? initialPlanPrompt(context.maxSteps)
        : updatePlanPrompt(context.maxSteps - actionsDone)
    const messages = withUserMessage(context.messages, request)
    const call = yield* this.#callModel(context, step, messages, undefined)
    const base = { kind: 'planning' as const, step, inputMessages: messages.length, modelMs: call.modelMs }
    if (!call.ok) {
      const error: StepError = { kind: 'model', message: call.error.message, error: call.error }
      yield { type: 'error', step, error }
      const record: PlanningStep = {
        ...base,
        modelOutput: call.text,
        usage: ZERO_USAGE,
        durationMs: performance.now() - startedAt,
        error,
      }
      yield* this.#endStep(context, record)
      return { output: undefined, state: 'error', error: call.error }
    }
    const plan = call.output.text.trim()
    yield { type: 'planning', step, text: plan }
    context.messages.push(
      { role: 'assistant', content: plan === '' ? '(no plan)' : plan },
      { role: 'user', content: CONTINUE_AFTER_PLAN },
    )
    const record: PlanningStep = {
      ...base,
      modelOutput: plan,
      usage: call.output.usage,
      durationMs: performance.now() - startedAt,
    }
    yield* this.#endStep(context, record)
    return undefined
  }

  async *#actionStep(
    context: RunContext,
    session: ExecutorSession,
  ): AsyncGenerator<AgentEvent, RunEnding | undefined, undefined> {
    const step = context.steps.length + 1
    const startedAt = performance.now()
    yield { type: 'step_start', step, kind: 'action' }
    const inputMessages = context.messages.length
    const call = yield* this.#callModel(context, step, context.messages, CODE_STOP_SEQUENCES)
    const base = { kind: 'action' as const, step, inputMessages, modelMs: call.modelMs }
    if (!call.ok) {
      const error: StepError = { kind: 'model', message: call.error.message, error: call.error }
      yield { type: 'error', step, error }
      const record: ActionStep = {
        ...base,
        modelOutput: call.text,
        usage: ZERO_USAGE,
        observation: '',
        executionMs: 0,
        durationMs: performance.now() - startedAt,
        error,
      }
      yield* this.#endStep(context, record)
      return { output: undefined, state: 'error', error: call.error }
    }

    const { text, usage } = call.output
    const extracted = extractCode(text)
    context.messages.push({ role: 'assistant', content: assistantMessage(text, extracted) })
    const record = { ...base, modelOutput: text, usage }

    if (extracted === undefined) {
      const error: StepError = { kind: 'format', message: 'The reply had no code block.' }
      yield { type: 'error', step, error }
      yield* this.#observe(context, step, MISSING_CODE_OBSERVATION)
      yield* this.#endStep(context, {
        ...record,
        observation: MISSING_CODE_OBSERVATION,
        executionMs: 0,
        durationMs: performance.now() - startedAt,
        error,
      })
      return undefined
    }

    const { code, language } = extracted
    yield { type: 'code', step, code, language }
    const execution = yield* this.#execute(context, session, step, code)
    const ran = { ...record, code, language, executionMs: execution.executionMs }
    if (!execution.ok) {
      const error: StepError = { kind: 'executor', message: execution.error.message, error: execution.error }
      yield { type: 'error', step, error }
      yield* this.#endStep(context, {
        ...ran,
        observation: '',
        durationMs: performance.now() - startedAt,
        error,
      })
      return { output: undefined, state: 'error', error: execution.error }
    }

    const { outcome } = execution
    yield { type: 'outcome', step, outcome }
    let error: StepError | undefined
    let observation: string
    let ending: RunEnding | undefined
    if (outcome.type === 'final') {
      const refusal = await this.#checkAnswer(outcome.answer, context)
      if (refusal === undefined) {
        observation = formatObservation(outcome, { maxChars: this.#maxObservationChars })
        ending = { output: outcome.answer, state: 'success' }
      } else {
        error = { kind: 'check', message: refusal }
        // What the code printed before finalAnswer is still news to the model.
        const printed = outcome.logs === '' ? '' : `Logs:\n${outcome.logs.replace(/\n$/, '')}\n`
        observation = truncateText(printed + rejectedAnswerObservation(refusal), this.#maxObservationChars)
      }
    } else {
      observation = formatObservation(outcome, { maxChars: this.#maxObservationChars })
      if (outcome.type === 'error') error = outcome.error
    }
    if (error !== undefined) yield { type: 'error', step, error }
    if (ending === undefined) {
      yield* this.#observe(context, step, observation)
    } else {
      yield { type: 'observation', step, text: observation }
      yield { type: 'final_answer', step, output: ending.output }
    }
    yield* this.#endStep(context, {
      ...ran,
      outcome,
      observation,
      durationMs: performance.now() - startedAt,
      ...(error === undefined ? {} : { error }),
    })
    return ending
  }

  async *#bestAnswerStep(context: RunContext): AsyncGenerator<AgentEvent, RunEnding, undefined> {
    const step = context.steps.length + 1
    const startedAt = performance.now()
    yield { type: 'step_start', step, kind: 'final' }
    const messages = withUserMessage(context.messages, BEST_ANSWER_PROMPT)
    const call = yield* this.#callModel(context, step, messages, undefined)
    const base = { kind: 'final' as const, step, inputMessages: messages.length, modelMs: call.modelMs }
    if (!call.ok) {
      const error: StepError = { kind: 'model', message: call.error.message, error: call.error }
      yield { type: 'error', step, error }
      yield* this.#endStep(context, {
        ...base,
        modelOutput: call.text,
        usage: ZERO_USAGE,
        output: undefined,
        durationMs: performance.now() - startedAt,
        error,
      })
      return { output: undefined, state: 'error', error: call.error }
    }
    const output = call.output.text.trim()
    yield { type: 'final_answer', step, output }
    yield* this.#endStep(context, {
      ...base,
      modelOutput: call.output.text,
      usage: call.output.usage,
      output,
      durationMs: performance.now() - startedAt,
    })
    return { output, state: 'max_steps' }
  }

  /**
   * One model call, streamed when the model can. Failures become `ok: false` (the step records
   * them); an abort throws the signal's reason instead, even if the model ignores the signal.
   */
  async *#callModel(
    context: RunContext,
    step: number,
    messages: readonly ChatMessage[],
    stop: readonly string[] | undefined,
  ): AsyncGenerator<AgentEvent, ModelCall, undefined> {
    const { signal } = context
    const { model } = this
    const options: GenerateOptions = {
      ...(stop === undefined ? {} : { stop }),
      ...(signal === undefined ? {} : { signal }),
    }
    // A copy: the conversation grows after the call, and a model may keep what it was given.
    const sent = messages.slice()
    const startedAt = performance.now()
    let streamed = ''
    let output: ModelOutput
    try {
      if (model.stream !== undefined) {
        let usage = ZERO_USAGE
        const iterator = model.stream(sent, options)[Symbol.asyncIterator]()
        let finished = false
        try {
          while (true) {
            const next = await abortable(iterator.next(), signal)
            if (next.done === true) break
            const delta = next.value
            if (delta.type === 'text') {
              streamed += delta.text
              yield { type: 'model_delta', step, text: delta.text }
            } else {
              usage = delta.usage ?? ZERO_USAGE
            }
          }
          finished = true
        } finally {
          // Not awaited: a stream that ignores the abort must not hold the run.
          if (!finished) Promise.resolve(iterator.return?.()).catch(() => {})
        }
        output = { text: streamed, usage }
      } else {
        output = await abortable(model.generate(sent, options), signal)
        if (typeof output !== 'object' || output === null || typeof output.text !== 'string') {
          throw new TypeError('generate() resolved without a text string')
        }
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      const failure = new AgentModelError(
        model.id,
        `The model ${model.id} failed at step ${step}: ${describeError(error)}`,
        { cause: error },
      )
      return { ok: false, error: failure, text: streamed, modelMs: performance.now() - startedAt }
    }
    const modelMs = performance.now() - startedAt
    // Models that ignore stop sequences would otherwise leave invented observations in memory.
    const text = stop === undefined ? output.text : cutAtStopSequence(output.text, stop)
    const usage = output.usage ?? ZERO_USAGE
    context.usage = addUsage(context.usage, usage)
    yield { type: 'model_output', step, text, usage }
    return { ok: true, output: { ...output, text, usage }, modelMs }
  }

  /** Runs one code action, yielding its console lines while it runs. */
  async *#execute(
    context: RunContext,
    session: ExecutorSession,
    step: number,
    code: string,
  ): AsyncGenerator<AgentEvent, Execution, undefined> {
    const { signal } = context
    const startedAt = performance.now()
    const lines: string[] = []
    let settled = false
    let wake: (() => void) | undefined
    let running: Promise<RunOutcome>
    try {
      running = Promise.resolve(
        session.run(code, {
          ...(signal === undefined ? {} : { signal }),
          onLog: (line) => {
            lines.push(line)
            wake?.()
          },
        }),
      )
    } catch (error) {
      running = Promise.reject(error)
    }
    const guarded = abortable(running, signal)
    const onSettled = () => {
      settled = true
      wake?.()
    }
    guarded.then(onSettled, onSettled)
    // The executor pushes lines through onLog while `run` is pending; relay them as they come.
    while (true) {
      if (lines.length > 0) {
        for (const line of lines.splice(0)) yield { type: 'log', step, line }
        continue
      }
      if (settled) break
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      wake = undefined
    }
    let outcome: RunOutcome
    try {
      outcome = await guarded
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      const failure = new AgentExecutorError(
        this.executor.kind,
        `The ${this.executor.kind} executor failed to run the code of step ${step}: ${describeError(error)}`,
        { cause: error },
      )
      return { ok: false, error: failure, executionMs: performance.now() - startedAt }
    }
    // The executor reports an abort as an outcome; the run reports it by throwing the reason.
    signal?.throwIfAborted()
    return { ok: true, outcome, executionMs: performance.now() - startedAt }
  }

  /** Returns why the answer is refused, or `undefined` when every check accepts it. */
  async #checkAnswer(answer: Data, context: RunContext): Promise<string | undefined> {
    for (const check of this.#finalAnswerChecks) {
      const verdict = await check(answer, { task: context.task, steps: context.steps.slice() })
      context.signal?.throwIfAborted()
      if (verdict === true) continue
      return typeof verdict === 'string' && verdict.trim() !== ''
        ? verdict.trim()
        : 'it did not pass the checks of this agent. Re-read the task and verify the answer before submitting it again.'
    }
    return undefined
  }

  async *#observe(context: RunContext, step: number, observation: string): AsyncGenerator<AgentEvent> {
    context.messages.push({ role: 'user', content: `Observation:\n${observation}` })
    yield { type: 'observation', step, text: observation }
  }

  async *#endStep(context: RunContext, record: AgentStep): AsyncGenerator<AgentEvent> {
    context.steps.push(record)
    for (const callback of this.#onStepEnd) {
      await callback(record, { agent: this, task: context.task, steps: context.steps.slice() })
    }
    yield {
      type: 'step_end',
      step: record.step,
      kind: record.kind,
      usage: record.usage,
      durationMs: record.durationMs,
      modelMs: record.modelMs,
      executionMs: record.kind === 'action' ? record.executionMs : 0,
    }
  }
}

function assertPositiveInteger(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidDefinitionError(`${name} must be a positive integer, got ${String(value)}.`)
  }
}

function assertVariables(variables: unknown, tools: readonly Tool[]): void {
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
    throw new InvalidDefinitionError(
      'variables must be an object mapping names to data, e.g. { report: "..." }.',
    )
  }
  for (const name of Object.keys(variables)) {
    assertToolName(name, 'Variable name')
    if (tools.some((tool) => tool.name === name)) {
      throw new InvalidDefinitionError(`Variable "${name}" has the name of a tool; rename the variable.`)
    }
  }
}

/** Appends a user message, merged into the last one when that is a user message too. */
function withUserMessage(messages: readonly ChatMessage[], content: string): ChatMessage[] {
  const last = messages.at(-1)
  if (last?.role === 'user') {
    return [...messages.slice(0, -1), { role: 'user', content: `${last.content}\n\n${content}` }]
  }
  return [...messages, { role: 'user', content }]
}

/**
 * The reply as memory keeps it. The stop sequence itself never comes back from the provider, so
 * it is restored: the model then rereads replies in exactly the format it was taught.
 */
function assistantMessage(text: string, extracted: ExtractedCode | undefined): string {
  const trimmed = text.trim()
  if (trimmed === '') return '(empty reply)'
  return extracted === undefined || trimmed.includes(END_CODE) ? trimmed : `${trimmed}\n${END_CODE}`
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return String(error)
}

function formatUsage(usage: Usage): string {
  return `${groupDigits(usage.inputTokens)} input tokens, ${groupDigits(usage.outputTokens)} output tokens`
}

function replayStep(step: AgentStep): string {
  const lines = [`=== Step ${step.step}: ${step.kind} (${formatUsage(step.usage)}) ===`]
  if (step.kind === 'final') {
    lines.push(`--- Best answer after running out of steps ---\n${renderAnswer(step.output)}`)
  } else if (step.modelOutput.trim() !== '') {
    lines.push(step.modelOutput.trim())
  }
  if (step.kind === 'action') {
    if (step.outcome?.type === 'final' && step.error === undefined) {
      if (step.outcome.logs !== '') lines.push(`--- Logs ---\n${step.outcome.logs.replace(/\n$/, '')}`)
      lines.push(`--- Final answer ---\n${step.observation}`)
    } else if (step.observation !== '') {
      lines.push(`--- Observation ---\n${step.observation}`)
    }
  }
  if (step.error?.kind === 'model' || step.error?.kind === 'executor') {
    lines.push(`--- Failed ---\n${step.error.message}`)
  }
  return lines.join('\n')
}
