// A protocol-level fake of E2B for offline tests: the control plane (sandboxes), envd (processes
// over the Connect protocol, files, health) and the code-interpreter server (`/execute` with an
// emulated JavaScript kernel), on one HTTP server at 127.0.0.1:0. The real, pinned SDK talks to
// it in control-plane mode (`apiUrl` and `sandboxUrl` set to its URL); requests to a sandbox are
// routed by the `E2b-Sandbox-Id` / `E2b-Sandbox-Port` headers, as E2B's own proxy does.
//
// Sandboxes are directories under a temporary root; their processes are real child processes of
// the test run (`bash -c`), so only trusted test code may ever run here. Every request is
// recorded, routes the fake does not know are recorded too (tests assert there were none, so an
// SDK that moves a route fails loudly), and faults can be injected per route.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { RunOutcome } from '@airlock/core'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { FakeKernel } from './fake-kernel.js'

export interface FakeE2BOptions {
  /** The API key the control plane accepts. Default `e2b_test_key`. */
  readonly apiKey?: string
  /** Files baked into templates: template name → sandbox path → content. */
  readonly templates?: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** Environment of a template's processes, over the fake's own (e.g. a PATH without node). */
  readonly templateEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>
}

/** One request as the fake received it, with its payloads decoded for greps. */
export interface RecordedRequest {
  readonly method: string
  /** Path without the query string. */
  readonly path: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** Decoded payloads: envelope JSON, stdin bytes, uploaded files. */
  readonly decoded: readonly string[]
  readonly sandboxId: string | undefined
}

/** A fault for the next `times` requests matching `route` ("POST /process.Process/SendInput"). */
export interface Fault {
  readonly route: string
  readonly times?: number
  /** Only requests to this sandbox. */
  readonly sandboxId?: string
  /** Answer with this status and JSON body instead of handling the request. */
  readonly status?: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
  /** Wait this long before handling (or answering with `status`). */
  readonly delayMs?: number
  /** Destroy the connection instead of answering. */
  readonly drop?: boolean
}

interface StreamSubscriber {
  readonly response: ServerResponse
  send(event: unknown): void
  end(error?: { code: string; message: string }): void
}

interface FakeProcess {
  readonly pid: number
  readonly child: ChildProcessWithoutNullStreams
  readonly cmd: string
  readonly args: readonly string[]
  readonly envs: Readonly<Record<string, string>>
  readonly cwd: string
  readonly subscribers: Set<StreamSubscriber>
  exited: boolean
}

export interface FakeSandbox {
  readonly id: string
  readonly templateId: string
  readonly metadata: Readonly<Record<string, string>>
  readonly envVars: Readonly<Record<string, string>>
  readonly accessToken: string
  readonly root: string
  readonly startedAt: Date
  endAt: Date
  alive: boolean
  /** The `timeout` (seconds) of every create, connect and setTimeout request, in order. */
  readonly timeouts: number[]
  readonly processes: Map<number, FakeProcess>
  readonly kernels: Map<string, FakeKernel>
  ttlTimer: ReturnType<typeof setTimeout> | undefined
}

const ENVD_PORT = '49983'
const CODE_INTERPRETER_PORT = '49999'
const ENVD_VERSION = '0.5.7'

function envelope(flags: number, payload: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(payload))
  const header = Buffer.alloc(5)
  header[0] = flags
  header.writeUInt32BE(json.length, 1)
  return Buffer.concat([header, json])
}

