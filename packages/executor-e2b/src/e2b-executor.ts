import { randomUUID } from 'node:crypto'
import {
  type Executor,
  type ExecutorCapabilities,
  InvalidDefinitionError,
  type SessionOptions,
  type Tool,
  assertUniqueToolNames,
  copySessionVariables,
  resolveLimits,
} from '@airlock/core'
import { E2B, type Sandbox } from '@e2b/code-interpreter'
import { E2BSession, type E2BSessionContext } from './e2b-session.js'
import { E2BConfigurationError, E2BSandboxNotFoundError, isNotFoundError, toE2BError } from './errors.js'
import { harnessCommand, loadHarnessSource } from './harness-process.js'

/** Where and how to reach E2B; shared by the executor and the orphan helpers. */
export interface E2BConnectionSettings {
  /** E2B API key. Default: the `E2B_API_KEY` environment variable, read when a session is created. */
  readonly apiKey?: string
  /** E2B domain, for a self-hosted E2B. Default: the SDK's (`E2B_DOMAIN`, else `e2b.app`). */
  readonly domain?: string
  /** URL of E2B's control plane, overriding the one derived from `domain` (tests, proxies). */
  readonly apiUrl?: string
  /** URL that reaches every sandbox's services, overriding the per-sandbox hosts (tests). */
  readonly sandboxUrl?: string
  /** Timeout of each request to E2B in ms. Default: the SDK's (60 s). */
  readonly requestTimeoutMs?: number
}

export interface E2BExecutorSettings extends E2BConnectionSettings {
  /**
   * Sandbox template. It needs Node.js >= 20 as `node` on the PATH. Default `code-interpreter-v1`,
   * E2B's code-interpreter template (Node 20 and Python).
   */
  readonly template?: string
  /**
   * How long a sandbox lives without runs, in ms: each run extends its lifetime when less than
   * half of it is left, and an abandoned sandbox (a crashed host) is killed by E2B after it.
   * Default 10 minutes. E2B caps it (1 hour on Hobby plans, 24 hours on Pro).
   */
  readonly sandboxTimeoutMs?: number
  /**
   * Metadata added to every sandbox, e.g. `{ app: 'support-bot' }`. The executor always adds
   * `airlock: '1'` and `airlockSession: <session id>`, which the orphan helpers look for.
   */
  readonly metadata?: Readonly<Record<string, string>>
  /**
   * The sandbox directory the harness runs in (its `.airlock/` folder holds the harness file).
   * Modules the code may import resolve from here, so packages installed here with `npm install`
   * can be allowlisted. Default `/home/user`, the home of E2B's default user.
   */
  readonly workdir?: string
}

const DEFAULT_TEMPLATE = 'code-interpreter-v1'
const DEFAULT_SANDBOX_TIMEOUT_MS = 10 * 60_000
const DEFAULT_WORKDIR = '/home/user'
const identifier = /^[A-Za-z_$][\w$]*$/

/** Metadata keys the executor sets on every sandbox. */
export const AIRLOCK_METADATA = { marker: 'airlock', session: 'airlockSession' } as const

/**
 * Creates an executor that runs each session in its own E2B sandbox. No I/O happens here; the API
 * key is read and checked by `createSession`.
 *
 * @example
 * const executor = createE2BExecutor({ sandboxTimeoutMs: 15 * 60_000, metadata: { app: 'demo' } })
 * const agent = new CodeAgent({ model, executor, tools: [weather] })
 */
export function createE2BExecutor(settings: E2BExecutorSettings = {}): E2BExecutor {
  return new E2BExecutor(settings)
}

/**
 * Runs code actions in E2B sandboxes, one sandbox per session, while tools run on the host: the
 * code calls them through the sandbox's process channel, and nothing of theirs (source, secrets)
 * enters the sandbox.
 *
 * @example
 * const executor = new E2BExecutor({ template: 'code-interpreter-v1' })
 * await using session = await executor.createSession({ tools: [weather] })
 * const outcome = await session.run('await get_weather({ city: "Oslo" })')
 */
