import { createHash } from 'node:crypto'
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import path from 'node:path'
import type { ModuleInstance } from './compiler/compiler.js'
import type { Source } from './compiler/engine.js'
import { type Analysis, analyze, patternNames } from './compiler/scope-analysis.js'
import { CompileError, type Interpreter, lineColumn, parseCode } from './interpreter.js'
import type { Value } from './realm.js'

/**
 * Loads allowlisted packages INSIDE the interpreter: their files are read by the host and
 * evaluated as interpreted code in the session's realm, never by the host's module loader.
 * ES modules and CommonJS files may import their own files and their package's dependencies
 * (resolved as Node resolves them, from `node_modules`), never Node built-ins, native addons or
 * files outside their package.
 *
 * What a file compiles from (its parse, scope analysis and import/export record) is shared by
 * every session of the process (`parsedFiles`); each session compiles that against its own realm
 * and evaluates its own instance, so no two sessions share a module's state.
 */
export class ModuleLoader {
  readonly #interpreter: Interpreter
  readonly #resolveFrom: string
  /** This session's module instances by resolved file: each file is evaluated once per session. */
  readonly #modules = new Map<string, Loaded>()
  /** Files first loaded by the outermost load in progress, forgotten if it fails. */
  #fresh: string[] | undefined
  /** The package file each source text this session compiled belongs to (for `import()` in it). */
  readonly #packageFiles = new WeakMap<Source, Resolved>()

  constructor(interpreter: Interpreter, resolveFrom: string) {
    this.#interpreter = interpreter
    this.#resolveFrom = resolveFrom
  }

  /** The module namespace of an allowlisted package, for `import` (the caller checked the allowlist). */
  importPackage(name: string): Value {
    return this.#outermost(() => this.#namespace(this.#load(this.#resolve(name, undefined, 'import'))))
  }

  /** What `require` returns for an allowlisted package: `module.exports`, or an ES module's namespace. */
  requirePackage(name: string): Value {
    return this.#outermost(() => this.#required(this.#load(this.#resolve(name, undefined, 'require'))))
  }

  /** True when `source` is a package file this session loaded (not the code action). */
  isPackageCode(source: Source): boolean {
    return this.#packageFiles.has(source)
  }

  /** The namespace `import(specifier)` gives in package code: resolved from that file, no allowlist. */
  importFrom(source: Source, specifier: string): Value {
    const from = this.#packageFiles.get(source)!
    return this.#outermost(() => this.#namespace(this.#load(this.#resolve(specifier, from, 'import'))))
  }

  /**
   * A failed load (a syntax error, a refused import, an exception or a limit while evaluating)
   * leaves no module of it behind: the next attempt starts clean instead of seeing half-evaluated
   * modules.
   */
  #outermost(load: () => Value): Value {
    if (this.#fresh !== undefined) return load()
    const fresh: string[] = []
    this.#fresh = fresh
    try {
      return load()
    } catch (error) {
      for (const file of fresh) this.#modules.delete(file)
      throw error
    } finally {
      this.#fresh = undefined
    }
  }

  // ---- resolution --------------------------------------------------------------------------------

