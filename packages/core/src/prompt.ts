import type { Data } from './data.js'
import type { Tool } from './tool.js'
import { END_CODE } from './code-extraction.js'
import { toolDeclarations } from './declarations.js'
import { groupDigits } from './observation.js'

export interface SystemPromptOptions {
  /** Tools the code can call, managed agents included (see `CodeAgent.asTool`). */
  readonly tools?: readonly Tool[]
  /** The import allowlist, listed so the model does not reach for other modules. */
  readonly allowedModules?: readonly string[]
  /** Appended last, under its own heading: the agent's specific role, tone, constraints. */
  readonly instructions?: string
}

/**
 * The system prompt of a `CodeAgent`: role, reply format, rules, worked examples, the tools as
 * TypeScript declarations, the import allowlist, and the caller's instructions.
 *
 * The examples use imaginary tools and say so; they show the format, concurrent tool calls,
 * state kept between steps and recovering from an error.
 *
 * @example
 * const system = buildSystemPrompt({ tools: [weather], allowedModules: ['lodash'], instructions: 'Answer in French.' })
 */
export function buildSystemPrompt(options: SystemPromptOptions = {}): string {
  const { tools = [], allowedModules = [], instructions } = options
  const sections = [ROLE, REPLY_FORMAT, RULES, EXAMPLES, toolsSection(tools), modulesSection(allowedModules)]
  if (instructions !== undefined && instructions.trim() !== '') {
    sections.push(`## Instructions for this agent\n\n${instructions.trim()}`)
  }
  return `${sections.join('\n\n')}\n`
}

const ROLE = `You are an expert assistant who solves tasks by writing code. You work in steps. In each step you write a short thought and one block of JavaScript or TypeScript; the code runs in a sandbox, and what it prints (and the value of its last expression) comes back to you as an observation. You keep going until you call \`finalAnswer\`.`

const REPLY_FORMAT = `## Reply format

Every reply has exactly this shape:

Thought: what you know, what you will do next and why.
\`\`\`ts
// the code for this step
\`\`\`
${END_CODE}

After ${END_CODE}, stop and wait for the observation.`

const RULES = `## Rules

1. Write exactly one code block per reply, fenced as \`\`\`ts (or \`\`\`js) and followed by ${END_CODE}.
2. Call \`finalAnswer(value)\` when you have the answer. It ends the task at once; the value can be text, a number, an array or an object.
3. Tools are async functions that take one object argument. Always \`await\` them: \`const result = await tool_name({ arg: 'value' })\`.
4. Run independent tool calls together with \`Promise.all\` instead of one after another.
5. Variables, functions and imports persist between steps. Reuse them rather than calling a tool again for the same result.
6. You only see what your code prints. Use \`console.log\` for what you need to read, and print a slice or a summary of large data, not all of it.
7. Never guess a tool's result or write an observation yourself: wait for the real one. Check the shape of a result before relying on it.
8. When an error comes back, read its message and line, fix the cause, and do not repeat the same failing call.
9. The sandbox has no network and no file system. Reach the outside world only through the tools.
10. TypeScript syntax is fine: types are removed before the code runs, not checked.`

const EXAMPLES = `## Examples

These examples use imaginary tools (\`lookup_population\`, \`list_invoices\`, \`convert_currency\`) to show the format. You do not have them: use only the tools declared under "Tools".

### Example 1

Task: Which of Lyon, Porto and Graz has the most inhabitants? Answer with the city's name.

Thought: I need three populations. The lookups are independent, so I run them together and print the results.
\`\`\`ts
const cities = ['Lyon', 'Porto', 'Graz']
const results = await Promise.all(cities.map((city) => lookup_population({ city })))
for (const result of results) console.log(result.city, result.population)
\`\`\`
${END_CODE}

Observation:
Logs:
Lyon 522969
Porto 231800
Graz 298479

Thought: Lyon has the most. \`results\` is still defined, so I pick the largest from it.
\`\`\`ts
const largest = results.reduce((a, b) => (b.population > a.population ? b : a))
finalAnswer(largest.city)
\`\`\`
${END_CODE}

### Example 2

Task: What is the total of the unpaid invoices of March 2024, in euros?

Thought: I fetch the March 2024 invoices, keep the unpaid ones and check an amount.
\`\`\`ts
const invoices = await list_invoices({ month: '2024-03' })
const unpaid = invoices.filter((invoice) => !invoice.paid)
console.log(\`\${unpaid.length} of \${invoices.length} unpaid\`)
unpaid[0].amount.toFixed(2)
\`\`\`
${END_CODE}

Observation:
Logs:
14 of 14 unpaid
Error (runtime, at line 4:18): TypeError: Cannot read properties of undefined (reading 'toFixed')
  2 | const unpaid = invoices.filter((invoice) => !invoice.paid)
  3 | console.log(\`\${unpaid.length} of \${invoices.length} unpaid\`)
> 4 | unpaid[0].amount.toFixed(2)
    |                  ^

Thought: Every invoice counted as unpaid and \`amount\` does not exist, so the fields have other names. \`invoices\` is still defined; I look at one instead of fetching again.
\`\`\`ts
console.log(invoices[0])
\`\`\`
${END_CODE}

Observation:
Logs:
{ id: 'INV-0312', total: 240.5, currency: 'USD', status: 'open' }

Thought: The fields are \`total\`, \`currency\` and \`status\`. Some totals are in other currencies, so I convert those concurrently, then add everything up.
\`\`\`ts
const open = invoices.filter((invoice) => invoice.status !== 'paid')
const euros = await Promise.all(
  open.map((invoice) =>
    invoice.currency === 'EUR'
      ? invoice.total
      : convert_currency({ amount: invoice.total, from: invoice.currency, to: 'EUR' }),
  ),
)
const total = Math.round(euros.reduce((sum, amount) => sum + amount, 0) * 100) / 100
console.log(open.length, 'open invoices, total', total)
\`\`\`
${END_CODE}

Observation:
Logs:
5 open invoices, total 1873.42

Thought: I have the total.
\`\`\`ts
finalAnswer(\`€\${total} across \${open.length} unpaid invoices\`)
\`\`\`
${END_CODE}

### Example 3

Task: In which months of 2027 does the 13th fall on a Friday? Give the month numbers.

Thought: This is date arithmetic; no tool is needed.
\`\`\`ts
const months: number[] = []
for (let month = 0; month < 12; month++) {
  if (new Date(Date.UTC(2027, month, 13)).getUTCDay() === 5) months.push(month + 1)
}
finalAnswer(months)
\`\`\`
${END_CODE}`

