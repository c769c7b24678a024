import { readFileSync, realpathSync } from 'node:fs'
import { createRequire, isBuiltin } from 'node:module'
import path from 'node:path'
import type { Interpreter } from './interpreter.js'
import type { Value } from './realm.js'

/**
 * Loads allowlisted CommonJS packages INSIDE the interpreter: the package's files are read by the
 * host and evaluated as interpreted code in the session's realm, never by the host's module
 * loader. A package may `require` its own files and other allowlisted packages, nothing else
 * (no Node built-ins, no paths outside the package).
 */
export class ModuleLoader {
  readonly #interpreter: Interpreter
  readonly #allowed: ReadonlySet<string>
  readonly #resolveFrom: string
  /** Module records by resolved file, per session: a package is evaluated once per session. */
  readonly #cache = new Map<string, Value>()

  constructor(interpreter: Interpreter, allowed: readonly string[], resolveFrom: string) {
    this.#interpreter = interpreter
    this.#allowed = new Set(allowed)
    this.#resolveFrom = resolveFrom
  }

  /** `module.exports` of an allowlisted package (the caller has checked the allowlist). */
  loadPackage(name: string): Value {
    let file: string
    try {
      file = realpathSync(createRequire(path.join(this.#resolveFrom, 'noop.js')).resolve(name))
    } catch {
      throw new ModuleError(
        `Module "${name}" is on the allowlist but is not installed where the host can find it.`,
      )
    }
    const root = packageRoot(file)
    return this.#load(file, root)
  }

  #load(file: string, root: string): Value {
    const cached = this.#cache.get(file)
    if (cached !== undefined) return cached.exports
    const engine = this.#interpreter.engine
    const { helpers, factories } = engine.realm
    if (file.endsWith('.mjs') || (file.endsWith('.js') && packageType(root) === 'module')) {
      throw new ModuleError(
        `${path.basename(root)} is an ES module package; the local executor loads CommonJS packages only.`,
      )
    }
    const text = readFileSync(file, 'utf8')
    const module = helpers.newObject()
    const setExports = (value: Value) =>
      Object.defineProperty(module, 'exports', {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      })
    setExports(helpers.newObject())
    this.#cache.set(file, module)
    if (file.endsWith('.json')) {
      setExports(engine.global.JSON.parse(text))
      return module.exports
    }
    const require = factories.method((_self: Value, args: Value[]) => {
      const specifier = String(args[0])
      if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/')) {
        const target = resolveFile(path.resolve(path.dirname(file), specifier))
        if (target === undefined || !target.startsWith(root + path.sep)) {
          throw engine.error('Error', `Cannot find module '${specifier}' inside ${path.basename(root)}`)
        }
        return this.#load(target, root)
      }
      if (isBuiltin(specifier)) {
        throw engine.error(
          'Error',
          `The package requires the Node built-in "${specifier}", which the sandbox does not provide.`,
        )
      }
      if (!this.#allowed.has(specifier)) {
        throw engine.error('Error', `The package requires "${specifier}", which is not on the allowlist.`)
      }
      return this.loadPackage(specifier)
    })
    engine.setName(require, 'require')
    const wrapper = this.#interpreter
      .compile(`(function (exports, require, module, __filename, __dirname) {${text}\n})`, {
        mode: 'script',
        topLevelAwait: false,
      })
      .run()
    const relative = path.relative(path.dirname(root), file)
    try {
      engine.callFunction(wrapper, module.exports, [
        module.exports,
        require,
        module,
        `/${relative}`,
        `/${path.dirname(relative)}`,
      ])
    } catch (error) {
      // A module that failed to evaluate is not cached: the next require tries again.
      this.#cache.delete(file)
      throw error
    }
    return module.exports
  }
}

export class ModuleError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ModuleError'
  }
}

function resolveFile(base: string): string | undefined {
  for (const candidate of [base, `${base}.js`, `${base}.json`, path.join(base, 'index.js')]) {
    try {
      const real = realpathSync(candidate)
      if (!real.endsWith(path.sep) && readFileSync(real)) return real
    } catch {
      // Try the next candidate.
    }
  }
  return undefined
}

function packageRoot(file: string): string {
  let dir = path.dirname(file)
  for (;;) {
    try {
      readFileSync(path.join(dir, 'package.json'))
      return dir
    } catch {
      const parent = path.dirname(dir)
      if (parent === dir) return path.dirname(file)
      dir = parent
    }
  }
}

function packageType(root: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { type?: string }).type
  } catch {
    return undefined
  }
}