  #resolve(specifier: string, from: Resolved | undefined, condition: Condition): Resolved {
    if (from !== undefined && /^(\.\.?(\/|$)|\/)/.test(specifier)) {
      return packageFile(from, path.resolve(path.dirname(from.file), specifier), specifier)
    }
    if (from !== undefined && specifier.startsWith('#')) {
      const target = subpathTarget(readManifest(from.root).imports, specifier, condition)
      if (target?.startsWith('./')) return packageFile(from, path.join(from.root, target), specifier)
      if (target === undefined) {
        throw new ModuleError(
          `${from.packageName} imports "${specifier}", which its package.json "imports" does not map.`,
        )
      }
      return this.#resolve(target, from, condition)
    }
    if (isBuiltin(specifier)) {
      throw new ModuleError(
        `${from === undefined ? 'The allowlist names' : `${from.packageName} needs`} the Node built-in "${specifier}", which the sandbox does not provide: the local executor runs pure-JavaScript packages only. Use a package that does not need Node APIs, or do that work in a tool.`,
      )
    }
    return resolvePackage(
      specifier,
      from === undefined ? this.#resolveFrom : path.dirname(from.file),
      condition,
      from,
    )
  }

  // ---- loading -----------------------------------------------------------------------------------

  #load(resolved: Resolved): Loaded {
    const existing = this.#modules.get(resolved.file)
    if (existing !== undefined) return existing
    // Compiling a file is host work the operation counter does not see: the deadline and the
    // abort signal are checked before each one, so a large package cannot outlast the run.
    this.#interpreter.engine.meter.check()
    const parsed = parsedFile(resolved)
    this.#packageFiles.set(parsed.source, resolved)
    return parsed.format === 'esm'
      ? this.#loadEsModule(resolved, parsed)
      : this.#loadCommonJs(resolved, parsed)
  }

  #remember(file: string, loaded: Loaded): void {
    this.#modules.set(file, loaded)
    this.#fresh?.push(file)
  }

  #loadCommonJs(resolved: Resolved, parsed: ParsedFile): CommonJsModule {
    const engine = this.#interpreter.engine
    const { helpers, factories } = engine.realm
    const module = helpers.newObject()
    const setExports = (value: Value) =>
      Object.defineProperty(module, 'exports', {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      })
    setExports(helpers.newObject())
    const loaded: CommonJsModule = { kind: 'cjs', module, namespace: undefined }
    // Cached before it runs, as Node does, so a require cycle sees the exports so far.
    this.#remember(resolved.file, loaded)
    try {
      if (parsed.program === undefined) {
        setExports(engine.global.JSON.parse(parsed.source.text))
        return loaded
      }
      const wrapper = compiled(parsed, () =>
        this.#interpreter.compileParsed(parsed.program, parsed.source, { mode: 'script' }, parsed.analysis),
      ).run()
      const require = factories.method((_self: Value, args: Value[]) => {
        try {
          return this.#required(this.#load(this.#resolve(String(args[0]), resolved, 'require')))
        } catch (error) {
          // A refused require is an ordinary error the package may catch (optional dependencies).
          if (error instanceof ModuleError) throw engine.error('Error', error.message)
          throw error
        }
      })
      engine.setName(require, 'require')
      engine.callFunction(wrapper, module.exports, [
        module.exports,
        require,
        module,
        parsed.id,
        path.posix.dirname(parsed.id),
      ])
    } catch (error) {
      // A module that failed to evaluate is forgotten: the next require tries again.
      this.#modules.delete(resolved.file)
      throw error
    }
    return loaded
  }

  #loadEsModule(resolved: Resolved, parsed: ParsedFile): EsModule {
    const record = parsed.record!
    const instance = compiled(parsed, () =>
      this.#interpreter.compileModule(parsed.program, parsed.source, parsed.analysis!),
    ).instantiate()
    const loaded: EsModule = {
      kind: 'esm',
      record,
      instance,
      evaluated: false,
      targets: new Map(),
      namespace: undefined,
    }
    // Known before its dependencies load, so an import cycle links back to this instance.
    this.#remember(resolved.file, loaded)
    for (const entry of record.imports) instance.bindImport(entry.local, this.#importBinding(loaded, entry))
    try {
      for (const request of record.requests) {
        loaded.targets.set(request, this.#load(this.#resolve(request, resolved, 'import')))
      }
      // Named imports and re-exports are checked before the module runs, except those from a
      // module still loading (a cycle), which resolve at first use.
      for (const entry of [...record.imports, ...record.exports.values()]) {
        if (!('request' in entry) || entry.name === '*') continue
        const target = loaded.targets.get(entry.request)!
        if (target.kind === 'cjs' || target.evaluated) this.#bindingOf(target, entry.name, entry.request)
      }
      instance.evaluate()
    } catch (error) {
      this.#modules.delete(resolved.file)
      throw error
    }
    loaded.evaluated = true
    return loaded
  }

  /** A live import binding: resolved at first use, since in a cycle its target may still be loading. */
  #importBinding(module: EsModule, entry: ImportEntry): () => Value {
    let get: (() => Value) | undefined
    return () => {
      if (get === undefined) {
        const target = module.targets.get(entry.request)
        if (target === undefined) {
          throw this.#interpreter.engine.error(
            'ReferenceError',
            `Cannot access '${entry.local}' before initialization`,
          )
        }
        get = this.#bindingOf(target, entry.name, entry.request)
      }
      return get()
    }
  }

  /** A getter for export `name` of `target` (`*`: its namespace); a SyntaxError if there is none. */
  #bindingOf(target: Loaded, name: string, request: string): () => Value {
    const found = name === '*' ? { owner: target, name } : this.#resolveExport(target, name, new Map())
    if (found === undefined || found === AMBIGUOUS) {
      throw this.#interpreter.engine.error(
        'SyntaxError',
        found === AMBIGUOUS
          ? `The requested module '${request}' exports '${name}' from several modules (ambiguous)`
          : `The requested module '${request}' does not provide an export named '${name}'`,
      )
    }
    return this.#getter(found)
  }

  #getter({ owner, name: local }: ExportBinding): () => Value {
    if (local === '*') return () => this.#namespace(owner)
    if (owner.kind === 'esm') return () => owner.instance.read(local)
    if (local === 'default') return () => owner.module.exports
    return () => owner.module.exports[local]
  }

  /** Where export `name` of a module lives, following re-exports; `visited` ends re-export cycles. */
  #resolveExport(module: Loaded, name: string, visited: Map<Loaded, Set<string>>): ExportBinding | undefined {
    if (module.kind === 'cjs') {
      const exports = module.module.exports
      const isObject = (typeof exports === 'object' && exports !== null) || typeof exports === 'function'
      return name === 'default' || (isObject && name in exports) ? { owner: module, name } : undefined
    }
    const seen = visited.get(module) ?? new Set()
    if (seen.has(name)) return undefined
    visited.set(module, seen.add(name))
    const entry = module.record.exports.get(name)
    if (entry !== undefined) {
      if ('local' in entry) return { owner: module, name: entry.local }
      const target = module.targets.get(entry.request)
      if (target === undefined) return undefined
      return entry.name === '*'
        ? { owner: target, name: '*' }
        : this.#resolveExport(target, entry.name, visited)
    }
    // `export *` never re-exports a default, and a name two of them export differently is ambiguous.
    if (name === 'default') return undefined
    let found: ExportBinding | undefined
    for (const request of module.record.stars) {
      const target = module.targets.get(request)
      if (target === undefined) continue
      const candidate = this.#resolveExport(target, name, visited)
      if (candidate === AMBIGUOUS) return AMBIGUOUS
      if (candidate === undefined) continue
      if (found !== undefined && (found.owner !== candidate.owner || found.name !== candidate.name))
        return AMBIGUOUS
      found = candidate
    }
    return found
  }

  #exportNames(module: Loaded, visited: Set<Loaded>, out: Set<string>): void {
    if (visited.has(module)) return
    visited.add(module)
    if (module.kind === 'cjs') {
      const exports = module.module.exports
      if ((typeof exports === 'object' && exports !== null) || typeof exports === 'function') {
        for (const key of Object.keys(exports)) out.add(key)
      }
      return
    }
    for (const name of module.record.exports.keys()) out.add(name)
    for (const request of module.record.stars) {
      const target = module.targets.get(request)
      if (target === undefined) continue
      const names = new Set<string>()
      this.#exportNames(target, visited, names)
      for (const name of names) if (name !== 'default') out.add(name)
    }
  }

  /**
   * The namespace object `import * as ns` sees. An ES module's has a getter per export (live
   * bindings); a CommonJS module's is its exports as they are after evaluation, plus `default`.
   */
  #namespace(module: Loaded): Value {
    if (module.namespace !== undefined) return module.namespace
    const engine = this.#interpreter.engine
    const { helpers, factories } = engine.realm
    let namespace: Value
    if (module.kind === 'cjs') {
      const exports = module.module.exports
      namespace = helpers.copyDataProperties(helpers.nullObject(), exports)
      Object.defineProperty(namespace, 'default', { value: exports, writable: false, enumerable: true })
    } else {
      namespace = helpers.nullObject()
      const names = new Set<string>()
      this.#exportNames(module, new Set(), names)
      for (const name of [...names].sort()) {
        const found = this.#resolveExport(module, name, new Map())
        if (found === undefined || found === AMBIGUOUS) continue
        const read = this.#getter(found)
        const get = factories.method(() => read())
        engine.setName(get, name, 'get')
        Object.defineProperty(namespace, name, { get, enumerable: true, configurable: false })
      }
      Object.defineProperty(namespace, Symbol.toStringTag, { value: 'Module' })
    }
    Object.preventExtensions(namespace)
    module.namespace = namespace
    return namespace
  }

  /** `require` of a CommonJS module gives `module.exports`; of an ES module, its namespace. */
  #required(module: Loaded): Value {
    return module.kind === 'cjs' ? module.module.exports : this.#namespace(module)
  }
}