export class E2BExecutor implements Executor {
  readonly specificationVersion = 'executor-v1' as const
  readonly kind = 'e2b'
  /**
   * `memoryLimit` caps the V8 heap of the process running the code (`--max-old-space-size`);
   * buffers outside the heap and child processes are bounded only by the sandbox's RAM.
   * `network` is true because E2B sandboxes reach the internet unless the template or
   * E2B's network settings forbid it.
   */
  readonly capabilities: ExecutorCapabilities = Object.freeze({
    stateful: true,
    hardKill: true,
    memoryLimit: true,
    operationLimit: false,
    network: true,
    toolsRunOn: 'host',
  })
  readonly #settings: E2BExecutorSettings

  constructor(settings: E2BExecutorSettings = {}) {
    const { sandboxTimeoutMs, workdir } = settings
    if (
      sandboxTimeoutMs !== undefined &&
      !(Number.isSafeInteger(sandboxTimeoutMs) && sandboxTimeoutMs >= 1_000)
    ) {
      throw new E2BConfigurationError(
        `sandboxTimeoutMs must be a whole number of milliseconds, at least 1000; got ${String(sandboxTimeoutMs)}.`,
      )
    }
    if (workdir !== undefined && !/^\/[^\s'"\\$`]*$/.test(workdir)) {
      throw new E2BConfigurationError(
        `workdir must be an absolute path without spaces, quotes or shell characters; got ${JSON.stringify(workdir)}.`,
      )
    }
    this.#settings = { ...settings }
  }

  /**
   * Creates a sandbox and starts the harness in it.
   *
   * @throws E2BConfigurationError without an API key or for an unknown template,
   *   E2BAuthenticationError, E2BRateLimitError, E2BUnavailableError, E2BHarnessError.
   */
  async createSession(options: SessionOptions = {}): Promise<E2BSession> {
    const context = this.#sessionContext(options, options.sessionId ?? randomUUID())
    let sandbox: Sandbox
    try {
      sandbox = await context.createSandbox()
    } catch (error) {
      throw toE2BError(error, 'Creating an E2B sandbox')
    }
    const session = new E2BSession(context, sandbox)
    try {
      await session.start()
    } catch (error) {
      await session.dispose()
      throw toE2BError(error, 'Starting the session')
    }
    return session
  }

  /**
   * Connects to a sandbox an earlier session created (found with `session.sandboxId`, or by its
   * metadata), e.g. after the host restarted. When that session's harness still runs (same
   * airlock version and `memoryMb`), it keeps its JavaScript state and `session.reattached` is
   * true; otherwise a fresh harness starts with `options.variables`. Files and installed packages
   * survive either way. Disposing the session kills the sandbox.
   *
   * @throws E2BSandboxNotFoundError when the sandbox does not exist or was not made by airlock.
   *
   * @example
   * const session = await executor.connectSession(savedSandboxId, { tools: [weather] })
   */
  async connectSession(sandboxId: string, options: SessionOptions = {}): Promise<E2BSession> {
    const client = this.#client()
    let sandbox: Sandbox
    let metadata: Record<string, string>
    const ttl = this.#settings.sandboxTimeoutMs ?? DEFAULT_SANDBOX_TIMEOUT_MS
    try {
      sandbox = await client.Sandbox.connect(sandboxId, { timeoutMs: ttl })
      metadata = (await sandbox.getInfo()).metadata
    } catch (error) {
      if (isNotFoundError(error)) {
        throw new E2BSandboxNotFoundError(
          sandboxId,
          `There is no E2B sandbox ${sandboxId} to connect to: it was killed or its lifetime ended. Create a new session.`,
          { cause: error },
        )
      }
      throw toE2BError(error, `Connecting to the E2B sandbox ${sandboxId}`)
    }
    if (metadata[AIRLOCK_METADATA.marker] !== '1') {
      throw new E2BSandboxNotFoundError(
        sandboxId,
        `The E2B sandbox ${sandboxId} was not created by airlock (its metadata has no airlock: "1"); connectSession only takes over airlock sandboxes.`,
      )
    }
    const sessionId = options.sessionId ?? metadata[AIRLOCK_METADATA.session] ?? randomUUID()
    return await this.#adopt(this.#sessionContext(options, sessionId), sandbox)
  }

  async #adopt(context: E2BSessionContext, sandbox: Sandbox): Promise<E2BSession> {
    const { hash } = await loadHarnessSource()
    const wanted = harnessCommand(hash, context.limits.memoryMb)
    let processes: { pid: number; cmd: string; args: string[] }[] = []
    try {
      processes = await sandbox.commands.list()
    } catch (error) {
      throw toE2BError(error, `Listing the processes of the E2B sandbox ${sandbox.sandboxId}`)
    }
    const harnesses = processes.filter((process) =>
      [process.cmd, ...process.args].join(' ').includes('.airlock/harness-'),
    )
    const matching = harnesses.find((process) => process.args.includes(wanted))
    // Harnesses of another version or with other limits cannot serve this session.
    await Promise.all(
      harnesses
        .filter((process) => process !== matching)
        .map((process) => sandbox.commands.kill(process.pid).catch(() => false)),
    )
    const session = new E2BSession(context, sandbox)
    try {
      await session.start(matching === undefined ? {} : { attachTo: matching.pid })
    } catch (error) {
      // The sandbox and its files are what the caller came back for: let go of it, do not kill it.
      session.release()
      throw toE2BError(error, `Starting a session in the E2B sandbox ${sandbox.sandboxId}`)
    }
    return session
  }