function readEnvelopes(body: Buffer): unknown[] {
  const messages: unknown[] = []
  let offset = 0
  while (offset + 5 <= body.length) {
    const length = body.readUInt32BE(offset + 1)
    messages.push(JSON.parse(body.subarray(offset + 5, offset + 5 + length).toString('utf8')))
    offset += 5 + length
  }
  return messages
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class FakeE2B {
  readonly apiKey: string
  readonly requests: RecordedRequest[] = []
  /** `METHOD /path` of every request no route handled. */
  readonly unknownRoutes: string[] = []
  readonly sandboxes = new Map<string, FakeSandbox>()
  /** Output the fake sent back (process output, file reads, execution results), decoded. */
  readonly responses: string[] = []
  readonly #server: Server
  readonly #root: string
  readonly #templates: Readonly<Record<string, Readonly<Record<string, string>>>>
  readonly #templateEnv: Readonly<Record<string, Readonly<Record<string, string>>>>
  #faults: (Fault & { remaining: number })[] = []
  #url = ''

  constructor(options: FakeE2BOptions = {}) {
    this.apiKey = options.apiKey ?? 'e2b_test_key'
    this.#templates = options.templates ?? {}
    this.#templateEnv = options.templateEnv ?? {}
    this.#root = mkdtempSync(path.join(tmpdir(), 'fake-e2b-'))
    this.#server = createServer((request, response) => {
      void this.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'text/plain' })
          response.end(`fake E2B failed: ${String(error)}`)
        } else {
          response.destroy()
        }
      })
    })
  }

  /** Starts answering on a free port of 127.0.0.1. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    const { port } = this.#server.address() as AddressInfo
    this.#url = `http://127.0.0.1:${port}`
  }

  get url(): string {
    return this.#url
  }

  /** Connection settings for the SDK (and the executor) in control-plane mode against this fake. */
  get connection(): { apiKey: string; apiUrl: string; sandboxUrl: string } {
    return { apiKey: this.apiKey, apiUrl: this.#url, sandboxUrl: this.#url }
  }

  inject(fault: Fault): void {
    this.#faults.push({ ...fault, remaining: fault.times ?? 1 })
  }

  clearFaults(): void {
    this.#faults = []
  }

  /** Breaks every open process stream (of one sandbox, or all) as a flaky network would. */
  dropStreams(sandboxId?: string): number {
    let dropped = 0
    for (const sandbox of this.sandboxes.values()) {
      if (sandboxId !== undefined && sandbox.id !== sandboxId) continue
      for (const process of sandbox.processes.values()) {
        for (const subscriber of process.subscribers) {
          subscriber.response.destroy()
          dropped++
        }
        process.subscribers.clear()
      }
    }
    return dropped
  }

  /** Ends a sandbox's lifetime now, as its TTL would. */
  expire(sandboxId: string): void {
    const sandbox = this.sandboxes.get(sandboxId)
    if (sandbox !== undefined) this.#terminate(sandbox)
  }

  /** Sandboxes still alive. */
  get alive(): FakeSandbox[] {
    return [...this.sandboxes.values()].filter((sandbox) => sandbox.alive)
  }

  /** Child processes still running, across all sandboxes. */
  get runningProcesses(): number {
    let count = 0
    for (const sandbox of this.sandboxes.values()) {
      for (const process of sandbox.processes.values()) if (!process.exited) count++
    }
    return count
  }

  /** Everything exchanged with the fake, decoded, as one text to search. */
  transcript(): string {
    const parts: string[] = []
    for (const request of this.requests) {
      parts.push(
        `${request.method} ${request.url}`,
        JSON.stringify(request.headers),
        request.body,
        ...request.decoded,
      )
    }
    parts.push(...this.responses)
    return parts.join('\n')
  }

  async close(): Promise<void> {
    for (const sandbox of this.sandboxes.values()) this.#terminate(sandbox)
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
    rmSync(this.#root, { recursive: true, force: true })
  }

  // ---- dispatch ----------------------------------------------------------------------------------

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const url = new URL(request.url ?? '/', this.#url)
    const headers: Record<string, string> = {}
    for (const [key, value] of Object.entries(request.headers)) {
      if (typeof value === 'string') headers[key] = value
      else if (Array.isArray(value)) headers[key] = value.join(', ')
    }
    const sandboxId = headers['e2b-sandbox-id']
    const decoded: string[] = []
    this.requests.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      url: url.pathname + url.search,
      headers,
      body: body.toString('utf8'),
      decoded,
      sandboxId,
    })
    const route = `${request.method} ${url.pathname}`

    const fault = this.#takeFault(route, sandboxId)
    if (fault?.delayMs !== undefined) await sleep(fault.delayMs)
    if (fault?.drop) {
      request.socket.destroy()
      return
    }
    if (fault?.status !== undefined) {
      response.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
      response.end(JSON.stringify(fault.body ?? { code: fault.status, message: `injected ${fault.status}` }))
      return
    }

    const context: RequestContext = { request, response, url, headers, body, decoded }
    const handled =
      sandboxId === undefined
        ? this.#controlPlane(route, context)
        : headers['e2b-sandbox-port'] === CODE_INTERPRETER_PORT
          ? await this.#codeInterpreter(route, sandboxId, context)
          : headers['e2b-sandbox-port'] === ENVD_PORT
            ? await this.#envd(route, sandboxId, context)
            : false
    if (!handled) {
      this.unknownRoutes.push(
        `${route}${sandboxId === undefined ? '' : ` (port ${headers['e2b-sandbox-port']})`}`,
      )
      json(response, 404, { code: 404, message: `fake E2B does not know ${route}` })
    }
  }

  #takeFault(route: string, sandboxId: string | undefined): Fault | undefined {
    const index = this.#faults.findIndex(
      (fault) => fault.route === route && (fault.sandboxId === undefined || fault.sandboxId === sandboxId),
    )
    if (index === -1) return undefined
    const fault = this.#faults[index]!
    fault.remaining--
    if (fault.remaining <= 0) this.#faults.splice(index, 1)
    return fault
  }

  // ---- control plane -----------------------------------------------------------------------------

  #controlPlane(route: string, { response, url, headers, body }: RequestContext): boolean {
    if (headers['x-api-key'] !== this.apiKey) {
      json(response, 401, { code: 401, message: 'Invalid API key' })
      return true
    }
    const parsed = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>)
    let match: RegExpExecArray | null
    if (route === 'POST /v2/sandboxes' || route === 'POST /sandboxes') {
      const sandbox = this.#create(parsed)
      json(response, 201, this.#sandboxResponse(sandbox))
      return true
    }
    if (route === 'GET /v2/sandboxes') {
      const wanted = parseMetadataQuery(url.searchParams.get('metadata'))
      const listed = this.alive
        .filter((sandbox) => Object.entries(wanted).every(([key, value]) => sandbox.metadata[key] === value))
        .map((sandbox) => this.#sandboxInfo(sandbox))
      json(response, 200, listed)
      return true
    }
    if ((match = /^POST \/(?:v2\/)?sandboxes\/([^/]+)\/connect$/.exec(route))) {
      const sandbox = this.sandboxes.get(match[1]!)
      if (sandbox === undefined || !sandbox.alive) {
        json(response, 404, { code: 404, message: `sandbox ${match[1]} not found` })
        return true
      }
      if (typeof parsed.timeout === 'number') this.#extend(sandbox, parsed.timeout, true)
      json(response, 200, this.#sandboxResponse(sandbox))
      return true
    }
    if ((match = /^GET \/sandboxes\/([^/]+)$/.exec(route))) {
      const sandbox = this.sandboxes.get(match[1]!)
      if (sandbox === undefined || !sandbox.alive) {
        json(response, 404, { code: 404, message: `sandbox ${match[1]} not found` })
        return true
      }
      json(response, 200, this.#sandboxInfo(sandbox))
      return true
    }
    if ((match = /^DELETE \/sandboxes\/([^/]+)$/.exec(route))) {
      const sandbox = this.sandboxes.get(match[1]!)
      if (sandbox === undefined || !sandbox.alive) {
        json(response, 404, { code: 404, message: `sandbox ${match[1]} not found` })
        return true
      }
      this.#terminate(sandbox)
      response.writeHead(204).end()
      return true
    }
    if ((match = /^POST \/sandboxes\/([^/]+)\/timeout$/.exec(route))) {
      const sandbox = this.sandboxes.get(match[1]!)
      if (sandbox === undefined || !sandbox.alive) {
        json(response, 404, { code: 404, message: `sandbox ${match[1]} not found` })
        return true
      }
      this.#extend(sandbox, Number(parsed.timeout), false)
      response.writeHead(204).end()
      return true
    }
    return false
  }

  #create(body: Record<string, unknown>): FakeSandbox {
    const id = `fake${randomBytes(6).toString('hex')}`
    const root = path.join(this.#root, id)
    mkdirSync(path.join(root, 'home/user'), { recursive: true })
    mkdirSync(path.join(root, 'tmp'), { recursive: true })
    const templateId = typeof body.templateID === 'string' ? body.templateID : 'base'
    for (const [file, content] of Object.entries(this.#templates[templateId] ?? {})) {
      const target = mapPath(root, file)
      mkdirSync(path.dirname(target), { recursive: true })
      writeFileSync(target, content)
    }
    const timeout = typeof body.timeout === 'number' ? body.timeout : 300
    const sandbox: FakeSandbox = {
      id,
      templateId,
      metadata: (body.metadata as Record<string, string> | undefined) ?? {},
      envVars: (body.envVars as Record<string, string> | undefined) ?? {},
      accessToken: randomBytes(16).toString('hex'),
      root,
      startedAt: new Date(),
      endAt: new Date(),
      alive: true,
      timeouts: [],
      processes: new Map(),
      kernels: new Map(),
      ttlTimer: undefined,
    }
    this.sandboxes.set(id, sandbox)
    this.#extend(sandbox, timeout, false)
    return sandbox
  }

  #extend(sandbox: FakeSandbox, seconds: number, onlyLonger: boolean): void {
    sandbox.timeouts.push(seconds)
    const endAt = Date.now() + seconds * 1000
    if (onlyLonger && endAt <= sandbox.endAt.getTime()) return
    sandbox.endAt = new Date(endAt)
    clearTimeout(sandbox.ttlTimer)
    sandbox.ttlTimer = setTimeout(() => this.#terminate(sandbox), seconds * 1000)
    sandbox.ttlTimer.unref()
  }

  #terminate(sandbox: FakeSandbox): void {
    if (!sandbox.alive) return
    sandbox.alive = false
    clearTimeout(sandbox.ttlTimer)
    for (const process of sandbox.processes.values()) {
      // The VM vanishes: streams break without an end event.
      for (const subscriber of process.subscribers) subscriber.response.destroy()
      process.subscribers.clear()
      killGroup(process)
    }
    for (const kernel of sandbox.kernels.values()) kernel.close()
    sandbox.kernels.clear()
  }

  #sandboxResponse(sandbox: FakeSandbox): unknown {
    return {
      templateID: sandbox.templateId,
      sandboxID: sandbox.id,
      clientID: 'fake-client',
      envdVersion: ENVD_VERSION,
      envdAccessToken: sandbox.accessToken,
      trafficAccessToken: null,
      domain: null,
    }
  }

  #sandboxInfo(sandbox: FakeSandbox): unknown {
    return {
      templateID: sandbox.templateId,
      sandboxID: sandbox.id,
      clientID: 'fake-client',
      startedAt: sandbox.startedAt.toISOString(),
      endAt: sandbox.endAt.toISOString(),
      state: 'running',
      cpuCount: 2,
      memoryMB: 512,
      diskSizeMB: 1024,
      envdVersion: ENVD_VERSION,
      metadata: sandbox.metadata,
    }
  }

  /** The sandbox a sandbox-port request is for, or an answer saying why there is none. */
  #sandboxFor(
    sandboxId: string,
    { response, headers }: RequestContext,
    checkToken: boolean,
  ): FakeSandbox | undefined {
    const sandbox = this.sandboxes.get(sandboxId)
    if (sandbox === undefined || !sandbox.alive) {
      // E2B's proxy answers 502 for a sandbox that is not running.
      json(response, 502, { code: 502, message: `The sandbox ${sandboxId} was not found` })
      return undefined
    }
    if (checkToken && headers['x-access-token'] !== sandbox.accessToken) {
      json(response, 401, { code: 'unauthenticated', message: 'invalid access token' })
      return undefined
    }
    return sandbox
  }

  // ---- envd --------------------------------------------------------------------------------------

  async #envd(route: string, sandboxId: string, context: RequestContext): Promise<boolean> {
    const known = [
      'GET /health',
      'GET /envs',
      'GET /files',
      'POST /files',
      'POST /process.Process/Start',
      'POST /process.Process/Connect',
      'POST /process.Process/SendInput',
      'POST /process.Process/CloseStdin',
      'POST /process.Process/SendSignal',
      'POST /process.Process/List',
    ]
    if (!known.includes(route)) return false
    const sandbox = this.#sandboxFor(sandboxId, context, route !== 'GET /health')
    if (sandbox === undefined) return true
    const { response, body, url, decoded } = context
    switch (route) {
      case 'GET /health':
        response.writeHead(204).end()
        return true
      case 'GET /envs':
        json(response, 200, sandbox.envVars)
        return true
      case 'GET /files': {
        const file = url.searchParams.get('path') ?? ''
        let content: Buffer
        try {
          content = readFileSync(mapPath(sandbox.root, file))
        } catch {
          json(response, 404, { code: 404, message: `path '${file}' does not exist` })
          return true
        }
        this.responses.push(content.toString('utf8'))
        response.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': content.length,
        })
        response.end(content)
        return true
      }
      case 'POST /files':
        await this.#writeFiles(sandbox, context)
        return true
      case 'POST /process.Process/Start': {
        const [message] = readEnvelopes(body) as [StartRequest]
        decoded.push(JSON.stringify(message))
        this.#startProcess(sandbox, message, context)
        return true
      }
      case 'POST /process.Process/Connect': {
        const [message] = readEnvelopes(body) as [{ process: { pid: number } }]
        decoded.push(JSON.stringify(message))
        const process = sandbox.processes.get(message.process.pid)
        if (process === undefined || process.exited) {
          json(response, 404, {
            code: 'not_found',
            message: `process with pid ${message.process.pid} not found`,
          })
          return true
        }
        const subscriber = this.#openStream(response)
        process.subscribers.add(subscriber)
        response.on('close', () => process.subscribers.delete(subscriber))
        subscriber.send({ event: { start: { pid: process.pid } } })
        return true
      }
      case 'POST /process.Process/SendInput': {
        const message = JSON.parse(body.toString('utf8')) as {
          process: { pid: number }
          input: { stdin?: string }
        }
        const process = sandbox.processes.get(message.process.pid)
        if (process === undefined || process.exited) {
          json(response, 404, {
            code: 'not_found',
            message: `process with pid ${message.process.pid} not found`,
          })
          return true
        }
        const bytes = Buffer.from(message.input.stdin ?? '', 'base64')
        decoded.push(bytes.toString('utf8'))
        process.child.stdin.write(bytes)
        json(response, 200, {})
        return true
      }
      case 'POST /process.Process/CloseStdin': {
        const message = JSON.parse(body.toString('utf8')) as { process: { pid: number } }
        sandbox.processes.get(message.process.pid)?.child.stdin.end()
        json(response, 200, {})
        return true
      }
      case 'POST /process.Process/SendSignal': {
        const message = JSON.parse(body.toString('utf8')) as { process: { pid: number }; signal: string }
        const process = sandbox.processes.get(message.process.pid)
        if (process === undefined || process.exited) {
          json(response, 404, {
            code: 'not_found',
            message: `process with pid ${message.process.pid} not found`,
          })
          return true
        }
        killGroup(process, message.signal === 'SIGNAL_SIGTERM' ? 'SIGTERM' : 'SIGKILL')
        json(response, 200, {})
        return true
      }
      case 'POST /process.Process/List':
        json(response, 200, {
          processes: [...sandbox.processes.values()]
            .filter((process) => !process.exited)
            .map((process) => ({
              pid: process.pid,
              config: { cmd: process.cmd, args: process.args, envs: process.envs, cwd: process.cwd },
            })),
        })
        return true
    }
    return false
  }

  async #writeFiles(
    sandbox: FakeSandbox,
    { request, response, url, body, decoded }: RequestContext,
  ): Promise<void> {
    const contentType = request.headers['content-type'] ?? ''
    const written: { path: string; name: string; type: string }[] = []
    const save = (file: string, content: Buffer) => {
      const target = mapPath(sandbox.root, file)
      mkdirSync(path.dirname(target), { recursive: true })
      writeFileSync(target, content)
      decoded.push(content.toString('utf8'))
      written.push({ path: file, name: path.posix.basename(file), type: 'file' })
    }
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Request(url, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      }).formData()
      for (const entry of form.getAll('file')) {
        if (typeof entry === 'string') continue
        save(url.searchParams.get('path') ?? entry.name, Buffer.from(await entry.arrayBuffer()))
      }
    } else {
      save(url.searchParams.get('path') ?? '', body)
    }
    json(response, 200, written)
  }

  #openStream(response: ServerResponse): StreamSubscriber {
    response.writeHead(200, { 'content-type': 'application/connect+json' })
    response.flushHeaders()
    let ended = false
    return {
      response,
      send: (event) => {
        if (!ended && !response.destroyed) response.write(envelope(0, event))
      },
      end: (error) => {
        if (ended || response.destroyed) return
        ended = true
        response.end(envelope(2, error === undefined ? {} : { error }))
      },
    }
  }

  #startProcess(sandbox: FakeSandbox, message: StartRequest, { response, headers }: RequestContext): void {
    const { cmd, args = [], envs = {}, cwd } = message.process
    const workdir = mapPath(sandbox.root, cwd ?? '/home/user')
    mkdirSync(workdir, { recursive: true })
    // A login shell would read this machine's profile and reset PATH; the fake runs a plain one.
    const shellArgs = args.filter((arg) => arg !== '-l')
    const child = spawn(cmd, shellArgs, {
      cwd: workdir,
      detached: true,
      env: {
        PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        HOME: mapPath(sandbox.root, '/home/user'),
        E2B_SANDBOX: 'true',
        E2B_SANDBOX_ID: sandbox.id,
        ...this.#templateEnv[sandbox.templateId],
        ...sandbox.envVars,
        ...envs,
      },
    })
    if (!message.stdin) child.stdin.end()
    const fakeProcess: FakeProcess = {
      pid: child.pid!,
      child,
      cmd,
      args,
      envs,
      cwd: cwd ?? '/home/user',
      subscribers: new Set(),
      exited: false,
    }
    sandbox.processes.set(fakeProcess.pid, fakeProcess)
    const subscriber = this.#openStream(response)
    fakeProcess.subscribers.add(subscriber)
    response.on('close', () => fakeProcess.subscribers.delete(subscriber))
    subscriber.send({ event: { start: { pid: fakeProcess.pid } } })

    const broadcast = (event: unknown) => {
      for (const each of fakeProcess.subscribers) each.send(event)
    }
    child.stdout.on('data', (chunk: Buffer) => {
      this.responses.push(chunk.toString('utf8'))
      broadcast({ event: { data: { stdout: chunk.toString('base64') } } })
    })
    child.stderr.on('data', (chunk: Buffer) => {
      this.responses.push(chunk.toString('utf8'))
      broadcast({ event: { data: { stderr: chunk.toString('base64') } } })
    })
    child.stdin.on('error', () => {})
    child.on('exit', (code, signal) => {
      fakeProcess.exited = true
      const end =
        signal !== null
          ? {
              exitCode: -1,
              exited: false,
              status: `signal: ${signal === 'SIGKILL' ? 'killed' : signal.toLowerCase()}`,
              error: `signal: ${signal}`,
            }
          : code === 0
            ? { exited: true, status: 'exit status 0' }
            : { exitCode: code, exited: true, status: `exit status ${code}`, error: `exit status ${code}` }
      broadcast({ event: { end } })
      for (const each of fakeProcess.subscribers) each.end()
      fakeProcess.subscribers.clear()
    })
    const deadline = Number(headers['connect-timeout-ms'])
    if (Number.isFinite(deadline) && deadline > 0) {
      const timer = setTimeout(() => {
        if (fakeProcess.exited) return
        subscriber.end({ code: 'deadline_exceeded', message: 'context deadline exceeded' })
        killGroup(fakeProcess)
      }, deadline)
      child.on('exit', () => clearTimeout(timer))
    }
  }

  // ---- code interpreter --------------------------------------------------------------------------

  async #codeInterpreter(route: string, sandboxId: string, context: RequestContext): Promise<boolean> {
    const { response, body } = context
    let match: RegExpExecArray | null
    const known =
      route === 'POST /execute' ||
      route === 'GET /contexts' ||
      route === 'POST /contexts' ||
      route === 'GET /health' ||
      /^(DELETE \/contexts\/[^/]+|POST \/contexts\/[^/]+\/restart)$/.test(route)
    if (!known) return false
    const sandbox = this.#sandboxFor(sandboxId, context, route === 'POST /execute')
    if (sandbox === undefined) return true
    const parsed = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>)
    if (route === 'GET /health') {
      json(response, 200, 'OK')
      return true
    }
    if (route === 'POST /contexts') {
      const kernel = this.#kernel(sandbox, normalizeLanguage(parsed.language), undefined, parsed.cwd)
      json(response, 200, kernel.describe())
      return true
    }
    if (route === 'GET /contexts') {
      json(
        response,
        200,
        [...sandbox.kernels.values()].map((kernel) => kernel.describe()),
      )
      return true
    }
    if ((match = /^DELETE \/contexts\/([^/]+)$/.exec(route))) {
      const kernel = sandbox.kernels.get(match[1]!)
      if (kernel === undefined) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end(`Context ${match[1]} not found`)
        return true
      }
      kernel.close()
      sandbox.kernels.delete(kernel.id)
      json(response, 200, null)
      return true
    }
    if ((match = /^POST \/contexts\/([^/]+)\/restart$/.exec(route))) {
      const kernel = sandbox.kernels.get(match[1]!)
      if (kernel === undefined) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end(`Context ${match[1]} not found`)
        return true
      }
      kernel.restart()
      json(response, 200, null)
      return true
    }
    // POST /execute
    const {
      code,
      context_id: contextId,
      language,
    } = parsed as { code?: string; context_id?: string; language?: string }
    if (contextId !== undefined && language !== undefined) {
      response
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('Only one of context_id or language can be provided')
      return true
    }
    let kernel: FakeKernel | undefined
    if (contextId !== undefined) {
      kernel = sandbox.kernels.get(contextId)
      if (kernel === undefined) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end(`Context ${contextId} not found`)
        return true
      }
    } else {
      const normalized = normalizeLanguage(language)
      kernel = [...sandbox.kernels.values()].find((each) => each.isDefault && each.language === normalized)
      kernel ??= this.#kernel(sandbox, normalized, true, '/home/user')
    }
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    response.flushHeaders()
    await kernel.execute(
      typeof code === 'string' ? code : '',
      (line) => {
        this.responses.push(line)
        if (!response.destroyed) response.write(`${line}\n`)
      },
      response,
    )
    if (!response.destroyed) response.end()
    return true
  }

  #kernel(sandbox: FakeSandbox, language: string, isDefault: boolean | undefined, cwd: unknown): FakeKernel {
    const workdir = typeof cwd === 'string' ? cwd : '/home/user'
    const kernel = new FakeKernel({
      id: randomUUID(),
      language,
      isDefault: isDefault ?? false,
      cwd: workdir,
      hostCwd: mapPath(sandbox.root, workdir),
      nodePath: process.execPath,
    })
    sandbox.kernels.set(kernel.id, kernel)
    return kernel
  }
}