export class ModuleError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ModuleError'
  }
}

// ---- per-process cache of parsed files --------------------------------------------------------------

/** What every session compiles a package file from. `program` is undefined for JSON. */
export interface ParsedFile {
  /** Content hash (with the format): a changed file is parsed again. */
  readonly hash: string
  readonly format: 'esm' | 'cjs' | 'json'
  /** The file as the sandbox names it, without host directories: `/node_modules/pkg/lib/a.js`. */
  readonly id: string
  readonly source: Source
  readonly program: Value
  readonly analysis: Analysis | undefined
  /** ES modules only. */
  readonly record: ModuleRecord | undefined
}

/**
 * Parsed package files by resolved path, shared by every session of the process: parsing and
 * scope analysis are the engine-independent part of compiling (most of its cost), so a package
 * is parsed once per process however many sessions import it. Exported for tests.
 */
export const parsedFiles = new Map<string, ParsedFile>()

function parsedFile(resolved: Resolved): ParsedFile {
  const text = readFileSync(resolved.file, 'utf8')
  const hash = createHash('sha256').update(resolved.format).update('\0').update(text).digest('hex')
  const cached = parsedFiles.get(resolved.file)
  if (cached?.hash === hash) return cached
  const inside = path.relative(resolved.root, resolved.file).split(path.sep).join('/')
  const id = `/node_modules/${resolved.packageName}/${inside}`
  const parse = (format: 'esm' | 'cjs'): ParsedFile => {
    const module = format === 'esm'
    // CommonJS runs as a function of exports, require, module, __filename and __dirname; a hashbang
    // line becomes a comment of the same length so positions stay the same.
    const body = text.startsWith('#!') ? `//${text.slice(2)}` : text
    const source: Source = {
      text: module ? text : `(function (exports, require, module, __filename, __dirname) {${body}\n})`,
    }
    const program = syntax(id, source, () => parseCode(source.text, { module, topLevelAwait: module }))
    const analysis = analyze(program, { strict: module })
    const record = module ? moduleRecord(id, program, analysis) : undefined
    return { hash, format, id, source, program, analysis, record }
  }
  let parsed: ParsedFile
  if (resolved.format === 'json') {
    parsed = {
      hash,
      format: 'json',
      id,
      source: { text },
      program: undefined,
      analysis: undefined,
      record: undefined,
    }
  } else if (resolved.format === 'detect') {
    // As Node does for a `.js` file whose package.json has no "type": import or export
    // declarations make it an ES module (as in a package's "module" build), else it is CommonJS.
    parsed = parse('cjs')
    const statements: Value[] = parsed.program.body[0].expression.body.body
    if (statements.some((statement) => /^(Import|Export)/.test(statement.type))) parsed = parse('esm')
  } else parsed = parse(resolved.format)
  parsedFiles.set(resolved.file, parsed)
  return parsed
}

