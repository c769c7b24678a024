// The fake code-interpreter's JavaScript kernel: one child `node` process per context, evaluating
// cells in its main context with vm.runInThisContext as E2B's IJavascript kernel does (state
// persists, a `const` declared twice throws, a returned promise is awaited, the result is
// util.inspect text with one pair of outer quotes stripped, `undefined` is hidden). Top-level
// await is approximated by re-running a cell that fails to parse because of it inside an async
// function. It runs test code unsandboxed on the CI host: trusted snippets only.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import type { ServerResponse } from 'node:http'

const KERNEL_SOURCE = String.raw`
const vm = require('node:vm')
const util = require('node:util')
let current
const send = (message) => process.stdout.write(JSON.stringify(message) + '\n')
const format = (args) => args.map((arg) => (typeof arg === 'string' ? arg : util.inspect(arg))).join(' ') + '\n'
const out = (...args) => send({ id: current, type: 'stdout', text: format(args) })
const err = (...args) => send({ id: current, type: 'stderr', text: format(args) })
globalThis.console = { log: out, info: out, debug: out, warn: err, error: err }
async function run(id, code) {
  current = id
  try {
    let value
    try {
      value = vm.runInThisContext(code, { filename: 'cell.js' })
    } catch (error) {
      if (!(error instanceof SyntaxError) || !/await/.test(error.message)) throw error
      value = vm.runInThisContext('(async () => {\n' + code + '\n})()', { filename: 'cell.js' })
    }
    value = await value
    if (value !== undefined) {
      let text = util.inspect(value)
      if (/^(['"]).*\1$/s.test(text)) text = text.slice(1, -1)
      send({ id, type: 'result', text })
    }
  } catch (error) {
    const name = error && typeof error === 'object' ? String(error.name) : 'Error'
    const value = error && typeof error === 'object' ? String(error.message) : String(error)
    const stack = error && typeof error === 'object' && typeof error.stack === 'string' ? error.stack : ''
    send({ id, type: 'error', name, value, traceback: stack.split('\n').join('') })
  }
  send({ id, type: 'done' })
}
let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => {
  input += chunk
  let newline
  while ((newline = input.indexOf('\n')) !== -1) {
    const line = input.slice(0, newline)
    input = input.slice(newline + 1)
    const { id, code } = JSON.parse(line)
    void run(id, code)
  }
})
`

interface KernelMessage {
  readonly id: number
  readonly type: 'stdout' | 'stderr' | 'result' | 'error' | 'done'
  readonly text?: string
  readonly name?: string
  readonly value?: string
  readonly traceback?: string
}

export interface FakeKernelOptions {
  readonly id: string
  readonly language: string
  readonly isDefault: boolean
  /** The context's working directory in the sandbox, and where that is on the host. */
  readonly cwd: string
  readonly hostCwd: string
  readonly nodePath: string
}

export class FakeKernel {
  readonly id: string
  readonly language: string
  readonly isDefault: boolean
  readonly #options: FakeKernelOptions
  #child: ChildProcessWithoutNullStreams | undefined
  #input = ''
  #executions = 0
  #nextId = 1
  #queue: Promise<unknown> = Promise.resolve()
  readonly #listeners = new Map<number, (message: KernelMessage) => void>()

  constructor(options: FakeKernelOptions) {
    this.#options = options
    this.id = options.id
    this.language = options.language
    this.isDefault = options.isDefault
  }

  describe(): { id: string; language: string; cwd: string } {
    return { id: this.id, language: this.language, cwd: this.#options.cwd }
  }

  /** Runs one cell, writing E2B's NDJSON lines; executions on one context are serialized. */
  execute(code: string, write: (line: string) => void, response: ServerResponse): Promise<void> {
    const task = this.#queue.then(() => this.#execute(code, write, response))
    this.#queue = task.catch(() => {})
    return task
  }

  restart(): void {
    this.close()
  }

  close(): void {
    this.#child?.kill('SIGKILL')
    this.#child = undefined
    this.#input = ''
    for (const listener of this.#listeners.values()) listener({ id: 0, type: 'done' })
    this.#listeners.clear()
  }

  #execute(code: string, write: (line: string) => void, response: ServerResponse): Promise<void> {
    const line = (payload: unknown) => write(JSON.stringify(payload))
    const timestamp = () => new Date().toISOString()
    if (this.language !== 'javascript' && this.language !== 'typescript') {
      line({ type: 'number_of_executions', execution_count: ++this.#executions })
      line({
        type: 'error',
        name: 'NotImplementedError',
        value: `the fake code interpreter only runs JavaScript, not ${this.language}`,
        traceback: '',
      })
      line({ type: 'end_of_execution' })
      return Promise.resolve()
    }
    const child = this.#spawn()
    const id = this.#nextId++
    line({ type: 'number_of_executions', execution_count: ++this.#executions })
    return new Promise<void>((resolve) => {
      let errored = false
      // A client that goes away interrupts the cell; for JavaScript that means a restart.
      const onClose = () => {
        if (!this.#listeners.has(id)) return
        this.#listeners.delete(id)
        this.restart()
        resolve()
      }
      response.on('close', onClose)
      this.#listeners.set(id, (message) => {
        switch (message.type) {
          case 'stdout':
          case 'stderr':
            line({ type: message.type, text: message.text, timestamp: timestamp() })
            return
          case 'result':
            line({ type: 'result', is_main_result: true, text: message.text, extra: {} })
            return
          case 'error':
            if (errored) return
            errored = true
            line({ type: 'error', name: message.name, value: message.value, traceback: message.traceback })
            return
          case 'done':
            this.#listeners.delete(id)
            response.off('close', onClose)
            line({ type: 'end_of_execution' })
            resolve()
        }
      })
      child.stdin.write(`${JSON.stringify({ id, code })}\n`)
    })
  }

  #spawn(): ChildProcessWithoutNullStreams {
    if (this.#child !== undefined) return this.#child
    const child = spawn(this.#options.nodePath, ['-e', KERNEL_SOURCE], { cwd: this.#options.hostCwd })
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      this.#input += chunk
      let newline = this.#input.indexOf('\n')
      while (newline !== -1) {
        const message = JSON.parse(this.#input.slice(0, newline)) as KernelMessage
        this.#input = this.#input.slice(newline + 1)
        this.#listeners.get(message.id)?.(message)
        newline = this.#input.indexOf('\n')
      }
    })
    child.stdin.on('error', () => {})
    child.on('exit', () => {
      if (this.#child === child) this.#child = undefined
    })
    this.#child = child
    return child
  }
}