interface RequestContext {
  readonly request: IncomingMessage
  readonly response: ServerResponse
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
  readonly decoded: string[]
}

interface StartRequest {
  readonly process: {
    readonly cmd: string
    readonly args?: readonly string[]
    readonly envs?: Readonly<Record<string, string>>
    readonly cwd?: string
  }
  readonly stdin?: boolean
}

function json(response: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}

/** A sandbox path (absolute, or relative to the home) as a path under the sandbox's directory. */
function mapPath(root: string, file: string): string {
  const absolute = path.posix.resolve('/home/user', file)
  return path.join(root, absolute)
}

function killGroup(process: FakeProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (process.exited) return
  try {
    globalThis.process.kill(-process.pid, signal)
  } catch {
    process.child.kill(signal)
  }
}

function normalizeLanguage(language: unknown): string {
  const text = typeof language === 'string' ? language.trim().toLowerCase() : 'python'
  if (text === 'js') return 'javascript'
  if (text === 'ts') return 'typescript'
  return text === '' ? 'python' : text
}

/** `metadata=a%3D1%26b%3D2` as the SDK sends it (pairs URI-encoded, then form-encoded). */
function parseMetadataQuery(raw: string | null): Record<string, string> {
  const wanted: Record<string, string> = {}
  if (raw === null) return wanted
  for (const [key, value] of new URLSearchParams(raw))
    wanted[decodeURIComponent(key)] = decodeURIComponent(value)
  return wanted
}