/** Compiles a parsed file for the session's engine; a refused construct names the file. */
function compiled<T>(parsed: ParsedFile, compile: () => T): T {
  return syntax(parsed.id, parsed.source, compile)
}

function syntax<T>(id: string, source: Source, run: () => T): T {
  try {
    return run()
  } catch (error) {
    if (!(error instanceof CompileError)) throw error
    const { line, column } = lineColumn(source, error.offset)
    throw new ModuleError(
      `${id} (line ${line}, column ${column}) cannot run in the interpreter: ${error.message}. Allowlist another package, or do that work in a tool.`,
    )
  }
}

// ---- ES module records -------------------------------------------------------------------------------

interface ImportEntry {
  readonly local: string
  readonly request: string
  /** The imported export, `*` for the namespace. */
  readonly name: string
}

/** What an ES module imports and exports, read from its AST once per process. */
interface ModuleRecord {
  /** Specifiers of its import and export-from declarations, each once, in source order. */
  readonly requests: readonly string[]
  readonly imports: readonly ImportEntry[]
  /** Export name → a local binding, or an export of another module (`*`: its namespace). */
  readonly exports: ReadonlyMap<string, { local: string } | { request: string; name: string }>
  /** Modules whose exports `export * from` re-exports. */
  readonly stars: readonly string[]
}

