import { Interpreter } from './interpreter.js'
import { warmUp } from './warm-up.js'

/**
 * The interpreter (and realm) of the next session in the main thread, built ahead when the event
 * loop was idle. One for the whole process, whichever executor made the session before.
 */
let spare: Interpreter | undefined
let scheduled = false

/**
 * The interpreter of a new session: the spare when one is ready, else a new one. Then the next
 * spare is built once the event loop is idle, and warmed up: creating a realm and its guards takes
 * about 0.6 ms (half of it V8 making a context), and the first run in a cold realm is about 1 ms
 * slower; a session created later skips both. No sandbox code runs in the spare before a session
 * takes it, only the warm-up (`warm-up.ts`), which leaves nothing visible behind.
 */
export function takeInterpreter(): Interpreter {
  const interpreter = spare ?? new Interpreter()
  spare = undefined
  if (!scheduled) {
    scheduled = true
    setImmediate(buildSpare).unref()
  }
  return interpreter
}

function buildSpare(): void {
  scheduled = false
  if (spare !== undefined) return
  try {
    const built = new Interpreter()
    warmUp(built)
    spare = built
  } catch {
    // The next session builds its own realm, and reports what fails.
  }
}