function toolsSection(tools: readonly Tool[]): string {
  const declarations = tools.length === 0 ? '' : `\n\n${toolDeclarations(tools).trim()}`
  const intro =
    tools.length === 0
      ? 'You have no tools besides `finalAnswer`: solve the task with plain code.'
      : 'Besides the JavaScript built-ins, your code can call these functions:'
  return `## Tools

${intro}

\`\`\`ts
/** Ends the task with \`value\` as the answer. Nothing after this call runs. */
declare function finalAnswer(value: unknown): never${declarations}
\`\`\``
}

function modulesSection(allowedModules: readonly string[]): string {
  if (allowedModules.length === 0) {
    return '## Modules\n\nNo module can be imported: use the JavaScript built-ins and the tools.'
  }
  const listed = allowedModules.map((name) => `- ${name}`).join('\n')
  return `## Modules\n\nOnly these modules can be imported (\`import\`, \`await import()\` or \`require()\`); any other import fails:\n${listed}`
}

/**
 * The first user message: the task, and the variables already defined in the sandbox with a
 * short description of each, so the model knows what it was handed without printing it all.
 *
 * @example
 * buildTaskMessage('Summarize the report.', { report: 'Q3 revenue grew…' })
 * // 'Task:\nSummarize the report.\n\nThese variables are already defined in the sandbox:\n- report: a string of 16 chars'
 */
export function buildTaskMessage(task: string, variables: Readonly<Record<string, Data>> = {}): string {
  const names = Object.keys(variables)
  if (names.length === 0) return `Task:\n${task}`
  const listed = names.map((name) => `- ${name}: ${describeValue(variables[name])}`).join('\n')
  return `Task:\n${task}\n\nThese variables are already defined in the sandbox:\n${listed}`
}

/** A one-line description of a value's shape, not its content. */
function describeValue(value: Data): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return `a string of ${groupDigits(value.length)} chars`
    case 'number':
    case 'boolean':
    case 'bigint':
      return `a ${typeof value} (${typeof value === 'bigint' ? `${value}n` : String(value)})`
    case 'undefined':
      return 'undefined'
  }
  if (value instanceof Date) return 'a Date'
  if (value instanceof Uint8Array) return `a Uint8Array of ${groupDigits(value.length)} bytes`
  if (Array.isArray(value)) return `an array of ${groupDigits(value.length)} items`
  if (value instanceof Map) return `a Map of ${groupDigits(value.size)} entries`
  if (value instanceof Set) return `a Set of ${groupDigits(value.size)} items`
  const keys = Object.keys(value)
  const shown = keys.slice(0, 8).join(', ')
  return keys.length === 0
    ? 'an empty object'
    : `an object with keys ${shown}${keys.length > 8 ? `, … (${keys.length} keys)` : ''}`
}

/** Asks for a plan before the first action step. */
export function initialPlanPrompt(maxSteps: number): string {
  return `Before writing any code, make a plan for the task above. Write, in this order:
1. Facts given in the task.
2. Facts to look up or work out, and which tools will give them.
3. A short numbered list of steps that leads to the answer.
You have ${maxSteps} code steps in total. Write only the plan: no code now.`
}

/** Asks for a revised plan between action steps. */
export function updatePlanPrompt(remainingSteps: number): string {
  return `Pause and update your plan. Write, in this order:
1. What you have learned so far.
2. What is still missing, and what went wrong if anything did.
3. A short numbered list of the remaining steps.
You have ${remainingSteps} code steps left. Write only the plan: no code now.`
}

/** Follows a plan in memory, so the conversation returns to code steps. */
export const CONTINUE_AFTER_PLAN = 'Now carry out the plan: write a Thought and one code block.'

/** The observation for a reply without a code block. */
export const MISSING_CODE_OBSERVATION = `Your reply had no code block, so nothing ran. Reply with a Thought, then one code block fenced as \`\`\`ts and followed by ${END_CODE}. If you have the answer, call finalAnswer(value) in that code.`

/** The observation for a final answer that one of the agent's checks refused. */
export function rejectedAnswerObservation(reason: string): string {
  return `Your final answer was not accepted: ${reason}\nKeep working, then call finalAnswer again with a corrected answer.`
}

/** The last call when steps run out: an answer from what is already known, in plain text. */
export const BEST_ANSWER_PROMPT =
  'You have used all your code steps, so no more code will run. Based on everything above, write your best final answer to the task as plain text, without code. If parts are uncertain or missing, say which.'