function moduleRecord(id: string, program: Value, analysis: Analysis): ModuleRecord {
  const requests = new Set<string>()
  const imports: ImportEntry[] = []
  const exports = new Map<string, { local: string } | { request: string; name: string }>()
  const stars: string[] = []
  const nameOf = (node: Value): string => (node.type === 'Identifier' ? node.name : String(node.value))
  for (const item of program.body as Value[]) {
    const request: string | undefined = item.source?.value
    if (request !== undefined) requests.add(request)
    switch (item.type) {
      case 'ImportDeclaration':
        for (const specifier of item.specifiers) {
          const name =
            specifier.type === 'ImportSpecifier'
              ? nameOf(specifier.imported)
              : specifier.type === 'ImportDefaultSpecifier'
                ? 'default'
                : '*'
          imports.push({ local: specifier.local.name, request: request!, name })
        }
        break
      case 'ExportAllDeclaration':
        if (item.exported == null) stars.push(request!)
        else exports.set(nameOf(item.exported), { request: request!, name: '*' })
        break
      case 'ExportDefaultDeclaration':
        exports.set('default', { local: item.declaration.id?.name ?? '*default*' })
        break
      case 'ExportNamedDeclaration': {
        const declaration = item.declaration
        if (declaration?.type === 'VariableDeclaration') {
          for (const declarator of declaration.declarations)
            for (const name of patternNames(declarator.id)) exports.set(name.name, { local: name.name })
        } else if (declaration != null) {
          exports.set(declaration.id.name, { local: declaration.id.name })
        }
        for (const specifier of item.specifiers) {
          const local = nameOf(specifier.local)
          if (request === undefined && !analysis.script.bindings.has(local)) {
            throw new ModuleError(`${id} exports '${local}', which it does not declare.`)
          }
          exports.set(
            nameOf(specifier.exported),
            request === undefined ? { local } : { request, name: local },
          )
        }
        break
      }
    }
  }
  // An export of an imported binding is an export of the module it comes from (as in the spec),
  // so two modules re-exporting one binding through `export *` are not ambiguous.
  for (const [name, entry] of exports) {
    const imported = 'local' in entry ? imports.find((each) => each.local === entry.local) : undefined
    if (imported !== undefined) exports.set(name, { request: imported.request, name: imported.name })
  }
  return { requests: [...requests], imports, exports, stars }
}

// ---- package resolution ------------------------------------------------------------------------------

type Condition = 'import' | 'require'
type Format = 'esm' | 'cjs' | 'json' | 'detect'