/** Fails the current test when the SDK used a route the fake does not know. */
function assertNoUnknownRoutes(fake: FakeE2B): void {
  if (fake.unknownRoutes.length > 0) {
    throw new Error(
      `The SDK called routes the fake E2B does not know (did an SDK upgrade move them?): ${fake.unknownRoutes.join(', ')}`,
    )
  }
}

/** Fails when a sandbox or process outlived its session (killed processes get a moment to exit). */
async function assertNothingLeft(fake: FakeE2B): Promise<void> {
  for (let waited = 0; fake.runningProcesses > 0 && waited < 2_000; waited += 50) await sleep(50)
  const alive = fake.alive.map((sandbox) => sandbox.id)
  if (alive.length > 0 || fake.runningProcesses > 0) {
    throw new Error(
      `Sessions left ${alive.length} sandboxes (${alive.join(', ')}) and ${fake.runningProcesses} processes running.`,
    )
  }
}

/**
 * The fake of one test file: answering before its tests; after each test, fails if the SDK called a
 * route the fake does not know (an SDK upgrade moved one: the fake and the executor need a look);
 * after the last, fails if a sandbox or process outlived its session, then closes.
 */
export function useFakeE2B(options: FakeE2BOptions = {}): FakeE2B {
  const fake = new FakeE2B(options)
  beforeAll(() => fake.listen())
  afterEach(() => assertNoUnknownRoutes(fake))
  afterAll(async () => {
    try {
      await assertNothingLeft(fake)
    } finally {
      await fake.close()
    }
  })
  return fake
}

/** The value of a run that must have completed with one; anything else fails with what came instead. */
export function value(outcome: RunOutcome): unknown {
  if (outcome.type !== 'value') {
    throw new Error(
      `expected a value, got ${JSON.stringify(outcome.type === 'error' ? outcome.error : outcome)}`,
    )
  }
  return outcome.value
}
