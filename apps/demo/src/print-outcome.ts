import { styleText } from 'node:util'
import { formatData, type RunOutcome } from '@airlock/core'

/** Prints what a run produced beyond its logs (already streamed). */
export function printOutcome(outcome: RunOutcome): void {
  if (outcome.type === 'value') {
    if (outcome.value !== undefined) process.stdout.write(`${formatData(outcome.value)}\n`)
  } else if (outcome.type === 'final') {
    process.stdout.write(
      `${styleText('green', 'final answer:', { stream: process.stdout })} ${formatData(outcome.answer)}\n`,
    )
  } else {
    const { error } = outcome
    const where =
      error.line === undefined
        ? ''
        : ` (line ${error.line}${error.column === undefined ? '' : `:${error.column}`})`
    process.stderr.write(
      `${styleText('red', `${error.name}${where}: ${error.message}`, { stream: process.stderr })}\n`,
    )
    if (error.codeFrame) process.stderr.write(`${error.codeFrame.replace(/\n$/, '')}\n`)
  }
}