/**
 * Export conditions each way of loading matches, besides `default`. `node` is left out on
 * purpose: what a package builds for Node tends to use Node built-ins the sandbox lacks.
 */
const conditions: Record<Condition, ReadonlySet<string>> = {
  import: new Set(['import', 'module']),
  require: new Set(['require']),
}

interface Resolved {
  readonly file: string
  readonly root: string
  readonly packageName: string
  readonly format: Format
}

interface Manifest {
  readonly main?: string
  readonly module?: string
  readonly exports?: unknown
  readonly imports?: unknown
  readonly type?: string
  readonly gypfile?: boolean
}

function resolvePackage(
  specifier: string,
  fromDir: string,
  condition: Condition,
  from: Resolved | undefined,
): Resolved {
  const parts = specifier.split('/')
  const packageName = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
  const subpath = `.${specifier.slice(packageName.length)}`
  const needs =
    from === undefined ? `Module "${specifier}"` : `${from.packageName} needs "${specifier}", which`
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', packageName)
    if (existsSync(path.join(candidate, 'package.json'))) {
      const root = realpathSync(candidate)
      const manifest = readManifest(root)
      if (manifest.gypfile === true || existsSync(path.join(root, 'binding.gyp'))) {
        throw new ModuleError(
          `${needs} is a native addon (it builds C++ code), which the sandbox cannot run: the local executor runs pure-JavaScript packages only. Use a pure-JavaScript package, or do that work in a tool.`,
        )
      }
      const target = packageTarget(manifest, subpath, condition)
      const file = target === undefined ? undefined : resolveFile(path.join(root, target))
      if (file === undefined || !isInside(root, file)) {
        throw new ModuleError(
          `Package "${packageName}" has no file for "${specifier}" that ${condition} can load (see the "exports" or "main" of its package.json).`,
        )
      }
      return { file, root, packageName, format: formatOf(file, packageName) }
    }
    if (path.dirname(dir) === dir) {
      throw new ModuleError(
        from === undefined
          ? `Module "${specifier}" is on the allowlist but is not installed where the host can find it; install it next to the host's code.`
          : `${needs} is not installed; install the package's dependencies.`,
      )
    }
  }
}

/** The package-relative file a subpath names: `exports` with conditions, else `module`/`main`. */
function packageTarget(manifest: Manifest, subpath: string, condition: Condition): string | undefined {
  const { exports } = manifest
  if (exports === undefined || exports === null) {
    if (subpath !== '.') return subpath
    return (condition === 'import' ? manifest.module : undefined) ?? manifest.main ?? 'index.js'
  }
  const isSubpathMap =
    typeof exports === 'object' &&
    !Array.isArray(exports) &&
    Object.keys(exports).some((key) => key.startsWith('.'))
  const target = subpathTarget(isSubpathMap ? exports : { '.': exports }, subpath, condition)
  // Targets of "exports" are files of the package itself.
  return target?.startsWith('./') ? target : undefined
}

/** Looks `key` up in an `exports` or `imports` map: exact keys, then `*` patterns, longest first. */
function subpathTarget(map: unknown, key: string, condition: Condition): string | undefined {
  if (typeof map !== 'object' || map === null) return undefined
  const entries = map as Record<string, unknown>
  if (Object.hasOwn(entries, key)) return conditionalTarget(entries[key], condition, '')
  let best: { pattern: string; match: string; prefix: number } | undefined
  for (const pattern of Object.keys(entries)) {
    const star = pattern.indexOf('*')
    if (star < 0) continue
    const prefix = pattern.slice(0, star)
    const suffix = pattern.slice(star + 1)
    if (key.length < pattern.length - 1 || !key.startsWith(prefix) || !key.endsWith(suffix)) continue
    if (best === undefined || prefix.length > best.prefix) {
      best = { pattern, match: key.slice(prefix.length, key.length - suffix.length), prefix: prefix.length }
    }
  }
  return best === undefined ? undefined : conditionalTarget(entries[best.pattern], condition, best.match)
}

