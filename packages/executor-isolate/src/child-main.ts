// Entry of a sandbox child process (`isolation: 'process'`): serves a SandboxHost over IPC.
import type { HostMessage, SandboxMessage } from './protocol.js'
import { SandboxHost } from './sandbox-host.js'

/** Started by the process pool with `node --no-node-snapshot`; exits when the parent goes away. */
export function serveParent(): void {
  const send = (message: SandboxMessage) => {
    if (process.connected) process.send!(message)
  }
  const host = new SandboxHost(send, {
    // A fatal V8 out-of-memory error cannot be contained: tell the parent, then die at once
    // (process.exit would hang behind the broken isolate).
    onCatastrophicError: (message) => {
      setTimeout(() => process.abort(), 500)
      try {
        process.send!({ type: 'fatal', message } satisfies SandboxMessage, () => process.abort())
      } catch {
        process.abort()
      }
    },
  })
  process.on('message', (message: HostMessage) => host.receive(message))
  process.on('disconnect', () => {
    host.closeAll()
    process.exit(0)
  })
  send({ type: 'ready' })
}
