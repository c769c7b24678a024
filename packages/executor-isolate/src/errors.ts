import { AirlockError } from '@airlock/core'

const missingFlagMarker = Symbol.for('airlock.error.MissingNodeFlagError')

/**
 * isolated-vm needs node started with `--no-node-snapshot` when isolates run in this process
 * (`isolation: 'in-process'`). The flag cannot be set at run time; the message names it.
 */
export class MissingNodeFlagError extends AirlockError {
  private readonly [missingFlagMarker] = true

  constructor() {
    super(
      'MissingNodeFlagError',
      "isolation: 'in-process' runs isolated-vm in this process, which needs node started with --no-node-snapshot. " +
        "Start node with it (node --no-node-snapshot app.js, or NODE_OPTIONS=--no-node-snapshot), or use isolation: 'process' (the default), which starts its own processes with the flag.",
    )
  }

  static override isInstance(error: unknown): error is MissingNodeFlagError {
    return typeof error === 'object' && error !== null && missingFlagMarker in error
  }
}

const moduleLoadMarker = Symbol.for('airlock.error.ModuleLoadError')

/** An allowlisted module cannot be loaded into the isolate: not found, not pure JavaScript, or it failed. */
export class ModuleLoadError extends AirlockError {
  private readonly [moduleLoadMarker] = true
  readonly moduleName: string

  constructor(moduleName: string, message: string, options?: { cause?: unknown }) {
    super('ModuleLoadError', message, options)
    this.moduleName = moduleName
  }

  static override isInstance(error: unknown): error is ModuleLoadError {
    return typeof error === 'object' && error !== null && moduleLoadMarker in error
  }
}

const sandboxStartMarker = Symbol.for('airlock.error.SandboxStartError')

/** The sandbox process or isolate for a session could not be started. */
export class SandboxStartError extends AirlockError {
  private readonly [sandboxStartMarker] = true

  constructor(message: string, options?: { cause?: unknown }) {
    super('SandboxStartError', message, options)
  }

  static override isInstance(error: unknown): error is SandboxStartError {
    return typeof error === 'object' && error !== null && sandboxStartMarker in error
  }
}