/** Picks the first matching condition in the package's own order (as Node does), then fills `*`. */
function conditionalTarget(target: unknown, condition: Condition, match: string): string | undefined {
  if (typeof target === 'string') return target.replaceAll('*', match)
  if (Array.isArray(target)) {
    for (const item of target) {
      const picked = conditionalTarget(item, condition, match)
      if (picked !== undefined) return picked
    }
    return undefined
  }
  if (typeof target !== 'object' || target === null) return undefined
  for (const [key, value] of Object.entries(target)) {
    if (key !== 'default' && !conditions[condition].has(key)) continue
    const picked = conditionalTarget(value, condition, match)
    if (picked !== undefined) return picked
  }
  return undefined
}

/** Parsed package.json files by path, reparsed when the file changes (a manifest is read per file loaded). */
const manifests = new Map<string, { mtimeMs: number; manifest: Manifest }>()

function readManifest(root: string): Manifest {
  const file = path.join(root, 'package.json')
  try {
    const { mtimeMs } = statSync(file)
    const cached = manifests.get(file)
    if (cached?.mtimeMs === mtimeMs) return cached.manifest
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest
    manifests.set(file, { mtimeMs, manifest })
    return manifest
  } catch {
    return {}
  }
}

function resolveFile(base: string): string | undefined {
  const isFile = (candidate: string) => existsSync(candidate) && statSync(candidate).isFile()
  for (const candidate of [base, `${base}.js`, `${base}.mjs`, `${base}.cjs`, `${base}.json`]) {
    if (isFile(candidate)) return realpathSync(candidate)
  }
  for (const index of ['index.js', 'index.mjs', 'index.cjs', 'index.json']) {
    const candidate = path.join(base, index)
    if (isFile(candidate)) return realpathSync(candidate)
  }
  return undefined
}

/** A file of the package `from` belongs to: a package may not reach outside its own directory. */
function packageFile(from: Resolved, base: string, specifier: string): Resolved {
  const file = resolveFile(base)
  if (file === undefined || !isInside(from.root, file)) {
    throw new ModuleError(
      `Cannot find module '${specifier}' inside ${from.packageName}: a package may only load its own files and its dependencies.`,
    )
  }
  return { ...from, file, format: formatOf(file, from.packageName) }
}

function isInside(root: string, file: string): boolean {
  return file.startsWith(root + path.sep)
}

/** By extension, else by the `type` of the nearest package.json; without one, `detect` (see parsedFile). */
function formatOf(file: string, packageName: string): Format {
  if (file.endsWith('.node')) {
    throw new ModuleError(
      `${packageName} loads a native addon (${path.basename(file)}), which the sandbox cannot run: the local executor runs pure-JavaScript packages only. Use a pure-JavaScript package, or do that work in a tool.`,
    )
  }
  if (file.endsWith('.json')) return 'json'
  if (file.endsWith('.mjs')) return 'esm'
  if (file.endsWith('.cjs')) return 'cjs'
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) {
      const { type } = readManifest(dir)
      return type === 'module' ? 'esm' : type === 'commonjs' ? 'cjs' : 'detect'
    }
    if (path.dirname(dir) === dir) return 'detect'
  }
}

// ---- session module records --------------------------------------------------------------------------

interface CommonJsModule {
  readonly kind: 'cjs'
  /** The `module` object the file saw; its `exports` is what importers get. */
  readonly module: Value
  namespace: Value
}

interface EsModule {
  readonly kind: 'esm'
  readonly record: ModuleRecord
  readonly instance: ModuleInstance
  /** True once its body has run; until then (a cycle) imports from it resolve at first use. */
  evaluated: boolean
  /** Loaded modules by request specifier; filled as they load. */
  readonly targets: Map<string, Loaded>
  namespace: Value
}

type Loaded = CommonJsModule | EsModule

/** A binding an export resolves to: a local of an ES module, or an export of a CommonJS module. */
interface ExportBinding {
  readonly owner: Loaded
  readonly name: string
}

const AMBIGUOUS: ExportBinding = Object.freeze({ owner: undefined as never, name: '' })
