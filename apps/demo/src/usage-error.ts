import { AirlockError } from '@airlock/core'

/** A mistake in how the CLI was called or configured: printed as one line, exit code 2. */
export class UsageError extends AirlockError {
  constructor(message: string) {
    super('UsageError', message)
  }
}