  #client(): E2B {
    const { apiKey = process.env.E2B_API_KEY, domain, apiUrl, sandboxUrl, requestTimeoutMs } = this.#settings
    return createE2BClient({
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(domain === undefined ? {} : { domain }),
      ...(apiUrl === undefined ? {} : { apiUrl }),
      ...(sandboxUrl === undefined ? {} : { sandboxUrl }),
      ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
    })
  }

  #sessionContext(options: SessionOptions, id: string): E2BSessionContext {
    const client = this.#client()
    const tools = [...(options.tools ?? [])]
    checkTools(tools)
    const limits = resolveLimits(options.limits)
    const variables = copySessionVariables(options.variables)
    const {
      template = DEFAULT_TEMPLATE,
      sandboxTimeoutMs = DEFAULT_SANDBOX_TIMEOUT_MS,
      metadata = {},
      workdir = DEFAULT_WORKDIR,
      requestTimeoutMs,
    } = this.#settings
    return {
      id,
      tools,
      allowedModules: [...(options.allowedModules ?? [])],
      limits,
      variables,
      workdir,
      sandboxTimeoutMs,
      requestTimeoutMs,
      createSandbox: () =>
        client.Sandbox.create(template, {
          timeoutMs: sandboxTimeoutMs,
          metadata: { ...metadata, [AIRLOCK_METADATA.marker]: '1', [AIRLOCK_METADATA.session]: id },
        }),
    }
  }
}

/**
 * An E2B client bound to these settings, never in the SDK's debug mode (which skips the control
 * plane). Reads `E2B_API_KEY` only through the caller.
 *
 * @throws E2BConfigurationError without an API key.
 */
export function createE2BClient(settings: E2BConnectionSettings): E2B {
  const { apiKey, domain, apiUrl, sandboxUrl, requestTimeoutMs } = settings
  if (apiKey === undefined || apiKey === '') {
    throw new E2BConfigurationError(
      'No E2B API key: pass apiKey to createE2BExecutor() or set the E2B_API_KEY environment variable. Keys are listed at https://e2b.dev/dashboard?tab=keys.',
    )
  }
  return new E2B({
    apiKey,
    debug: false,
    ...(domain === undefined ? {} : { domain }),
    ...(apiUrl === undefined ? {} : { apiUrl }),
    ...(sandboxUrl === undefined ? {} : { sandboxUrl }),
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
  })
}

function checkTools(tools: readonly Tool[]): void {
  assertUniqueToolNames(tools)
  for (const tool of tools) {
    if (!identifier.test(tool.name) || tool.name.startsWith('__airlock')) {
      throw new InvalidDefinitionError(
        `Tool name ${JSON.stringify(tool.name)} cannot be a global in the sandbox; define tools with defineTool().`,
      )
    }
  }
}
