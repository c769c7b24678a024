/*
 * The compiler: acorn's AST → host closures, once per program.
 *
 * Design (see the package README for the security argument):
 * - Every node compiles once into a closure `(scope) => value`; statements return a completion
 *   token (undefined, BREAK, CONTINUE, RETURN or a labeled token) instead of throwing. There is no
 *   dispatch over node types at run time.
 * - Bindings are resolved to (depth, slot) by `scope-analysis.ts`; scopes are host arrays whose slot
 *   0 is the parent. TDZ is the HOLE sentinel. A loop whose `let` bindings are captured copies its
 *   scope per iteration.
 * - Functions the sandbox creates are real functions of the sandbox realm, made by the realm's
 *   trusted factories around a host implementation (`impl(this, args, newTarget)`); calls between
 *   interpreted functions skip the realm wrapper through a private-field stamp.
 * - Generator and async bodies compile a second time, only along the nodes that contain `yield` or
 *   `await`, into host generator functions (`g*` methods); the realm's drivers resume them, so
 *   promises are realm promises and every `await` is the realm's own.
 * - Host errors are converted to realm errors at every compiled `catch` and at every realm
 *   boundary; the limit signal and generator return requests pass compiled `catch` untouched and
 *   the limit signal skips `finally`.
 */
import { bigIntOperation, chargeArrayConstruction } from '../natives.js'
import type { Value } from '../realm.js'
import {
  HOLE,
  RETURN_REQUEST,
  type BodyState,
  type Engine,
  type Location,
  type Source,
  implOf,
  recordSourceText,
  pendingReturn,
  stamp,
} from './engine.js'
import {
  closeIterator,
  closeIteratorQuietly,
  getAsyncIterator,
  getIterator,
  getPrimitive,
  getValue,
  hasProperty,
  instanceOf,
  isObject,
  keyText,
  setValue,
  spreadToList,
  toPrimitive,
  toPropertyKey,
} from './operations.js'
import {
  type Analysis,
  type Binding,
  type FunctionInfo,
  type StaticScope,
  analyze,
  depthOf,
  patternNames,
} from './scope-analysis.js'

type Scope = Value[]
type Expr = (s: Scope) => Value
type Stmt = (s: Scope) => Value
type GenFn = (s: Scope) => Generator<Value, Value, Value>

const BREAK = { kind: 'break' }
const CONTINUE = { kind: 'continue' }
const RETURN = { kind: 'return' }
/** Short-circuit marker inside an optional chain. */
const SHORT = { kind: 'short' }

/** The value of the last `return`, read by the function boundary right after RETURN arrives. */
let returnValue: Value

const { defineProperty, getPrototypeOf, setPrototypeOf, getOwnPropertyDescriptor } = Object
const { apply, construct, ownKeys } = Reflect

/** Thrown at compile time for constructs the interpreter refuses. */
export class UnsupportedError extends Error {
  readonly offset: number

  constructor(message: string, offset: number) {
    super(message)
    this.offset = offset
    this.name = 'UnsupportedError'
  }
}

interface Reference {
  get: Expr
  set: (s: Scope, v: Value) => void
  /** Initializes a declaration (no TDZ or const checks). */
  init: (s: Scope, v: Value) => void
}

interface FunctionContext {
  readonly info: FunctionInfo
  readonly kind: 'sync' | 'generator' | 'async' | 'asyncGenerator'
  readonly strict: boolean
  /** Class of the enclosing class body (for `super` and private names). */
  readonly derived: boolean
}

export interface CompileOptions {
  /**
   * `repl`: top-level let/const re-declarable across programs; the last expression is the value.
   * `module`: an ES module body (see compileModule); its top-level bindings are its own.
   */
  readonly mode: 'repl' | 'script' | 'module'
  readonly strict?: boolean
}

export interface CompiledProgram {
  /** Runs the program: its value, or for programs with top-level await a realm promise of it. */
  run(): Value
  readonly async: boolean
}

/**
 * `analysis` may come from a cache when the program's top level declares no function in a block
 * (a CommonJS module is one function expression): only those depend on the engine, on whether an
 * earlier program declared their name with `let` (Annex B.3.3 then leaves them in their block).
 */
export function compileProgram(
  engine: Engine,
  program: Value,
  source: Source,
  options: CompileOptions,
  analysis: Analysis = analyze(program, {
    strict: options.strict === true,
    isGlobalLexical: (name) => engine.lexicalNames.has(name),
  }),
): CompiledProgram {
  const compiler = new Compiler(engine, analysis, source, options)
  return compiler.program(program)
}

/** An ES module body compiled for one engine; each instance is one evaluation of it. */
export interface CompiledModule {
  /** A new instance: hoisted functions created, let/const/class in their TDZ, imports unbound. */
  instantiate(): ModuleInstance
}

export interface ModuleInstance {
  /** Current value of a top-level binding (a sandbox ReferenceError while in its TDZ). */
  read(local: string): Value
  /** Makes the import binding `local` read through `get`: a live binding to another module. */
  bindImport(local: string, get: () => Value): void
  /** Runs the body. */
  evaluate(): void
}

/**
 * Compiles a module parsed with `sourceType: 'module'` and analyzed with `strict: true`. Import
 * and export declarations only declare bindings here: the module loader links them.
 */
export function compileModule(
  engine: Engine,
  program: Value,
  source: Source,
  analysis: Analysis,
): CompiledModule {
  return new Compiler(engine, analysis, source, { mode: 'module', strict: true }).module(program)
}

class Compiler {
  readonly engine: Engine
  readonly analysis: Analysis
  readonly source: Source
  readonly options: CompileOptions
  fn!: FunctionContext
  /** Labels that apply to the next loop compiled. */
  pendingLabels: string[] = []
  readonly labelTokens = new Map<string, { brk: object; cont: object }>()
  /**
   * Where script code outside functions keeps its completion value (what `eval` and a script
   * return); undefined while compiling function bodies, which never need it.
   */
  completion: { value: Value } | undefined

  constructor(engine: Engine, analysis: Analysis, source: Source, options: CompileOptions) {
    this.engine = engine
    this.analysis = analysis
    this.source = source
    this.options = options
  }

  loc(node: Value): Location {
    return { source: this.source, offset: node.start }
  }

  /**
   * `using` and `await using` would bind like `const` here and never dispose: refused rather than
   * run with their resources left open.
   */
  refuseUsing(declaration: Value): void {
    if (declaration.kind === 'using' || declaration.kind === 'await using') {
      this.unsupported(declaration, `a ${declaration.kind} declaration (explicit resource management)`)
    }
  }

  unsupported(node: Value, what: string): never {
    throw new UnsupportedError(`${what} is not supported by the airlock interpreter`, node.start)
  }

  text(node: Value): string {
    const text = this.source.text.slice(node.start, node.end)
    return text.length > 60 || /[\r\n]/.test(text) ? 'expression' : text
  }

  // ---- program ---------------------------------------------------------------------------------

  program(program: Value): CompiledProgram {
    const { engine, analysis } = this
    const script = analysis.script
    const strict = script.fn.strict
    const info = script.fn
    const isAsync = info.suspends
    this.fn = { info, kind: isAsync ? 'async' : 'sync', strict, derived: false }

    // Top-level lexical declarations go to the engine's global lexical table (REPL semantics:
    // a later program may declare the same name again and replaces the binding).
    const newLexicals: number[] = []
    for (const binding of script.bindings.values()) {
      if (
        binding.kind === 'let' ||
        binding.kind === 'const' ||
        binding.kind === 'class' ||
        binding.kind === 'import'
      ) {
        let entry = engine.lexicalNames.get(binding.name)
        if (entry === undefined) {
          entry = { slot: engine.lexicals.length, kind: binding.kind }
          engine.lexicals.push(HOLE)
          engine.lexicalNames.set(binding.name, entry)
          newLexicals.push(entry.slot)
        } else if (this.options.mode === 'script') {
          newLexicals.push(entry.slot)
        }
        entry.kind = binding.kind
      }
    }
    if (newLexicals.length > 0) engine.lexicalVersion++
    const globalVars: string[] = []
    const globalFunctions: { name: string; make: Expr }[] = []
    for (const binding of script.bindings.values()) {
      if (binding.kind === 'var') globalVars.push(binding.name)
    }
    const statements = program.body as Value[]
    for (const statement of statements) {
      if (statement.type === 'FunctionDeclaration') {
        globalFunctions.push({ name: statement.id.name, make: this.functionValue(statement) })
      }
    }
    // Imports run first, as in a module.
    const imports = statements.filter((statement) => statement.type === 'ImportDeclaration')
    const rest = statements.filter((statement) => statement.type !== 'ImportDeclaration')
    const ordered = [...imports, ...rest]
    const last = ordered.length > 0 ? ordered[ordered.length - 1] : undefined
    const lastIsExpression = last?.type === 'ExpressionStatement'
    // A script's value is its completion value, as `eval` sees it; code actions (repl mode) give
    // the value of a final expression statement only.
    const register = this.options.mode === 'script' && !isAsync ? { value: undefined } : undefined
    this.completion = register
    let completion: Value
    const body = ordered.map((statement) => {
      if (statement === last && lastIsExpression && register === undefined) {
        const expression = isAsync ? this.gexpr(statement.expression) : this.expr(statement.expression)
        return { statement, run: expression, isValue: true }
      }
      return { statement, run: isAsync ? this.gstmt(statement) : this.stmt(statement), isValue: false }
    })
    const size = script.size
    const global = engine.global
    const lexicals = engine.lexicals

    const prepare = (): Scope => {
      for (const slot of newLexicals) lexicals[slot] = HOLE
      for (const name of globalVars) {
        if (getOwnPropertyDescriptor(global, name) === undefined) {
          defineProperty(global, name, {
            value: undefined,
            writable: true,
            enumerable: true,
            configurable: false,
          })
        }
      }
      const s: Scope = Array.from({ length: size }, (): Value => undefined)
      s[0] = undefined
      this.initScriptInternals(s)
      for (const { name, make } of globalFunctions) {
        const value = make(s)
        const existing = getOwnPropertyDescriptor(global, name)
        if (existing === undefined || existing.configurable) {
          defineProperty(global, name, { value, writable: true, enumerable: true, configurable: false })
        } else {
          global[name] = value
        }
      }
      return s
    }

    const locs = body.map(({ statement }) => this.loc(statement))
    if (!isAsync) {
      return {
        async: false,
        run: () => {
          const s = prepare()
          completion = undefined
          if (register !== undefined) register.value = undefined
          let i = 0
          try {
            for (; i < body.length; i++) {
              const entry = body[i]!
              if (entry.isValue) completion = entry.run(s)
              else {
                const c = entry.run(s)
                if (c !== undefined && c !== RETURN) break
              }
            }
          } catch (error) {
            engine.annotate(error, locs[i]!)
            throw error
          }
          return register === undefined ? completion : register.value
        },
      }
    }
    const generatorBody = function* (s: Scope): Generator<Value, Value, Value> {
      let result: Value
      let i = 0
      try {
        for (; i < body.length; i++) {
          const entry = body[i]!
          if (entry.isValue) result = yield* entry.run(s)
          else {
            const c = yield* entry.run(s)
            if (c !== undefined && c !== RETURN) break
          }
        }
      } catch (error) {
        engine.annotate(error, locs[i]!)
        throw error
      }
      return result
    }
    const impl = () => {
      const s = prepare()
      return this.bodyState(generatorBody(s))
    }
    const driver = engine.realm.factories.asyncArrow(impl)
    return { async: true, run: () => driver() }
  }

  module(program: Value): CompiledModule {
    const { engine, analysis } = this
    const script = analysis.script
    if (script.fn.suspends) this.unsupported(program, 'Top-level await in a package module')
    this.fn = { info: script.fn, kind: 'sync', strict: true, derived: false }
    const bindingOf = (name: string): Binding => script.bindings.get(name)!
    const hoisted: ((s: Scope) => void)[] = []
    const steps: { run: Stmt; loc: Location }[] = []
    for (const item of program.body as Value[]) {
      const exported = item.type === 'ExportNamedDeclaration' || item.type === 'ExportDefaultDeclaration'
      const declaration = exported ? item.declaration : item
      if (declaration == null || item.type === 'ImportDeclaration' || item.type === 'ExportAllDeclaration')
        continue
      if (declaration.type === 'FunctionDeclaration') {
        const ref = this.slotReference(bindingOf(declaration.id?.name ?? '*default*'), 0, declaration)
        const make = this.functionValue(declaration, 'default')
        hoisted.push((s) => ref.init(s, make(s)))
        continue
      }
      let run: Stmt
      if (
        item.type === 'ExportDefaultDeclaration' &&
        !(declaration.type === 'ClassDeclaration' && declaration.id)
      ) {
        const ref = this.slotReference(bindingOf('*default*'), 0, declaration)
        const value =
          declaration.type === 'ClassDeclaration'
            ? this.classValue(declaration, 'default')
            : this.namedValue(declaration, 'default')
        run = (s) => ref.init(s, value(s))
      } else run = this.stmt(declaration)
      steps.push({ run, loc: this.loc(item) })
    }
    const size = script.size
    const tdzSlots = [...script.bindings.values()].filter((binding) => binding.tdz).map((b) => b.slot)
    const readers = new Map<string, Expr>()
    return {
      instantiate: () => {
        const s: Scope = Array.from({ length: size }, (): Value => undefined)
        for (const slot of tdzSlots) s[slot] = HOLE
        for (const step of hoisted) step(s)
        return {
          read: (local) => {
            let get = readers.get(local)
            if (get === undefined) {
              get = this.bindingReference(bindingOf(local), 0, program).get
              readers.set(local, get)
            }
            return get(s)
          },
          bindImport: (local, get) => {
            s[bindingOf(local).slot] = get
          },
          evaluate: () => {
            let i = 0
            try {
              for (; i < steps.length; i++) steps[i]!.run(s)
            } catch (error) {
              engine.annotate(error, steps[i]!.loc)
              throw error
            }
          },
        }
      },
    }
  }

  initScriptInternals(s: Scope): void {
    const thisBinding = this.analysis.script.bindings.get('%this')
    if (thisBinding !== undefined) s[thisBinding.slot] = this.engine.global
    const newTarget = this.analysis.script.bindings.get('%newtarget')
    if (newTarget !== undefined) s[newTarget.slot] = undefined
  }

  bodyState(generator: Generator<Value, Value, Value>): BodyState {
    return { generator, returnValue: undefined }
  }

  // ---- references ------------------------------------------------------------------------------

  reference(node: Value): Reference {
    const ref = this.analysis.references.get(node)
    const name: string = node.name
    if (ref === undefined) throw new UnsupportedError(`internal: unresolved node ${name}`, node.start)
    const binding = ref.binding
    if (binding === undefined) return this.dynamicReference(name, node)
    if (binding.scope.kind === 'script' && this.options.mode !== 'module') {
      if (binding.kind === 'var' || binding.kind === 'function') return this.globalReference(name, node)
      if (
        binding.kind === 'let' ||
        binding.kind === 'const' ||
        binding.kind === 'class' ||
        binding.kind === 'import'
      ) {
        return this.lexicalReference(name, binding, node, this.initialized(binding, ref.from, node))
      }
    }
    return this.bindingReference(
      binding,
      depthOf(ref.from, binding),
      node,
      this.initialized(binding, ref.from, node),
    )
  }

  /** A slot binding; in a module, an import's slot holds the getter of the binding it imports. */
  bindingReference(binding: Binding, depth: number, node: Value, initialized = false): Reference {
    if (binding.kind !== 'import' || this.options.mode !== 'module') {
      return this.slotReference(binding, depth, node, initialized)
    }
    const cell = this.slotReference(binding, depth, node, true)
    return { ...cell, get: (s) => cell.get(s)() }
  }

  /** The reference surely runs after the binding's initialization (no TDZ check needed). */
  initialized(binding: Binding, from: StaticScope, node: Value): boolean {
    return binding.scope.fn === from.fn && node.start >= binding.declEnd
  }

  tdzError(name: string, node: Value): Value {
    return this.engine.error(
      'ReferenceError',
      `Cannot access '${name}' before initialization`,
      this.loc(node),
    )
  }

  slotReference(binding: Binding, depth: number, node: Value, initialized = false): Reference {
    const slot = binding.slot
    const name = binding.name
    const engine = this.engine
    const loc = this.loc(node)
    const tdz = binding.tdz && !initialized
    const strict = this.fn.strict
    const tdzError = () =>
      engine.error('ReferenceError', `Cannot access '${name}' before initialization`, loc)
    const constError = () => engine.error('TypeError', 'Assignment to constant variable.', loc)
    let get: Expr
    let scopeOf: (s: Scope) => Scope
    if (depth === 0) scopeOf = (s) => s
    else if (depth === 1) scopeOf = (s) => s[0]
    else if (depth === 2) scopeOf = (s) => s[0][0]
    else if (depth === 3) scopeOf = (s) => s[0][0][0]
    else
      scopeOf = (s) => {
        for (let i = 0; i < depth; i++) s = s[0]
        return s
      }
    if (depth === 0) {
      get = tdz
        ? (s) => {
            const v = s[slot]
            if (v === HOLE) throw tdzError()
            return v
          }
        : (s) => s[slot]
    } else if (depth === 1) {
      get = tdz
        ? (s) => {
            const v = s[0][slot]
            if (v === HOLE) throw tdzError()
            return v
          }
        : (s) => s[0][slot]
    } else if (depth === 2) {
      get = tdz
        ? (s) => {
            const v = s[0][0][slot]
            if (v === HOLE) throw tdzError()
            return v
          }
        : (s) => s[0][0][slot]
    } else {
      get = (s) => {
        const v = scopeOf(s)[slot]
        if (v === HOLE) throw tdzError()
        return v
      }
    }
    let set: (s: Scope, v: Value) => void
    if (binding.kind === 'const' || binding.kind === 'import') {
      set = (s) => {
        if (scopeOf(s)[slot] === HOLE) throw tdzError()
        throw constError()
      }
    } else if (binding.kind === 'callee') {
      set = strict
        ? () => {
            throw constError()
          }
        : () => {}
    } else if (tdz) {
      set = (s, v) => {
        const target = scopeOf(s)
        if (target[slot] === HOLE) throw tdzError()
        target[slot] = v
      }
    } else if (depth === 0) {
      set = (s, v) => {
        s[slot] = v
      }
    } else {
      set = (s, v) => {
        scopeOf(s)[slot] = v
      }
    }
    const init =
      depth === 0
        ? (s: Scope, v: Value) => {
            s[slot] = v
          }
        : (s: Scope, v: Value) => {
            scopeOf(s)[slot] = v
          }
    return { get, set, init }
  }

  lexicalReference(name: string, binding: Binding, node: Value, initialized = false): Reference {
    const entry = this.engine.lexicalNames.get(name)!
    const slot = entry.slot
    const lexicals = this.engine.lexicals
    const engine = this.engine
    const loc = this.loc(node)
    const tdzError = () =>
      engine.error('ReferenceError', `Cannot access '${name}' before initialization`, loc)
    const isConst = binding.kind === 'const' || binding.kind === 'import'
    return {
      get: initialized
        ? () => lexicals[slot]
        : () => {
            const v = lexicals[slot]
            if (v === HOLE) throw tdzError()
            return v
          },
      set: (_s, v) => {
        if (lexicals[slot] === HOLE) throw tdzError()
        if (isConst) throw engine.error('TypeError', 'Assignment to constant variable.', loc)
        lexicals[slot] = v
      },
      init: (_s, v) => {
        lexicals[slot] = v
      },
    }
  }

  globalReference(name: string, node: Value): Reference {
    const engine = this.engine
    const global = engine.global
    const strict = this.fn.strict
    const loc = this.loc(node)
    return {
      get: () => global[name],
      set: (_s, v) => setValue(engine, global, name, v, strict, loc),
      init: (_s, v) => {
        global[name] = v
      },
    }
  }

  /** A name not declared in this program: a later program's lexical, a global property, or nothing. */
  dynamicReference(name: string, node: Value): Reference {
    const engine = this.engine
    const global = engine.global
    const lexicals = engine.lexicals
    const strict = this.fn.strict
    const loc = this.loc(node)
    let version = -1
    let slot = -1
    const lexicalSlot = (): number => {
      if (slot >= 0) return slot
      if (version !== engine.lexicalVersion) {
        version = engine.lexicalVersion
        const entry = engine.lexicalNames.get(name)
        if (entry !== undefined) slot = entry.slot
      }
      return slot
    }
    const notDefined = () => engine.error('ReferenceError', `${name} is not defined`, loc)
    return {
      get: () => {
        const lexical = lexicalSlot()
        if (lexical >= 0) {
          const v = lexicals[lexical]
          if (v === HOLE)
            throw engine.error('ReferenceError', `Cannot access '${name}' before initialization`, loc)
          return v
        }
        const v = global[name]
        if (v === undefined && !(name in global)) throw notDefined()
        return v
      },
      set: (_s, v) => {
        const lexical = lexicalSlot()
        if (lexical >= 0) {
          if (lexicals[lexical] === HOLE) {
            throw engine.error('ReferenceError', `Cannot access '${name}' before initialization`, loc)
          }
          const kind = engine.lexicalNames.get(name)!.kind
          if (kind === 'const' || kind === 'import')
            throw engine.error('TypeError', 'Assignment to constant variable.', loc)
          lexicals[lexical] = v
          return
        }
        if (strict && !(name in global)) throw notDefined()
        setValue(engine, global, name, v, strict, loc)
      },
      init: (_s, v) => {
        global[name] = v
      },
    }
  }

  /** `typeof name` never throws for an undeclared name. */
  typeofReference(node: Value): Expr {
    const ref = this.analysis.references.get(node)
    if (ref?.binding !== undefined) {
      const get = this.reference(node).get
      return (s) => typeof get(s)
    }
    const engine = this.engine
    const name: string = node.name
    const get = this.dynamicReference(name, node).get
    return (s) => {
      if (!engine.lexicalNames.has(name) && !(name in engine.global)) return 'undefined'
      return typeof get(s)
    }
  }

  /** Reference to an internal binding (`%this`, `%newtarget`, `%home`, `%super`) recorded for `node`. */
  internal(node: Value): Expr {
    const ref = this.analysis.references.get(node)
    // Outside any function: the script's `this` is the global object, a module's is undefined.
    const topThis = this.options.mode === 'module' ? undefined : this.engine.global
    if (ref?.binding === undefined) return () => topThis
    const binding = ref.binding
    if (binding.scope.kind === 'script') {
      if (binding.name === '%this') return () => topThis
      return () => undefined
    }
    const depth = depthOf(ref.from, binding)
    const slot = binding.slot
    const engine = this.engine
    const loc = this.loc(node)
    const check = binding.name === '%this'
    return (s) => {
      let target = s
      for (let i = 0; i < depth; i++) target = target[0]
      const v = target[slot]
      if (check && v === HOLE) {
        throw engine.error(
          'ReferenceError',
          "Must call super constructor in derived class before accessing 'this' or returning from derived constructor",
          loc,
        )
      }
      return v
    }
  }

  internalSetter(node: Value): (s: Scope, v: Value) => void {
    const ref = this.analysis.references.get(node)!
    const binding = ref.binding!
    const depth = depthOf(ref.from, binding)
    const slot = binding.slot
    return (s, v) => {
      let target = s
      for (let i = 0; i < depth; i++) target = target[0]
      target[slot] = v
    }
  }

  // ---- expressions -----------------------------------------------------------------------------

  expr(node: Value): Expr {
    switch (node.type) {
      case 'Literal':
        return this.literal(node)
      case 'Identifier': {
        if (node.name === 'undefined') {
          const ref = this.analysis.references.get(node)
          if (ref?.binding === undefined) return () => undefined
        }
        return this.reference(node).get
      }
      case 'ThisExpression':
        return this.internal(node)
      case 'TemplateLiteral':
        return this.template(node)
      case 'TaggedTemplateExpression':
        return this.taggedTemplate(node)
      case 'ArrayExpression':
        return this.arrayLiteral(node)
      case 'ObjectExpression':
        return this.objectLiteral(node)
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        return this.functionValue(node)
      case 'ClassExpression':
        return this.classValue(node)
      case 'UnaryExpression':
        return this.unary(node)
      case 'UpdateExpression':
        return this.update(node)
      case 'BinaryExpression':
        return this.binary(node)
      case 'LogicalExpression':
        return this.logical(node)
      case 'ConditionalExpression': {
        const test = this.expr(node.test)
        const consequent = this.expr(node.consequent)
        const alternate = this.expr(node.alternate)
        return (s) => (test(s) ? consequent(s) : alternate(s))
      }
      case 'AssignmentExpression':
        return this.assignment(node)
      case 'SequenceExpression': {
        const expressions = node.expressions.map((e: Value) => this.expr(e))
        const n = expressions.length
        return (s) => {
          let v
          for (let i = 0; i < n; i++) v = expressions[i](s)
          return v
        }
      }
      case 'MemberExpression':
        return this.member(node, false)
      case 'ChainExpression': {
        const inner = this.chainElement(node.expression)
        return (s) => {
          const v = inner(s)
          return v === SHORT ? undefined : v
        }
      }
      case 'CallExpression':
        return this.call(node, false)
      case 'NewExpression':
        return this.newExpression(node)
      case 'MetaProperty':
        if (node.meta.name === 'new') return this.internal(node)
        return this.unsupported(node, 'import.meta')
      case 'ImportExpression':
        return this.importExpression(node)
      case 'ParenthesizedExpression':
        return this.expr(node.expression)
      case 'AwaitExpression':
      case 'YieldExpression':
        return this.unsupported(node, `${node.type === 'AwaitExpression' ? 'await' : 'yield'} here`)
      case 'Super':
        return this.unsupported(node, "'super' keyword unexpected here")
    }
    return this.unsupported(node, `The syntax ${node.type}`)
  }

  literal(node: Value): Expr {
    if (node.regex !== undefined) {
      const { pattern, flags } = node.regex
      const engine = this.engine
      const make = engine.helpers.newRegExp
      return () => make(pattern, flags)
    }
    if (node.bigint !== undefined) {
      const value = BigInt(node.bigint)
      return () => value
    }
    const value = node.value
    return () => value
  }

  template(node: Value): Expr {
    const quasis: string[] = node.quasis.map((q: Value) => q.value.cooked)
    const expressions = node.expressions.map((e: Value) => this.expr(e))
    const engine = this.engine
    const n = expressions.length
    if (n === 0) {
      const text = quasis[0]
      return () => text
    }
    if (n === 1) {
      const [a, b] = quasis as [string, string]
      const e = expressions[0]
      return (s) => a + templateString(engine, e(s)) + b
    }
    return (s) => {
      let out = quasis[0]!
      for (let i = 0; i < n; i++) out += templateString(engine, expressions[i](s)) + quasis[i + 1]
      return out
    }
  }

  taggedTemplate(node: Value): Expr {
    const engine = this.engine
    const siteObject = this.templateSite(node.quasi)
    const expressions = node.quasi.expressions.map((e: Value) => this.expr(e))
    const { callee } = this.calleeAndThis(node.tag)
    const notFunction = this.tagNotFunction(node)
    return (s) => {
      const pair = callee(s)
      const fn = pair.fn
      const args = [siteObject()]
      for (const e of expressions) args.push(e(s))
      if (typeof fn !== 'function') throw notFunction()
      return engine.callFunction(fn, pair.self, args)
    }
  }

  /** The template object of a tagged template: one per site, created on first use. */
  templateSite(quasi: Value): () => Value {
    // acorn marks an invalid escape (allowed in tagged templates) with null; its cooked value is undefined.
    const cooked = quasi.quasis.map((q: Value) => q.value.cooked ?? undefined)
    const raw = quasi.quasis.map((q: Value) => q.value.raw)
    const engine = this.engine
    let site: Value
    return () => (site ??= engine.helpers.templateObject(cooked, raw))
  }

  tagNotFunction(node: Value): () => Value {
    const engine = this.engine
    const loc = this.loc(node)
    const text = this.text(node.tag)
    return () => engine.error('TypeError', `${text} is not a function`, loc)
  }

  /** For calls and tagged templates: the function and its `this`. */
  calleeAndThis(node: Value): { callee: (s: Scope) => { fn: Value; self: Value }; self: unknown } {
    const engine = this.engine
    if (node.type === 'MemberExpression' && node.object.type !== 'Super') {
      const object = this.expr(node.object)
      const key = this.memberKey(node)
      const loc = this.loc(node)
      return {
        callee: (s) => {
          const o = object(s)
          const k = key(s)
          return { fn: getValue(engine, o, k, loc), self: o }
        },
        self: true,
      }
    }
    const fn = this.expr(node)
    return { callee: (s) => ({ fn: fn(s), self: undefined }), self: undefined }
  }

  arrayLiteral(node: Value): Expr {
    const elements: Value[] = node.elements
    const engine = this.engine
    // One realm function per literal shape: the realm builds the array with native semantics
    // (holes, spread through the realm's iterators), so the array is a realm array.
    const params: string[] = []
    const parts: string[] = []
    const values: Expr[] = []
    elements.forEach((element, index) => {
      if (element === null) {
        parts.push('')
        return
      }
      params.push(`v${index}`)
      if (element.type === 'SpreadElement') {
        parts.push(`...v${index}`)
        values.push(this.expr(element.argument))
      } else {
        parts.push(`v${index}`)
        values.push(this.expr(element))
      }
    })
    const trailingHole = elements.length > 0 && elements[elements.length - 1] === null ? ',' : ''
    const shape = engine.realm.objectShape(
      `(function (${params.join(',')}) { return [${parts.join(',')}${trailingHole}] })`,
    )
    const n = values.length
    if (n === 0) return () => shape()
    if (n === 1) {
      const a = values[0]!
      return (s) => shape(a(s))
    }
    if (n === 2) {
      const [a, b] = values as [Expr, Expr]
      return (s) => shape(a(s), b(s))
    }
    if (n === 3) {
      const [a, b, c] = values as [Expr, Expr, Expr]
      return (s) => shape(a(s), b(s), c(s))
    }
    return (s) => {
      const list: Value[] = []
      for (let i = 0; i < n; i++) list.push(values[i]!(s))
      return apply(shape, undefined, list)
    }
  }

  objectLiteral(node: Value): Expr {
    const engine = this.engine
    const properties: Value[] = node.properties
    // The longest prefix of plain `key: value` / shorthand / method properties is built by one
    // realm function per shape; the rest (computed keys, accessors, spread) is defined in order.
    const params: string[] = []
    const parts: string[] = []
    const values: Expr[] = []
    let index = 0
    for (; index < properties.length; index++) {
      const property = properties[index]
      if (property.type !== 'Property' || property.computed || property.kind !== 'init') break
      if (property.method && this.usesSuper(property.value)) break
      const key = staticKey(property.key)
      const name = `v${index}`
      params.push(name)
      if (key === '__proto__' && !property.shorthand) parts.push(`"__proto__": ${name}`)
      else parts.push(`[${JSON.stringify(key)}]: ${name}`)
      if (property.method) {
        const make = this.functionMaker(property.value, { method: true, homeObject: false })
        if (!property.value.generator && !property.value.async) {
          values.push((s) => make(s, undefined, undefined, key))
        } else {
          values.push((s) => {
            const fn = make(s, undefined)
            engine.setName(fn, key)
            return fn
          })
        }
      } else if (key === '__proto__' && !property.shorthand) {
        // `__proto__: value` sets the prototype; it defines no property, so names no function.
        values.push(this.expr(property.value))
      } else values.push(this.namedValue(property.value, key))
    }
    const shape = engine.realm.objectShape(
      `(function (${params.join(',')}) { return { ${parts.join(', ')} } })`,
    )
    const restSteps: ((s: Scope, o: Value) => void)[] = []
    for (; index < properties.length; index++) restSteps.push(this.objectProperty(properties[index]))
    const n = values.length
    let build: Expr
    if (n === 0) build = () => shape()
    else if (n === 1) {
      const a = values[0]!
      build = (s) => shape(a(s))
    } else if (n === 2) {
      const [a, b] = values as [Expr, Expr]
      build = (s) => shape(a(s), b(s))
    } else if (n === 3) {
      const [a, b, c] = values as [Expr, Expr, Expr]
      build = (s) => shape(a(s), b(s), c(s))
    } else {
      build = (s) => {
        const list: Value[] = []
        for (let i = 0; i < n; i++) list.push(values[i]!(s))
        return apply(shape, undefined, list)
      }
    }
    if (restSteps.length === 0) return build
    return (s) => {
      const o = build(s)
      for (const step of restSteps) step(s, o)
      return o
    }
  }

  usesSuper(fnNode: Value): boolean {
    const info = this.analysis.functions.get(fnNode)
    return info?.scope.bindings.has('%home') === true
  }

  objectProperty(property: Value): (s: Scope, o: Value) => void {
    const engine = this.engine
    if (property.type === 'SpreadElement') {
      const argument = this.expr(property.argument)
      const copy = engine.helpers.copyDataProperties
      return (s, o) => {
        copy(o, argument(s))
      }
    }
    const key = this.propertyKey(property)
    const staticName = property.computed ? undefined : staticKey(property.key)
    if (property.kind === 'get' || property.kind === 'set' || property.method) {
      const define = this.objectMethod(property)
      return (s, o) => define(s, o, key(s))
    }
    if (!property.computed && staticName === '__proto__' && !property.shorthand) {
      const value = this.expr(property.value)
      return (s, o) => {
        const v = value(s)
        if (isObject(v) || v === null) setPrototypeOf(o, v)
      }
    }
    const anonymous = isAnonymousFunction(property.value)
    const value = this.expr(property.value)
    return (s, o) => {
      const k = key(s)
      const v = value(s)
      if (anonymous && property.computed) engine.setName(v, k)
      defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true })
    }
  }

  /** Defines a method or accessor of an object literal under its evaluated key. */
  objectMethod(property: Value): (s: Scope, o: Value, k: Value) => void {
    const engine = this.engine
    const make = this.functionMaker(property.value, { method: true, homeObject: true })
    if (property.kind === 'get' || property.kind === 'set') {
      const kind = property.kind
      return (s, o, k) => {
        const fn = make(s, o)
        engine.setName(fn, k, kind)
        defineProperty(
          o,
          k,
          kind === 'get'
            ? { get: fn, enumerable: true, configurable: true }
            : { set: fn, enumerable: true, configurable: true },
        )
      }
    }
    return (s, o, k) => {
      const fn = make(s, o)
      engine.setName(fn, k)
      defineProperty(o, k, { value: fn, writable: true, enumerable: true, configurable: true })
    }
  }

  propertyKey(property: Value): Expr {
    if (!property.computed) {
      const key = staticKey(property.key)
      return () => key
    }
    const key = this.expr(property.key)
    const engine = this.engine
    return (s) => toPropertyKey(engine, key(s))
  }

  /** A value with NamedEvaluation: anonymous functions and classes take `name`. */
  namedValue(node: Value, name: Value): Expr {
    if (isAnonymousFunction(node)) {
      if (node.type === 'ClassExpression') return this.classValue(node, name)
      return this.functionValue(node, name)
    }
    return this.expr(node)
  }

  unary(node: Value): Expr {
    const engine = this.engine
    const loc = this.loc(node)
    if (node.operator === 'typeof' && node.argument.type === 'Identifier')
      return this.typeofReference(node.argument)
    if (node.operator === 'delete') return this.deleteExpression(node)
    const argument = this.expr(node.argument)
    switch (node.operator) {
      case '!':
        return (s) => !argument(s)
      case '-':
        return (s) => -toNumeric(engine, argument(s), loc)
      case '+':
        return (s) => {
          const v = argument(s)
          if (typeof v === 'number') return v
          if (typeof v === 'bigint')
            throw engine.error('TypeError', 'Cannot convert a BigInt value to a number', loc)
          return +toPrimitiveNumber(engine, v)
        }
      case '~':
        return (s) => ~toNumeric(engine, argument(s), loc)
      case 'typeof':
        return (s) => typeof argument(s)
      case 'void':
        return (s) => {
          argument(s)
          return undefined
        }
    }
    return this.unsupported(node, `The operator ${node.operator}`)
  }

  deleteExpression(node: Value): Expr {
    const argument = node.argument
    const engine = this.engine
    const strict = this.fn.strict
    const loc = this.loc(node)
    if (
      argument.type === 'MemberExpression' ||
      (argument.type === 'ChainExpression' && argument.expression.type === 'MemberExpression')
    ) {
      const member = argument.type === 'ChainExpression' ? argument.expression : argument
      if (member.object.type === 'Super') {
        return () => {
          throw engine.error('ReferenceError', 'Unsupported reference to super', loc)
        }
      }
      const object = this.expr(member.object)
      const key = this.memberKey(member)
      return (s) => {
        const o = object(s)
        if (o == null) {
          if (member.optional) return true
          throw engine.error('TypeError', `Cannot convert undefined or null to object`, loc)
        }
        const k = key(s)
        const target = engine.toObject(o, loc)
        const ok = Reflect.deleteProperty(target, k)
        if (!ok && strict)
          throw engine.error('TypeError', `Cannot delete property '${keyText(k)}' of ${String(o)}`, loc)
        return ok
      }
    }
    if (argument.type === 'Identifier') {
      const ref = this.analysis.references.get(argument)
      if (
        ref?.binding !== undefined &&
        !(
          ref.binding.scope.kind === 'script' &&
          (ref.binding.kind === 'var' || ref.binding.kind === 'function')
        )
      ) {
        return () => false
      }
      const name: string = argument.name
      const global = engine.global
      return () => {
        if (engine.lexicalNames.has(name)) return false
        return Reflect.deleteProperty(global, name)
      }
    }
    const value = this.expr(argument)
    return (s) => {
      value(s)
      return true
    }
  }

  update(node: Value): Expr {
    const engine = this.engine
    const loc = this.loc(node)
    const prefix = node.prefix
    const delta: 1 | -1 = node.operator === '++' ? 1 : -1
    const target = this.assignTarget(node.argument)
    if (target.simple && target.get) {
      const get = target.get
      const set = target.simple
      return (s) => {
        const old = get(s)
        if (typeof old === 'number') {
          const next = old + delta
          set(s, next)
          return prefix ? next : old
        }
        const oldValue = toNumeric(engine, old, loc)
        const newValue = typeof oldValue === 'bigint' ? oldValue + BigInt(delta) : oldValue + delta
        set(s, newValue)
        return prefix ? newValue : oldValue
      }
    }
    return (s) => updateReference(engine, target, s, target.prepare(s), delta, prefix, loc)
  }

  /** `#name in o` once `o` is evaluated. */
  privateIn(node: Value): (s: Scope, o: Value) => boolean {
    const engine = this.engine
    const loc = this.loc(node)
    const brand = this.privateName(node.left)
    return (s, o) => {
      if (!isObject(o))
        throw engine.error(
          'TypeError',
          `Cannot use 'in' operator to search for '#${node.left.name}' in ${String(o)}`,
          loc,
        )
      return brand(s).has(o)
    }
  }

  binary(node: Value): Expr {
    const engine = this.engine
    const loc = this.loc(node)
    if (node.left.type === 'PrivateIdentifier') {
      const has = this.privateIn(node)
      const right = this.expr(node.right)
      return (s) => has(s, right(s))
    }
    const left = this.expr(node.left)
    const right = this.expr(node.right)
    switch (node.operator) {
      case '+':
        return (s) => {
          const a = left(s)
          const b = right(s)
          if (typeof a === 'number' && typeof b === 'number') return a + b
          if (typeof a === 'string' && typeof b === 'string') return a + b
          return add(engine, a, b, loc)
        }
      case '-':
        return (s) => {
          const a = left(s)
          const b = right(s)
          if (typeof a === 'number' && typeof b === 'number') return a - b
          return arith(engine, a, b, loc, (x, y) => x - y)
        }
      case '*':
        return (s) => {
          const a = left(s)
          const b = right(s)
          if (typeof a === 'number' && typeof b === 'number') return a * b
          return arith(engine, a, b, loc, (x, y) =>
            typeof x === 'bigint' ? bigIntOperation(engine, '*', x, y) : x * y,
          )
        }
      case '/':
        return (s) => {
          const a = left(s)
          const b = right(s)
          if (typeof a === 'number' && typeof b === 'number') return a / b
          return arith(engine, a, b, loc, (x, y) => x / y)
        }
      case '%':
        return (s) => {
          const a = left(s)
          const b = right(s)
          if (typeof a === 'number' && typeof b === 'number') return a % b
          return arith(engine, a, b, loc, (x, y) => x % y)
        }
      case '**':
        return (s) =>
          arith(engine, left(s), right(s), loc, (x, y) =>
            typeof x === 'bigint' ? bigIntOperation(engine, '**', x, y) : x ** y,
          )
      case '<':
        return (s) => {
          const a = left(s)
          const b = right(s)
          if (typeof a === 'number' && typeof b === 'number') return a < b
          return compare(engine, a, b, loc, (x, y) => x < y, false)
        }
      case '>':
        return (s) => {
          const a = left(s)
          const b = right(s)
          if (typeof a === 'number' && typeof b === 'number') return a > b
          return compare(engine, a, b, loc, (x, y) => x > y, false)
        }
      case '<=':
        return (s) => {
          const a = left(s)
          const b = right(s)
          if (typeof a === 'number' && typeof b === 'number') return a <= b
          return compare(engine, a, b, loc, (x, y) => x <= y, false)
        }
      case '>=':
        return (s) => {
          const a = left(s)
          const b = right(s)
          if (typeof a === 'number' && typeof b === 'number') return a >= b
          return compare(engine, a, b, loc, (x, y) => x >= y, false)
        }
      case '===':
        return (s) => left(s) === right(s)
      case '!==':
        return (s) => left(s) !== right(s)
      case '==':
        return (s) => looseEquals(engine, left(s), right(s))
      case '!=':
        return (s) => !looseEquals(engine, left(s), right(s))
      case '&':
        return (s) => arith(engine, left(s), right(s), loc, (x, y) => x & y)
      case '|':
        return (s) => {
          const a = left(s)
          const b = right(s)
          if (typeof a === 'number' && typeof b === 'number') return a | b
          return arith(engine, a, b, loc, (x, y) => x | y)
        }
      case '^':
        return (s) => arith(engine, left(s), right(s), loc, (x, y) => x ^ y)
      case '<<':
        return (s) =>
          arith(engine, left(s), right(s), loc, (x, y) =>
            typeof x === 'bigint' ? bigIntOperation(engine, '<<', x, y) : x << y,
          )
      case '>>':
        return (s) => arith(engine, left(s), right(s), loc, (x, y) => x >> y)
      case '>>>':
        return (s) => arith(engine, left(s), right(s), loc, (x, y) => x >>> y)
      case 'instanceof':
        return (s) => instanceOf(engine, left(s), right(s), loc)
      case 'in':
        return (s) => {
          const key = left(s)
          return hasProperty(engine, key, right(s), loc)
        }
    }
    return this.unsupported(node, `The operator ${node.operator}`)
  }

  logical(node: Value): Expr {
    const left = this.expr(node.left)
    const right = this.expr(node.right)
    switch (node.operator) {
      case '&&':
        return (s) => left(s) && right(s)
      case '||':
        return (s) => left(s) || right(s)
      default:
        return (s) => left(s) ?? right(s)
    }
  }

  /** Compiles `a op= b` and `a = b`. */
  assignment(node: Value): Expr {
    const engine = this.engine
    const loc = this.loc(node)
    const operator: string = node.operator
    if (operator === '=' && (node.left.type === 'ObjectPattern' || node.left.type === 'ArrayPattern')) {
      const bind = this.pattern(node.left, 'assign')
      const value = this.expr(node.right)
      return (s) => {
        const v = value(s)
        bind(s, v)
        return v
      }
    }
    const target = this.assignTarget(node.left)
    // `(f) = function () {}` names nothing: a parenthesized target is not an identifier reference.
    // acorn drops the parentheses, but the assignment then starts before its target.
    const named =
      node.left.type === 'Identifier' && node.left.start === node.start && isAnonymousFunction(node.right)
    const value = named ? this.namedValue(node.right, node.left.name) : this.expr(node.right)
    if (operator === '=') {
      if (target.simple) {
        const set = target.simple
        return (s) => {
          const v = value(s)
          set(s, v)
          return v
        }
      }
      if (target.assign) return target.assign(value)
      return (s) => {
        const ctx = target.prepare(s)
        const v = value(s)
        target.write(s, ctx, v)
        return v
      }
    }
    if (operator === '&&=' || operator === '||=' || operator === '??=') {
      return (s) => {
        const ctx = target.prepare(s)
        const old = target.read(s, ctx)
        if (operator === '&&=' ? !old : operator === '||=' ? old : old != null) return old
        const v = value(s)
        target.write(s, ctx, v)
        return v
      }
    }
    const op = binaryOperation(engine, operator.slice(0, -1), loc)
    if (target.simple && target.get) {
      const get = target.get
      const set = target.simple
      if (operator === '+=') {
        return (s) => {
          const a = get(s)
          const b = value(s)
          const v =
            (typeof a === 'number' && typeof b === 'number') ||
            (typeof a === 'string' && typeof b === 'string')
              ? (a as number) + (b as number)
              : add(engine, a, b, loc)
          set(s, v)
          return v
        }
      }
      return (s) => {
        const v = op(get(s), value(s))
        set(s, v)
        return v
      }
    }
    return (s) => {
      const ctx = target.prepare(s)
      const old = target.read(s, ctx)
      const v = op(old, value(s))
      target.write(s, ctx, v)
      return v
    }
  }

  /**
   * An assignment target: `prepare` evaluates the parts before the right-hand side (object, key),
   * `read`/`write` use them.
   */
  assignTarget(node: Value): {
    prepare: (s: Scope) => Value
    read: (s: Scope, ctx: Value) => Value
    write: (s: Scope, ctx: Value, v: Value) => void
    simple?: (s: Scope, v: Value) => void
    get?: Expr
    /** `target = value` in one closure: the same steps as prepare and write, without a context. */
    assign?: (value: Expr) => Expr
  } {
    const engine = this.engine
    const strict = this.fn.strict
    const loc = this.loc(node)
    if (node.type === 'Identifier') {
      const ref = this.reference(node)
      return {
        prepare: () => undefined,
        read: (s) => ref.get(s),
        write: (s, _c, v) => ref.set(s, v),
        simple: ref.set,
        get: ref.get,
      }
    }
    if (node.type === 'ParenthesizedExpression') return this.assignTarget(node.expression)
    if (node.type === 'MemberExpression') {
      if (node.property.type === 'PrivateIdentifier') {
        const object = this.expr(node.object)
        const access = this.privateAccess(node)
        return {
          prepare: (s) => object(s),
          read: (s, o) => access.get(s, o),
          write: (s, o, v) => access.set(s, o, v),
        }
      }
      if (node.object.type === 'Super') {
        return {
          prepare: this.superReference(node),
          read: (_s, c) => Reflect.get(c.base, c.k, c.self),
          write: (_s, c, v) => {
            const ok = Reflect.set(c.base, c.k, v, c.self)
            if (!ok && strict)
              throw engine.error('TypeError', `Cannot assign to read only property '${keyText(c.k)}'`, loc)
          },
        }
      }
      const object = this.expr(node.object)
      if (!node.computed) {
        const key = node.property.name
        return {
          prepare: (s) => object(s),
          read: (_s, o) => getValue(engine, o, key, loc),
          write: (_s, o, v) => setValue(engine, o, key, v, strict, loc),
          assign: (value) => (s) => {
            const o = object(s)
            const v = value(s)
            setValue(engine, o, key, v, strict, loc)
            return v
          },
        }
      }
      const property = this.expr(node.property)
      /** The key of `o[k]` as a property key; `o` must not be null or undefined. */
      const keyFor = (o: Value, k: Value): Value => {
        if (o == null) {
          throw engine.error(
            'TypeError',
            `Cannot set properties of ${o === null ? 'null' : 'undefined'}`,
            loc,
          )
        }
        return typeof k === 'string' || typeof k === 'number' ? k : toPropertyKey(engine, k)
      }
      return {
        assign: (value) => (s) => {
          const o = object(s)
          const k = keyFor(o, property(s))
          const v = value(s)
          setValue(engine, o, k, v, strict, loc)
          return v
        },
        prepare: (s) => {
          const o = object(s)
          return { o, k: keyFor(o, property(s)) }
        },
        read: (_s, c) => getValue(engine, c.o, c.k, loc),
        write: (_s, c, v) => setValue(engine, c.o, c.k, v, strict, loc),
      }
    }
    if (node.type === 'CallExpression') {
      const call = this.expr(node)
      return {
        prepare: (s) => {
          call(s)
          throw engine.error('ReferenceError', 'Invalid left-hand side in assignment', loc)
        },
        read: () => undefined,
        write: () => {},
      }
    }
    return this.unsupported(node, `Assignment to ${node.type}`)
  }

  memberKey(node: Value): Expr {
    if (!node.computed) {
      const key = node.property.name
      return () => key
    }
    const property = this.expr(node.property)
    const engine = this.engine
    return (s) => {
      const k = property(s)
      return typeof k === 'string' || typeof k === 'number' ? k : toPropertyKey(engine, k)
    }
  }

  member(node: Value, inChain: boolean): Expr {
    const engine = this.engine
    const loc = this.loc(node)
    if (node.object.type === 'Super') {
      // superReference()'s order, without allocating the reference on this common path.
      const home = this.internal(node.object)
      const self = this.thisFor(node)
      const property = node.computed ? this.expr(node.property) : undefined
      const name = node.computed ? undefined : node.property.name
      return (s) => {
        const receiver = self(s)
        if (property === undefined) return Reflect.get(getPrototypeOf(home(s)), name, receiver)
        const raw = property(s)
        const base = getPrototypeOf(home(s))
        return Reflect.get(base, toPropertyKey(engine, raw), receiver)
      }
    }
    const object = inChain ? this.chainElement(node.object) : this.expr(node.object)
    const optional = node.optional
    if (node.property.type === 'PrivateIdentifier') {
      const access = this.privateAccess(node)
      return (s) => {
        const o = object(s)
        if (inChain && o === SHORT) return SHORT
        if (optional && o == null) return SHORT
        return access.get(s, o)
      }
    }
    if (!node.computed) {
      const key: string = node.property.name
      if (inChain) {
        return (s) => {
          const o = object(s)
          if (o === SHORT) return SHORT
          if (optional && o == null) return SHORT
          if ((typeof o === 'object' && o !== null) || typeof o === 'function') return o[key]
          return getPrimitive(engine, o, key, loc)
        }
      }
      return (s) => {
        const o = object(s)
        if ((typeof o === 'object' && o !== null) || typeof o === 'function') return o[key]
        return getPrimitive(engine, o, key, loc)
      }
    }
    const property = this.expr(node.property)
    return (s) => {
      const o = object(s)
      if (inChain) {
        if (o === SHORT) return SHORT
        if (optional && o == null) return SHORT
      }
      let k = property(s)
      if (typeof k !== 'number' && typeof k !== 'string') {
        if (o == null)
          throw engine.error(
            'TypeError',
            `Cannot read properties of ${o === null ? 'null' : 'undefined'}`,
            loc,
          )
        k = toPropertyKey(engine, k)
      }
      if ((typeof o === 'object' && o !== null) || typeof o === 'function') return o[k]
      return getPrimitive(engine, o, k, loc)
    }
  }

  /**
   * A `super[key]` reference, in the spec's order: `this` (a ReferenceError before super() in a
   * derived constructor), the key's value, the home object's prototype, then the property key.
   */
  superReference(node: Value): (s: Scope) => { base: Value; k: Value; self: Value } {
    const engine = this.engine
    const home = this.internal(node.object)
    const self = this.thisFor(node)
    const property = node.computed ? this.expr(node.property) : undefined
    const name = node.computed ? undefined : node.property.name
    return (s) => {
      const receiver = self(s)
      const raw = property === undefined ? name : property(s)
      const base = getPrototypeOf(home(s))
      return { base, k: toPropertyKey(engine, raw), self: receiver }
    }
  }

  /** `this` as seen by a `super.x` access (the function's `this`). */
  thisFor(node: Value): Expr {
    // The analysis recorded `%this` for the member node of a `super.x` access.
    return this.internal(node)
  }

  chainElement(node: Value): Expr {
    if (node.type === 'MemberExpression') return this.member(node, true)
    if (node.type === 'CallExpression') return this.call(node, true)
    return this.expr(node)
  }

  call(node: Value, inChain: boolean): Expr {
    const engine = this.engine
    const loc = this.loc(node)
    const callee = node.callee
    if (callee.type === 'Super') return this.superCall(node)
    const args = this.argumentList(node.arguments)
    const text = this.text(callee)
    const notFunction = () => engine.error('TypeError', `${text} is not a function`, loc)
    const optional = node.optional

    // Direct `eval(...)` needs the caller's scope. In global code with no local bindings in
    // sight it is global code evaluation and runs; anywhere else it is refused, clearly.
    // `eval?.(...)` is an ordinary call, hence indirect eval.
    const evalRef =
      callee.type === 'Identifier' && callee.name === 'eval' && !optional
        ? this.analysis.references.get(callee)
        : undefined
    if (evalRef !== undefined && evalRef.binding === undefined) {
      const get = this.reference(callee).get
      let global = true
      for (let scope: StaticScope | undefined = evalRef.from; scope !== undefined; scope = scope.parent) {
        if (scope.kind === 'function' || (scope.kind === 'block' && scope.bindings.size > 0)) global = false
      }
      const strict = this.fn.strict
      return (s) => {
        const fn = get(s)
        const list = args(s)
        if (fn === engine.intrinsics.evalFunction) {
          if (typeof list[0] !== 'string') return list[0]
          if (global && engine.directEval !== undefined) return engine.directEval(list[0], strict)
          throw engine.error(
            'EvalError',
            'direct eval (eval with access to local variables) is not supported by the airlock interpreter; use (0, eval)(code) for global code',
            loc,
          )
        }
        if (typeof fn !== 'function') throw notFunction()
        return engine.callFunction(fn, undefined, list)
      }
    }

    const invoke = (fn: Value, self: Value, list: Value[]) => {
      if (typeof fn !== 'function') throw notFunction()
      const raw = implOf(fn)
      try {
        if (raw !== undefined) return raw(self, list, undefined)
        if (fn === engine.intrinsics.Array) chargeArrayConstruction(engine, list)
        return apply(fn, self, list)
      } catch (error) {
        engine.annotate(error, loc)
        throw error
      }
    }

    // `(a?.b)()` still calls with `this` = a: the parenthesised chain is a reference. Its own
    // short-circuit yields an undefined callee, not a short-circuit of the enclosing chain.
    const wrapped = callee.type === 'ChainExpression' && callee.expression.type === 'MemberExpression'
    const member = wrapped ? callee.expression : callee
    if (member.type === 'MemberExpression' && member.object.type !== 'Super') {
      const chained = inChain || wrapped
      const object = chained ? this.chainElement(member.object) : this.expr(member.object)
      const calleeOptional = member.optional
      const shorted = wrapped
        ? () => {
            if (optional) return SHORT
            throw notFunction()
          }
        : () => SHORT
      if (member.property.type === 'PrivateIdentifier') {
        const access = this.privateAccess(member)
        return (s) => {
          const o = object(s)
          if (chained && (o === SHORT || (calleeOptional && o == null))) return shorted()
          const fn = access.get(s, o)
          if (optional && fn == null) return SHORT
          return invoke(fn, o, args(s))
        }
      }
      const key = this.memberKey(member)
      if (!member.computed && !chained) {
        const name: string = member.property.name
        return (s) => {
          const o = object(s)
          let fn
          if ((typeof o === 'object' && o !== null) || typeof o === 'function') fn = o[name]
          else fn = getPrimitive(engine, o, name, loc)
          return invoke(fn, o, args(s))
        }
      }
      return (s) => {
        const o = object(s)
        if (chained && (o === SHORT || (calleeOptional && o == null))) return shorted()
        const fn = getValue(engine, o, key(s), loc)
        if (optional && fn == null) return SHORT
        return invoke(fn, o, args(s))
      }
    }
    if (callee.type === 'MemberExpression') {
      const fnValue = this.member(callee, false)
      const self = this.thisFor(callee)
      return (s) => invoke(fnValue(s), self(s), args(s))
    }
    const fnValue = inChain ? this.chainElement(callee) : this.expr(callee)
    if (inChain || optional) {
      return (s) => {
        const fn = fnValue(s)
        if (fn === SHORT) return SHORT
        if (optional && fn == null) return SHORT
        return invoke(fn, undefined, args(s))
      }
    }
    const fixed = this.fixedArguments(node.arguments)
    if (fixed !== undefined) {
      if (fixed.length === 0) {
        return (s) => {
          const fn = fnValue(s)
          if (typeof fn !== 'function') throw notFunction()
          const raw = implOf(fn)
          try {
            if (raw !== undefined) return raw(undefined, [], undefined)
            return apply(fn, undefined, [])
          } catch (error) {
            engine.annotate(error, loc)
            throw error
          }
        }
      }
      if (fixed.length === 1) {
        const a = fixed[0]!
        return (s) => {
          const fn = fnValue(s)
          const list = [a(s)]
          if (typeof fn !== 'function') throw notFunction()
          const raw = implOf(fn)
          try {
            if (raw !== undefined) return raw(undefined, list, undefined)
            if (fn === engine.intrinsics.Array) chargeArrayConstruction(engine, list)
            return apply(fn, undefined, list)
          } catch (error) {
            engine.annotate(error, loc)
            throw error
          }
        }
      }
    }
    return (s) => {
      const fn = fnValue(s)
      return invoke(fn, undefined, args(s))
    }
  }

  fixedArguments(nodes: Value[]): Expr[] | undefined {
    if (nodes.some((n) => n.type === 'SpreadElement')) return undefined
    return nodes.map((n) => this.expr(n))
  }

  /** Arguments as a host list (never handed to sandbox code: the callee copies what it needs). */
  argumentList(nodes: Value[]): (s: Scope) => Value[] {
    const engine = this.engine
    if (nodes.some((n) => n.type === 'SpreadElement')) {
      const parts = nodes.map((n) => ({
        spread: n.type === 'SpreadElement',
        value: this.expr(n.type === 'SpreadElement' ? n.argument : n),
        loc: this.loc(n),
      }))
      return (s) => {
        const out: Value[] = []
        for (const part of parts) {
          if (part.spread) spreadToList(engine, part.value(s), part.loc, out)
          else out.push(part.value(s))
        }
        return out
      }
    }
    const values = nodes.map((n) => this.expr(n))
    const n = values.length
    if (n === 0) return () => []
    if (n === 1) {
      const a = values[0]!
      return (s) => [a(s)]
    }
    if (n === 2) {
      const [a, b] = values as [Expr, Expr]
      return (s) => [a(s), b(s)]
    }
    if (n === 3) {
      const [a, b, c] = values as [Expr, Expr, Expr]
      return (s) => [a(s), b(s), c(s)]
    }
    return (s) => {
      const out: Value[] = []
      for (let i = 0; i < n; i++) out.push(values[i]!(s))
      return out
    }
  }

  newExpression(node: Value): Expr {
    const engine = this.engine
    const loc = this.loc(node)
    const callee = this.expr(node.callee)
    const args = this.argumentList(node.arguments)
    const text = this.text(node.callee)
    return (s) => {
      const fn = callee(s)
      const list = args(s)
      if (typeof fn !== 'function') throw engine.error('TypeError', `${text} is not a constructor`, loc)
      try {
        return construct(fn, engine.constructArguments(fn, list))
      } catch (error) {
        if (
          error instanceof TypeError &&
          error.message.endsWith(' is not a constructor') &&
          !isConstructor(fn)
        ) {
          throw engine.error('TypeError', `${text} is not a constructor`, loc)
        }
        engine.annotate(error, loc)
        throw error
      }
    }
  }

  superCall(node: Value): Expr {
    const superFn = this.internal(node)
    const args = this.argumentList(node.arguments)
    return (s) => {
      const sup = superFn(s)
      return sup(args(s))
    }
  }

  importExpression(node: Value): Expr {
    const engine = this.engine
    const source = this.expr(node.source)
    const loc = this.loc(node)
    return (s) => {
      const specifier = source(s)
      const capability = engine.helpers.newPromise()
      try {
        const text = typeof specifier === 'string' ? specifier : String(specifier)
        if (engine.importModule === undefined)
          throw engine.error('Error', `Cannot import "${text}": imports are not available`, loc)
        capability.resolve(engine.importModule(text, loc))
      } catch (error) {
        capability.reject(engine.toSandbox(error))
      }
      return capability.promise
    }
  }

  // ---- private names ---------------------------------------------------------------------------

  /** The private name's brand: a host WeakMap from object to value, one per class evaluation. */
  privateName(node: Value): Expr {
    const ref = this.analysis.references.get(node)
    if (ref?.binding === undefined)
      return this.unsupported(node, `Private field '#${node.name}' outside its class`)
    return this.slotReference(ref.binding, depthOf(ref.from, ref.binding), node).get
  }

  privateAccess(node: Value): {
    get: (s: Scope, o: Value) => Value
    set: (s: Scope, o: Value, v: Value) => void
  } {
    const brand = this.privateName(node.property)
    const engine = this.engine
    const loc = this.loc(node)
    const name = `#${node.property.name}`
    return {
      get: (s, o) => {
        const record: PrivateName = brand(s)
        if (!isObject(o) || !record.has(o)) {
          throw engine.error(
            'TypeError',
            `Cannot read private member ${name} from an object whose class did not declare it`,
            loc,
          )
        }
        return record.get(o)
      },
      set: (s, o, v) => {
        const record: PrivateName = brand(s)
        if (!isObject(o) || !record.has(o)) {
          throw engine.error(
            'TypeError',
            `Cannot write private member ${name} to an object whose class did not declare it`,
            loc,
          )
        }
        record.set(o, v)
      },
    }
  }

  // ---- functions -------------------------------------------------------------------------------

  functionValue(node: Value, name?: Value): Expr {
    const make = this.functionMaker(node, { method: false, homeObject: false })
    const engine = this.engine
    const staticName = node.id ? node.id.name : name
    if (staticName === undefined) return (s) => make(s, undefined)
    if (!node.generator && !node.async) return (s) => make(s, undefined, undefined, staticName)
    return (s) => {
      const fn = make(s, undefined)
      engine.setName(fn, staticName)
      return fn
    }
  }

  /**
   * Returns `(scope, homeObject) => realm function`. The implementation `impl(self, args,
   * newTarget)` creates the function's scope, binds parameters and runs the body.
   */
  functionMaker(
    node: Value,
    options: { method: boolean; homeObject: boolean; classConstructor?: { derived: boolean } },
  ): (s: Scope, home: Value, setup?: ClassSetup, name?: Value) => Value {
    const engine = this.engine
    const info = this.analysis.functions.get(node)!
    // What toString gives back: the function's own text; a method's from its name on, a class
    // constructor's the whole class (ranges the analysis recorded).
    const text = this.source.text.slice(node.__sourceStart ?? node.start, node.__sourceEnd ?? node.end)
    const sourceText = node.__static === true ? text.replace(staticPrefix, '') : text
    const scope = info.scope
    const kind: FunctionContext['kind'] = node.generator
      ? node.async
        ? 'asyncGenerator'
        : 'generator'
      : node.async
        ? 'async'
        : 'sync'
    const outer = this.fn
    const savedLabels = this.pendingLabels
    const savedCompletion = this.completion
    this.pendingLabels = []
    this.completion = undefined
    this.fn = { info, kind, strict: info.strict, derived: options.classConstructor?.derived === true }
    let body: Value
    let params: (s: Scope, args: Value[]) => void
    /** A concise body: the implementation returns its value without the RETURN protocol. */
    let bodyExpression: Expr | undefined
    try {
      params = this.parameters(node, info)
      body = kind === 'sync' ? this.functionBody(node) : this.generatorBody(node)
      if (kind === 'sync' && (node.body.type === 'ExpressionBody' || node.expression === true)) {
        bodyExpression = this.expr(node.body.type === 'ExpressionBody' ? node.body.expression : node.body)
      }
    } finally {
      this.fn = outer
      this.pendingLabels = savedLabels
      this.completion = savedCompletion
    }
    const size = scope.size
    const template = Array.from({ length: size }, (): Value => undefined)
    for (const binding of scope.bindings.values()) if (binding.tdz) template[binding.slot] = HOLE
    // The body's own scope, if any, keeps its bindings in this array too.
    const bodyScope: StaticScope | undefined = this.analysis.scopes.get(node.body)
    if (bodyScope !== undefined)
      for (const binding of bodyScope.bindings.values()) if (binding.tdz) template[binding.slot] = HOLE
    if (!node.params.every((p: Value) => p.type === 'Identifier')) {
      // Parameters with defaults or patterns are in their TDZ until initialized, left to right.
      for (const param of node.params) {
        for (const id of patternNames(param)) {
          const binding = scope.bindings.get(id.name)
          if (binding !== undefined && binding.kind === 'param') template[binding.slot] = HOLE
        }
      }
    }
    const slotOf = (name: string) => scope.bindings.get(name)?.slot ?? -1
    const thisSlot = slotOf('%this')
    const newTargetSlot = slotOf('%newtarget')
    const homeSlot = slotOf('%home')
    const superSlot = slotOf('%super')
    const argumentsSlot = scope.bindings.get('arguments')?.kind === 'arguments' ? slotOf('arguments') : -1
    const calleeSlot =
      node.id && scope.bindings.get(node.id.name)?.kind === 'callee' ? slotOf(node.id.name) : -1
    const strict = info.strict
    const arrow = info.arrow
    const global = engine.global
    const realmObject = engine.intrinsics.Object
    const meter = engine.meter
    const strictArguments = engine.helpers.strictArguments
    const factories = engine.realm.factories
    const length = expectedArgumentCount(node.params)
    const isClass = options.classConstructor !== undefined
    const derived = options.classConstructor?.derived === true
    const defaultConstructor = node.isDefaultConstructor === true
    if (derived && thisSlot >= 0) template[thisSlot] = HOLE

    const needsEnter =
      thisSlot >= 0 ||
      newTargetSlot >= 0 ||
      homeSlot >= 0 ||
      superSlot >= 0 ||
      calleeSlot >= 0 ||
      argumentsSlot >= 0
    /** Creates the function's scope and binds `this`, `arguments` and the parameters. */
    const enter = (
      parent: Scope,
      fn: Value,
      home: Value,
      self: Value,
      args: Value[],
      newTarget: Value,
      superCall?: Value,
    ): Scope => {
      if (++meter.ops >= meter.nextCheck) meter.check()
      const s = template.slice()
      s[0] = parent
      if (thisSlot >= 0 && !arrow && !derived) {
        s[thisSlot] = strict || isObject(self) ? self : self == null ? global : realmObject(self)
      }
      if (newTargetSlot >= 0 && !arrow) s[newTargetSlot] = newTarget
      if (homeSlot >= 0) s[homeSlot] = isClass ? fn.prototype : home
      if (superSlot >= 0) s[superSlot] = superCall
      if (calleeSlot >= 0) s[calleeSlot] = fn
      if (argumentsSlot >= 0) s[argumentsSlot] = apply(strictArguments, undefined, args)
      params(s, args)
      return s
    }

    // Sync functions without an `arguments` object come from realm factories that declare their
    // parameters, so `length` needs no redefinition (see Engine.functionFactory).
    const declaresLength =
      kind === 'sync' && argumentsSlot < 0 && length > 0 && length <= MAX_DECLARED_PARAMETERS
    const declaredKind = arrow ? 'arrow' : options.method ? 'method' : 'plain'
    // Arguments past `length` reach only a rest parameter or parameters after a default.
    const extraArguments = node.params.length > length
    let anonymousFactory: ((impl: Value) => Value) | undefined
    let namedFactory: ((impl: Value, name: Value) => Value) | undefined

    return (parent: Scope, home: Value, classSetup?: ClassSetup, name?: Value) => {
      let fn: Value
      let impl: Value
      if (kind === 'sync') {
        const run: Stmt = body
        if (classSetup !== undefined) {
          impl = (self: Value, args: Value[], newTarget: Value, superCall: Value) => {
            if (++meter.depth > meter.maxDepth) meter.depthExceeded()
            const s = enter(parent, fn, home, self, args, newTarget, superCall)
            if (!derived) classSetup.initialize(self, newTarget)
            else if (superSlot >= 0) s[superSlot] = classSetup.wrapSuper(superCall, s, thisSlot)
            if (defaultConstructor && derived) {
              const result = s[superSlot](args)
              meter.depth--
              return result
            }
            const c = run(s)
            meter.depth--
            let result: Value = c === RETURN ? takeReturn() : undefined
            if (derived) {
              if (isObject(result)) return result
              if (result !== undefined)
                throw engine.error('TypeError', 'Derived constructors may only return object or undefined')
              const self2 = s[thisSlot]
              if (self2 === HOLE || thisSlot < 0) {
                throw engine.error(
                  'ReferenceError',
                  "Must call super constructor in derived class before accessing 'this' or returning from derived constructor",
                )
              }
              return self2
            }
            if (!isObject(result)) result = self
            return result
          }
        } else if (!needsEnter && bodyExpression !== undefined) {
          const expression = bodyExpression
          impl = (_self: Value, args: Value[]) => {
            if (++meter.depth > meter.maxDepth) meter.depthExceeded()
            if (++meter.ops >= meter.nextCheck) meter.check()
            const s = template.slice()
            s[0] = parent
            params(s, args)
            const result = expression(s)
            meter.depth--
            return result
          }
        } else if (!needsEnter) {
          // The common case: no `this`, `arguments` or `new.target`, so the scope is just the
          // parameters.
          impl = (_self: Value, args: Value[]) => {
            if (++meter.depth > meter.maxDepth) meter.depthExceeded()
            if (++meter.ops >= meter.nextCheck) meter.check()
            const s = template.slice()
            s[0] = parent
            params(s, args)
            const c = run(s)
            meter.depth--
            return c === RETURN ? takeReturn() : undefined
          }
        } else {
          impl = (self: Value, args: Value[], newTarget: Value) => {
            if (++meter.depth > meter.maxDepth) meter.depthExceeded()
            const s = enter(parent, fn, home, self, args, newTarget)
            const c = run(s)
            meter.depth--
            return c === RETURN ? takeReturn() : undefined
          }
        }
      } else {
        const makeBody: GenFn = body
        impl = (self: Value, args: Value[], newTarget: Value) => {
          const s = enter(parent, fn, home, self, args, newTarget)
          return { generator: makeBody(s), returnValue: undefined } satisfies BodyState
        }
      }
      if (classSetup !== undefined) {
        fn = classSetup.derived ? factories.derivedClass(impl, classSetup.parent) : factories.baseClass(impl)
        defineProperty(fn, 'name', { value: '', writable: false, enumerable: false, configurable: true })
      } else if (kind === 'sync') {
        if (declaresLength) {
          fn =
            name === undefined
              ? (anonymousFactory ??= engine.functionFactory(declaredKind, length, false, extraArguments))(
                  impl,
                )
              : (namedFactory ??= engine.functionFactory(declaredKind, length, true, extraArguments))(
                  impl,
                  name,
                )
        } else if (name === undefined) {
          fn = arrow ? factories.arrow(impl) : options.method ? factories.method(impl) : factories.plain(impl)
        } else {
          fn = arrow
            ? factories.namedArrow(impl, name)
            : options.method
              ? factories.namedMethod(impl, name)
              : factories.namedPlain(impl, name)
        }
        stamp(fn, impl)
      } else if (kind === 'async') {
        fn = arrow ? factories.asyncArrow(impl) : factories.asyncFunction(impl)
      } else if (kind === 'generator') {
        fn = factories.generator(impl, options.method)
        defineProperty(fn, 'name', { value: '', writable: false, enumerable: false, configurable: true })
      } else {
        fn = factories.asyncGenerator(impl)
        defineProperty(fn, 'name', { value: '', writable: false, enumerable: false, configurable: true })
      }
      if (length !== 0 && (classSetup !== undefined || !declaresLength)) {
        defineProperty(fn, 'length', {
          value: length,
          writable: false,
          enumerable: false,
          configurable: true,
        })
      }
      recordSourceText(fn, sourceText)
      return fn
    }
  }

  parameters(node: Value, info: FunctionInfo): (s: Scope, args: Value[]) => void {
    const params: Value[] = node.params
    if (params.length === 0) return () => {}
    if (params.every((p) => p.type === 'Identifier')) {
      const slots = params.map((p) => {
        const ref = this.analysis.references.get(p)!
        return ref.binding!.slot
      })
      void info
      const n = slots.length
      if (n === 1) {
        const a = slots[0]!
        return (s, args) => {
          s[a] = args.length > 0 ? args[0] : undefined
        }
      }
      if (n === 2) {
        const [a, b] = slots as [number, number]
        return (s, args) => {
          const length = args.length
          s[a] = length > 0 ? args[0] : undefined
          s[b] = length > 1 ? args[1] : undefined
        }
      }
      return (s, args) => {
        const length = args.length
        for (let i = 0; i < n; i++) s[slots[i]!] = i < length ? args[i] : undefined
      }
    }
    const engine = this.engine
    const binders = params.map((p) => {
      if (p.type === 'RestElement') {
        const bind = this.pattern(p.argument, 'init')
        return { rest: true, bind }
      }
      return { rest: false, bind: this.pattern(p, 'init') }
    })
    return (s, args) => {
      for (let i = 0; i < binders.length; i++) {
        const binder = binders[i]!
        if (binder.rest) binder.bind(s, engine.toArray(args.slice(i)))
        else binder.bind(s, i < args.length ? args[i] : undefined)
      }
    }
  }

  functionBody(node: Value): Stmt {
    if (node.body.type === 'ExpressionBody' || (node.type === 'ArrowFunctionExpression' && node.expression)) {
      const expression = this.expr(node.body.type === 'ExpressionBody' ? node.body.expression : node.body)
      return (s) => {
        returnValue = expression(s)
        return RETURN
      }
    }
    const statements: Value[] = node.body.body
    const init = this.bodyScopeInit(node)
    const hoisted = this.hoistedFunctions(statements)
    const list = this.statementList(statements)
    if (init !== undefined) {
      return (s) => {
        init(s)
        if (hoisted !== undefined) hoisted(s)
        return list(s)
      }
    }
    if (hoisted === undefined) return list
    return (s) => {
      hoisted(s)
      return list(s)
    }
  }

  /**
   * Initializes the separate scope of the body's declarations that a function with parameter
   * expressions has (see scope-analysis.ts; its slots are in the function's array): a body `var`
   * named like a parameter starts with the parameter's value.
   */
  bodyScopeInit(node: Value): ((s: Scope) => void) | undefined {
    const scope: StaticScope | undefined = this.analysis.scopes.get(node.body)
    if (scope === undefined) return undefined
    const params = this.analysis.functions.get(node)!.scope.bindings
    const copies: [to: number, from: number][] = []
    for (const binding of scope.bindings.values()) {
      const param = params.get(binding.name)
      if (binding.kind === 'var' && param?.kind === 'param') copies.push([binding.slot, param.slot])
    }
    if (copies.length === 0) return undefined
    return (s) => {
      for (const [to, from] of copies) s[to] = s[from]
    }
  }

  /** Function declarations of a body or block, created when it is entered. */
  hoistedFunctions(statements: Value[]): ((s: Scope) => void) | undefined {
    const declarations = statements.filter((statement) => statement.type === 'FunctionDeclaration')
    if (declarations.length === 0) return undefined
    const steps = declarations.map((declaration) => {
      const ref = this.reference(declaration.id)
      const make = this.functionValue(declaration)
      return (s: Scope) => ref.init(s, make(s))
    })
    return (s) => {
      for (const step of steps) step(s)
    }
  }

  // ---- classes ---------------------------------------------------------------------------------

  classValue(node: Value, inferredName?: Value): Expr {
    const engine = this.engine
    const loc = this.loc(node)
    const classScope = this.analysis.scopes.get(node)!
    const superClass = node.superClass ? this.expr(node.superClass) : undefined
    const name = node.id ? node.id.name : inferredName
    const elements: Value[] = node.body.body
    const constructorNode = elements.find((element) => element.kind === 'constructor')
    const derived = node.superClass != null
    const materialized = classScope.materialized
    const classTemplate: Value[] = Array.from({ length: classScope.size }, (): Value => undefined)
    const innerName = node.id ? classScope.bindings.get(node.id.name) : undefined
    const classBinding = classScope.bindings.get('%class')!
    // Private names of this class: one brand per evaluation.
    const privates = [...classScope.bindings.values()].filter((b) => b.name.startsWith('#'))
    const privateKinds = new Map<string, { kind: string; isStatic: boolean }>()
    for (const element of elements) {
      if (element.key?.type === 'PrivateIdentifier') {
        const kind = element.type === 'MethodDefinition' ? element.kind : 'field'
        privateKinds.set(`#${element.key.name}`, { kind, isStatic: element.static === true })
      }
    }
    const ctorNode = constructorNode ? constructorNode.value : node.__defaultConstructor
    const makeConstructor = this.functionMaker(ctorNode, {
      method: true,
      homeObject: true,
      classConstructor: { derived },
    })

    type Step = (s: Scope, cls: Value, proto: Value) => void
    /** Run at class definition, in order: methods, accessors, computed field keys. */
    const definitions: Step[] = []
    /** Run per instance (or on the class for static ones), in order. */
    const instanceFields: ((s: Scope, self: Value) => void)[] = []
    const staticFields: ((s: Scope, cls: Value) => void)[] = []

    for (const element of elements) {
      if (element.type === 'MethodDefinition') {
        if (element.kind === 'constructor') continue
        const isPrivate = element.key.type === 'PrivateIdentifier'
        const key = isPrivate ? undefined : this.propertyKey(element)
        const brand = isPrivate ? this.privateName(element.key) : undefined
        const make = this.functionMaker(element.value, { method: true, homeObject: true })
        const kind: string = element.kind
        const privateText = isPrivate ? `#${element.key.name}` : ''
        const isStatic = element.static === true
        definitions.push((s, cls, proto) => {
          const target = isStatic ? cls : proto
          const k = isPrivate ? privateText : key!(s)
          const fn = make(s, target)
          engine.setName(fn, k, kind === 'get' || kind === 'set' ? kind : undefined)
          if (isPrivate) {
            const record: PrivateName = brand!(s)
            if (kind === 'get') record.getter = fn
            else if (kind === 'set') record.setter = fn
            else record.method = fn
            return
          }
          if (kind === 'get' || kind === 'set') {
            const existing = getOwnPropertyDescriptor(target, k)
            const descriptor: PropertyDescriptor = { enumerable: false, configurable: true }
            if (kind === 'get') {
              descriptor.get = fn
              if (existing?.set !== undefined) descriptor.set = existing.set
            } else {
              descriptor.set = fn
              if (existing?.get !== undefined) descriptor.get = existing.get
            }
            defineProperty(target, k, descriptor)
          } else {
            defineProperty(target, k, { value: fn, writable: true, enumerable: false, configurable: true })
          }
        })
      } else if (element.type === 'PropertyDefinition') {
        const isPrivate = element.key.type === 'PrivateIdentifier'
        const key = isPrivate ? undefined : this.propertyKey(element)
        const brand = isPrivate ? this.privateName(element.key) : undefined
        const initializer = element.__function
          ? this.functionMaker(element.__function, { method: true, homeObject: true })
          : undefined
        const anonymous = element.value != null && isAnonymousFunction(element.value)
        const privateText = isPrivate ? `#${element.key.name}` : ''
        const isStatic = element.static === true
        // Computed keys are evaluated once, at class definition; kept per class evaluation.
        const keys = new WeakMap<Scope, Value>()
        let lastKey: Value
        definitions.push((s) => {
          if (!isPrivate) {
            lastKey = key!(s)
            keys.set(s, lastKey)
          }
        })
        const run = (s: Scope, target: Value, home: Value) => {
          const k = isPrivate ? privateText : keys.has(s) ? keys.get(s) : lastKey
          let value: Value
          if (initializer !== undefined) {
            const fn = initializer(s, home)
            value = engine.callFunction(fn, target, [])
            if (anonymous) engine.setName(value, k)
          }
          if (isPrivate) {
            const record: PrivateName = brand!(s)
            if (record.has(target)) {
              throw engine.error(
                'TypeError',
                `Cannot initialize ${privateText} twice on the same object`,
                loc,
              )
            }
            record.set(target, value, true)
          } else {
            if (!defineProperty(target, k, { value, writable: true, enumerable: true, configurable: true })) {
              throw engine.error('TypeError', `Cannot define property ${keyText(k)}`, loc)
            }
          }
        }
        if (isStatic) staticFields.push((s, cls) => run(s, cls, cls))
        else instanceFields.push((s, self) => run(s, self, getPrototypeOf(self)))
      } else if (element.type === 'StaticBlock') {
        const make = this.functionMaker(element.__function, { method: true, homeObject: true })
        staticFields.push((s, cls) => {
          engine.callFunction(make(s, cls), cls, [])
        })
      }
    }

    return (outer) => {
      let parent: Value
      let protoParent: Value = engine.intrinsics.ObjectPrototype
      let s: Scope
      if (materialized) {
        s = classTemplate.slice()
        s[0] = outer
      } else s = outer
      if (innerName !== undefined) s[innerName.slot] = HOLE
      for (const binding of privates) {
        const info = privateKinds.get(binding.name)
        const record = new PrivateName(engine, binding.name, info?.kind ?? 'field')
        record.isStatic = info?.isStatic === true
        s[binding.slot] = record
      }
      if (superClass !== undefined) {
        parent = superClass(s)
        if (parent === null) {
          protoParent = null
        } else {
          if (typeof parent !== 'function' || !isConstructor(parent)) {
            throw engine.error(
              'TypeError',
              `Class extends value ${describe(parent)} is not a constructor or null`,
              loc,
            )
          }
          protoParent = parent.prototype
          if (protoParent !== null && !isObject(protoParent)) {
            throw engine.error(
              'TypeError',
              `Class extends value does not have valid prototype property ${describe(protoParent)}`,
              loc,
            )
          }
        }
      }
      const setup: ClassSetup = {
        derived,
        parent,
        initialize: (self: Value) => {
          for (const binding of privates) {
            const record: PrivateName = s[binding.slot]
            if (!record.isStatic && record.kind !== 'field') record.brand(self)
          }
          for (const field of instanceFields) field(s, self)
        },
        wrapSuper: (superCall: Value, fs: Scope, thisSlot: number) => (args: Value[]) => {
          const self = superCall(engine.toArray(args))
          if (thisSlot >= 0) {
            if (fs[thisSlot] !== HOLE)
              throw engine.error('ReferenceError', 'Super constructor may only be called once', loc)
            fs[thisSlot] = self
          }
          setup.initialize(self, undefined)
          return self
        },
      }
      const cls = makeConstructor(s, undefined, setup)
      const proto = cls.prototype
      s[classBinding.slot] = cls
      if (name !== undefined) engine.setName(cls, name)
      for (const step of definitions) step(s, cls, proto)
      if (innerName !== undefined) s[innerName.slot] = cls
      for (const binding of privates) {
        const record: PrivateName = s[binding.slot]
        if (record.isStatic && record.kind !== 'field') record.brand(cls)
      }
      for (const field of staticFields) field(s, cls)
      return cls
    }
  }

  // ---- patterns --------------------------------------------------------------------------------

  /**
   * Binds a value to a pattern. `init` initializes declarations, `assign` assigns (assignment
   * patterns, `for (x of ...)`).
   */
  pattern(node: Value, mode: 'init' | 'assign'): (s: Scope, v: Value) => void {
    const engine = this.engine
    const loc = this.loc(node)
    switch (node.type) {
      case 'Identifier': {
        const ref = this.reference(node)
        return mode === 'init' ? ref.init : ref.set
      }
      case 'MemberExpression': {
        const target = this.assignTarget(node)
        return (s, v) => target.write(s, target.prepare(s), v)
      }
      case 'AssignmentPattern': {
        const bind = this.pattern(node.left, mode)
        const named = node.left.type === 'Identifier' && isAnonymousFunction(node.right)
        const fallback = named ? this.namedValue(node.right, node.left.name) : this.expr(node.right)
        return (s, v) => bind(s, v === undefined ? fallback(s) : v)
      }
      case 'ObjectPattern': {
        const steps = node.properties.map((property: Value) => {
          if (property.type === 'RestElement') {
            return { rest: true, key: undefined, ...this.patternElement(property.argument, mode) }
          }
          const key = this.propertyKey(property)
          return { rest: false, key, ...this.patternElement(property.value, mode) }
        })
        const copyRest = engine.helpers.copyRest
        return (s, v) => {
          if (v == null) throw cannotDestructure(engine, v, loc)
          const used: Value[] = []
          for (const step of steps) {
            if (step.rest) {
              const ref = step.prepare === undefined ? undefined : step.prepare(s)
              step.bind(s, copyRest(v, engine.toArray(used)), ref)
            } else {
              const k = step.key!(s)
              used.push(typeof k === 'number' ? String(k) : k)
              const ref = step.prepare === undefined ? undefined : step.prepare(s)
              step.bind(s, getValue(engine, v, k, loc), ref)
            }
          }
        }
      }
      case 'ArrayPattern': {
        const elements = node.elements.map((element: Value) => {
          if (element === null) return undefined
          if (element.type === 'RestElement')
            return { rest: true, ...this.patternElement(element.argument, mode) }
          return { rest: false, ...this.patternElement(element, mode) }
        })
        return (s, v) => {
          const iterator = new PatternIterator(engine, v, loc)
          try {
            for (const element of elements) {
              if (element === undefined) {
                iterator.step()
                continue
              }
              const ref = element.prepare === undefined ? undefined : element.prepare(s)
              element.bind(s, element.rest ? iterator.rest() : iterator.step(), ref)
            }
          } catch (error) {
            iterator.abandon(error)
            throw error
          }
          iterator.finish()
        }
      }
      case 'ParenthesizedExpression':
        return this.pattern(node.expression, mode)
    }
    return this.unsupported(node, `The pattern ${node.type}`)
  }

  /**
   * One target of a destructuring pattern. A member-expression target is a reference that the
   * spec evaluates before the value is fetched (before the iterator steps), so `prepare` runs
   * first and `bind` gets its result.
   */
  patternElement(
    node: Value,
    mode: 'init' | 'assign',
  ): { prepare: ((s: Scope) => Value) | undefined; bind: (s: Scope, v: Value, ref: Value) => void } {
    const target = node.type === 'AssignmentPattern' ? node.left : node
    if (mode === 'init' || target.type !== 'MemberExpression') {
      return { prepare: undefined, bind: this.pattern(node, mode) }
    }
    const member = this.assignTarget(target)
    if (node.type !== 'AssignmentPattern') {
      return { prepare: member.prepare, bind: (s, v, ref) => member.write(s, ref, v) }
    }
    const fallback = this.expr(node.right)
    return {
      prepare: member.prepare,
      bind: (s, v, ref) => member.write(s, ref, v === undefined ? fallback(s) : v),
    }
  }

  /** pattern() for a pattern that contains `await` or `yield` (defaults, computed keys, targets). */
  gpattern(node: Value, mode: 'init' | 'assign'): (s: Scope, v: Value) => Generator<Value, void, Value> {
    if (!this.analysis.suspends.has(node)) {
      const bind = this.pattern(node, mode)
      // oxlint-disable-next-line require-yield -- adapts a sync pattern to the generator protocol
      return function* (s, v) {
        bind(s, v)
      }
    }
    const engine = this.engine
    const loc = this.loc(node)
    switch (node.type) {
      case 'AssignmentPattern': {
        const bind = this.gpattern(node.left, mode)
        const named = node.left.type === 'Identifier' && isAnonymousFunction(node.right)
        const fallback = named
          ? this.wrap(this.namedValue(node.right, node.left.name))
          : this.gexpr(node.right)
        return function* (s, v) {
          yield* bind(s, v === undefined ? yield* fallback(s) : v)
        }
      }
      case 'MemberExpression': {
        const element = this.gpatternElement(node, mode)
        return function* (s, v) {
          yield* element.bind(s, v, yield* element.prepare!(s))
        }
      }
      case 'ObjectPattern': {
        const steps = node.properties.map((property: Value) => {
          if (property.type === 'RestElement') {
            return { rest: true, key: undefined, ...this.gpatternElement(property.argument, mode) }
          }
          const key = property.computed ? this.gexpr(property.key) : this.wrap(this.propertyKey(property))
          return { rest: false, key, ...this.gpatternElement(property.value, mode) }
        })
        const copyRest = engine.helpers.copyRest
        return function* (s, v) {
          if (v == null) throw cannotDestructure(engine, v, loc)
          const used: Value[] = []
          for (const step of steps) {
            if (step.rest) {
              const ref = step.prepare === undefined ? undefined : yield* step.prepare(s)
              yield* step.bind(s, copyRest(v, engine.toArray(used)), ref)
            } else {
              const k = toPropertyKey(engine, yield* step.key!(s))
              used.push(k)
              const ref = step.prepare === undefined ? undefined : yield* step.prepare(s)
              yield* step.bind(s, getValue(engine, v, k, loc), ref)
            }
          }
        }
      }
      case 'ArrayPattern': {
        const elements = node.elements.map((element: Value) => {
          if (element === null) return undefined
          if (element.type === 'RestElement')
            return { rest: true, ...this.gpatternElement(element.argument, mode) }
          return { rest: false, ...this.gpatternElement(element, mode) }
        })
        return function* (s, v) {
          const iterator = new PatternIterator(engine, v, loc)
          try {
            for (const element of elements) {
              if (element === undefined) {
                iterator.step()
                continue
              }
              const ref = element.prepare === undefined ? undefined : yield* element.prepare(s)
              yield* element.bind(s, element.rest ? iterator.rest() : iterator.step(), ref)
            }
          } catch (error) {
            // A generator's return() leaves through the pattern as a return completion: the
            // iterator is closed and, unlike under a throw, its own errors win.
            if (error === RETURN_REQUEST) iterator.finish()
            else iterator.abandon(error)
            throw error
          }
          iterator.finish()
        }
      }
      case 'ParenthesizedExpression':
        return this.gpattern(node.expression, mode)
    }
    return this.unsupported(node, `await or yield inside the pattern ${node.type}`)
  }

  /** patternElement() for the suspendable compiler. */
  gpatternElement(
    node: Value,
    mode: 'init' | 'assign',
  ): {
    prepare: ((s: Scope) => Generator<Value, Value, Value>) | undefined
    bind: (s: Scope, v: Value, ref: Value) => Generator<Value, void, Value>
  } {
    const target = node.type === 'AssignmentPattern' ? node.left : node
    if (mode === 'init' || target.type !== 'MemberExpression') {
      return { prepare: undefined, bind: this.gpattern(node, mode) }
    }
    // The reference itself suspends only with await or yield in its object or key.
    let prepare: (s: Scope) => Generator<Value, Value, Value>
    let write: (s: Scope, ctx: Value, v: Value) => void
    if (this.analysis.suspends.has(target)) ({ prepare, write } = this.gassignTarget(target))
    else {
      const member = this.assignTarget(target)
      prepare = this.wrap(member.prepare)
      write = member.write
    }
    const fallback = node.type === 'AssignmentPattern' ? this.gexpr(node.right) : undefined
    return {
      prepare,
      bind: function* (s, v, ref) {
        write(s, ref, v === undefined && fallback !== undefined ? yield* fallback(s) : v)
      },
    }
  }

  /** assignTarget() for a property reference whose object or key contains await or yield. */
  gassignTarget(node: Value): {
    prepare: (s: Scope) => Generator<Value, Value, Value>
    read: (s: Scope, ctx: Value) => Value
    write: (s: Scope, ctx: Value, v: Value) => void
  } {
    if (node.type === 'ParenthesizedExpression') return this.gassignTarget(node.expression)
    if (
      node.type !== 'MemberExpression' ||
      node.object.type === 'Super' ||
      node.property.type === 'PrivateIdentifier'
    )
      return this.unsupported(node, `await or yield inside this assignment target (${node.type})`)
    const engine = this.engine
    const strict = this.fn.strict
    const loc = this.loc(node)
    const object = this.gexpr(node.object)
    const key = node.computed ? this.gexpr(node.property) : this.wrap(this.memberKey(node))
    return {
      prepare: function* (s) {
        const o = yield* object(s)
        const k = yield* key(s)
        if (o == null)
          throw engine.error(
            'TypeError',
            `Cannot set properties of ${o === null ? 'null' : 'undefined'}`,
            loc,
          )
        return { o, k: toPropertyKey(engine, k) }
      },
      read: (_s, c) => getValue(engine, c.o, c.k, loc),
      write: (_s, c, v) => setValue(engine, c.o, c.k, v, strict, loc),
    }
  }

  // ---- statements ------------------------------------------------------------------------------

  statementList(statements: Value[]): Stmt {
    const engine = this.engine
    const list = statements.map((statement) => this.stmt(statement)).filter((f) => f !== NOOP)
    const locs = statements
      .filter((statement) => statement.type !== 'FunctionDeclaration' && statement.type !== 'EmptyStatement')
      .map((statement) => this.loc(statement))
    const n = list.length
    if (n === 0) return NOOP
    if (n === 1) {
      const only = list[0]!
      const loc = locs[0]!
      return (s) => {
        try {
          return only(s)
        } catch (error) {
          engine.annotate(error, loc)
          throw error
        }
      }
    }
    return (s) => {
      let i = 0
      try {
        for (; i < n; i++) {
          const c = list[i]!(s)
          if (c !== undefined) return c
        }
      } catch (error) {
        engine.annotate(error, locs[i]!)
        throw error
      }
      return undefined
    }
  }

  stmt(node: Value): Stmt {
    const register = this.completion
    if (register !== undefined && RESETS_COMPLETION.has(node.type)) {
      // These statements complete with undefined unless their body leaves a value (ES2015 rules).
      const inner = this.statementNode(node)
      return (s) => {
        register.value = undefined
        return inner(s)
      }
    }
    return this.statementNode(node)
  }

  statementNode(node: Value): Stmt {
    switch (node.type) {
      case 'ExpressionStatement': {
        const expression = this.expr(node.expression)
        const register = this.completion
        if (register !== undefined) {
          return (s) => {
            register.value = expression(s)
            return undefined
          }
        }
        return (s) => {
          expression(s)
          return undefined
        }
      }
      case 'VariableDeclaration':
        return this.variableDeclaration(node)
      case 'FunctionDeclaration':
        return this.blockFunctionVar(node) ?? NOOP
      case 'ClassDeclaration': {
        const ref = this.reference(node.id)
        const value = this.classValue(node)
        return (s) => {
          ref.init(s, value(s))
          return undefined
        }
      }
      case 'ReturnStatement': {
        if (node.argument == null) {
          return () => {
            returnValue = undefined
            return RETURN
          }
        }
        const argument = this.expr(node.argument)
        return (s) => {
          returnValue = argument(s)
          return RETURN
        }
      }
      case 'IfStatement': {
        const test = this.expr(node.test)
        const consequent = this.stmt(node.consequent)
        if (node.alternate == null) return (s) => (test(s) ? consequent(s) : undefined)
        const alternate = this.stmt(node.alternate)
        return (s) => (test(s) ? consequent(s) : alternate(s))
      }
      case 'BlockStatement':
        return this.block(node, node.body)
      case 'EmptyStatement':
        return NOOP
      case 'ForStatement':
        return this.forStatement(node)
      case 'ForOfStatement':
        if (node.await) return this.unsupported(node, 'for await outside an async function')
        return this.forInOf(node)
      case 'ForInStatement':
        return this.forInOf(node)
      case 'WhileStatement':
        return this.whileStatement(node)
      case 'DoWhileStatement':
        return this.doWhile(node)
      case 'BreakStatement':
        return this.jump(node, 'break')
      case 'ContinueStatement':
        return this.jump(node, 'continue')
      case 'ThrowStatement': {
        const argument = this.expr(node.argument)
        const engine = this.engine
        const loc = this.loc(node)
        return (s) => {
          const v = argument(s)
          engine.annotate(v, loc)
          throw v
        }
      }
      case 'TryStatement':
        return this.tryStatement(node)
      case 'SwitchStatement':
        return this.switchStatement(node)
      case 'LabeledStatement':
        return this.labeled(node)
      case 'DebuggerStatement':
        return NOOP
      case 'WithStatement':
        return this.unsupported(node, 'The with statement')
      case 'ImportDeclaration':
        return this.importDeclaration(node)
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
      case 'ExportAllDeclaration':
        return this.unsupported(node, 'export')
    }
    return this.unsupported(node, `The statement ${node.type}`)
  }

  importDeclaration(node: Value): Stmt {
    const engine = this.engine
    const specifier: string = node.source.value
    const loc = this.loc(node)
    const bindings = node.specifiers.map((spec: Value) => ({
      ref: this.reference(spec.local),
      kind: spec.type,
      imported:
        spec.type === 'ImportSpecifier'
          ? spec.imported.type === 'Identifier'
            ? spec.imported.name
            : spec.imported.value
          : undefined,
    }))
    return (s) => {
      if (engine.importModule === undefined)
        throw engine.error('Error', `Cannot import "${specifier}": imports are not available`, loc)
      const namespace = engine.importModule(specifier, loc)
      for (const binding of bindings) {
        if (binding.kind === 'ImportNamespaceSpecifier') binding.ref.init(s, namespace)
        else if (binding.kind === 'ImportDefaultSpecifier') binding.ref.init(s, namespace.default)
        else binding.ref.init(s, namespace[binding.imported])
      }
      return undefined
    }
  }

  /** Annex B.3.3: evaluating a block's function declaration also assigns the var of its name. */
  blockFunctionVar(node: Value): Stmt | undefined {
    const target = this.analysis.blockFunctionVars.get(node)
    if (target === undefined) return undefined
    const from = this.reference(node.id)
    const to = this.reference(target)
    return (s) => {
      to.set(s, from.get(s))
      return undefined
    }
  }

  variableDeclaration(node: Value): Stmt {
    this.refuseUsing(node)
    const steps = node.declarations
      .map((declarator: Value) => {
        if (declarator.init == null) {
          if (node.kind === 'var') return undefined
          const bind = this.pattern(declarator.id, 'init')
          return (s: Scope) => bind(s, undefined)
        }
        const named = declarator.id.type === 'Identifier' && isAnonymousFunction(declarator.init)
        const value = named
          ? this.namedValue(declarator.init, declarator.id.name)
          : this.expr(declarator.init)
        if (declarator.id.type === 'Identifier') {
          const ref = this.reference(declarator.id)
          const write = node.kind === 'var' ? ref.set : ref.init
          return (s: Scope) => write(s, value(s))
        }
        const bind = this.pattern(declarator.id, node.kind === 'var' ? 'assign' : 'init')
        return (s: Scope) => bind(s, value(s))
      })
      .filter((step: Value) => step !== undefined) as ((s: Scope) => void)[]
    if (steps.length === 0) return NOOP
    if (steps.length === 1) {
      const only = steps[0]!
      return (s) => {
        only(s)
        return undefined
      }
    }
    return (s) => {
      for (const step of steps) step(s)
      return undefined
    }
  }

  /** Enters a block scope: a fresh array when materialized, else TDZ reset of its slots. */
  blockEntry(node: Value): { enter: (s: Scope) => Scope; materialized: boolean } | undefined {
    const scope: StaticScope | undefined = this.analysis.scopes.get(node)
    if (scope === undefined || scope.bindings.size === 0) return undefined
    const tdzSlots = [...scope.bindings.values()].filter((b) => b.tdz).map((b) => b.slot)
    if (scope.materialized) {
      const size = scope.size
      const template = Array.from({ length: size }, (): Value => undefined)
      for (const slot of tdzSlots) template[slot] = HOLE
      return {
        materialized: true,
        enter: (s) => {
          const inner = template.slice()
          inner[0] = s
          return inner
        },
      }
    }
    if (tdzSlots.length === 0) return undefined
    return {
      materialized: false,
      enter: (s) => {
        for (const slot of tdzSlots) s[slot] = HOLE
        return s
      },
    }
  }

  block(node: Value, statements: Value[]): Stmt {
    const entry = this.blockEntry(node)
    const hoisted = this.hoistedFunctions(statements)
    const list = this.statementList(statements)
    if (entry === undefined && hoisted === undefined) return list
    const enter = entry?.enter ?? ((s: Scope) => s)
    return (s) => {
      const inner = enter(s)
      if (hoisted !== undefined) hoisted(inner)
      return list(inner)
    }
  }

  takeLabels(): string[] {
    const labels = this.pendingLabels
    this.pendingLabels = []
    return labels
  }

  /** Decides what a loop does with its body's completion: 0 continue looping, 1 break, else propagate. */
  loopControl(labels: string[]): (c: Value) => number {
    const breaks = new Set<object>([BREAK])
    const continues = new Set<object>([CONTINUE])
    for (const label of labels) {
      const tokens = this.labelToken(label)
      breaks.add(tokens.brk)
      continues.add(tokens.cont)
    }
    if (labels.length === 0) return (c) => (c === CONTINUE ? 0 : c === BREAK ? 1 : 2)
    return (c) => (continues.has(c) ? 0 : breaks.has(c) ? 1 : 2)
  }

  labelToken(label: string): { brk: object; cont: object } {
    let tokens = this.labelTokens.get(label)
    if (tokens === undefined) {
      tokens = { brk: { kind: 'break', label }, cont: { kind: 'continue', label } }
      this.labelTokens.set(label, tokens)
    }
    return tokens
  }

  jump(node: Value, kind: 'break' | 'continue'): Stmt {
    if (node.label == null) {
      const token = kind === 'break' ? BREAK : CONTINUE
      return () => token
    }
    const tokens = this.labelToken(node.label.name)
    const token = kind === 'break' ? tokens.brk : tokens.cont
    return () => token
  }

  labeled(node: Value): Stmt {
    const label: string = node.label.name
    const body = node.body
    const isLoop =
      /^(For|ForIn|ForOf|While|DoWhile)Statement$/.test(body.type) || body.type === 'LabeledStatement'
    if (isLoop) this.pendingLabels.push(label)
    const inner = this.stmt(body)
    const tokens = this.labelToken(label)
    const brk = tokens.brk
    return (s) => {
      const c = inner(s)
      return c === brk ? undefined : c
    }
  }

  whileStatement(node: Value): Stmt {
    const control = this.loopControl(this.takeLabels())
    const test = this.expr(node.test)
    const body = this.stmt(node.body)
    const meter = this.engine.meter
    return (s) => {
      while (test(s)) {
        if (++meter.ops >= meter.nextCheck) meter.check()
        const c = body(s)
        if (c !== undefined) {
          const action = control(c)
          if (action === 1) break
          if (action === 2) return c
        }
      }
      return undefined
    }
  }

  doWhile(node: Value): Stmt {
    const control = this.loopControl(this.takeLabels())
    const test = this.expr(node.test)
    const body = this.stmt(node.body)
    const meter = this.engine.meter
    return (s) => {
      do {
        if (++meter.ops >= meter.nextCheck) meter.check()
        const c = body(s)
        if (c !== undefined) {
          const action = control(c)
          if (action === 1) break
          if (action === 2) return c
        }
      } while (test(s))
      return undefined
    }
  }

  forStatement(node: Value): Stmt {
    const control = this.loopControl(this.takeLabels())
    const entry = this.blockEntry(node)
    const init =
      node.init == null
        ? undefined
        : node.init.type === 'VariableDeclaration'
          ? this.variableDeclaration(node.init)
          : this.expr(node.init)
    const test = node.test == null ? undefined : this.expr(node.test)
    const update = node.update == null ? undefined : this.expr(node.update)
    const body = this.stmt(node.body)
    const meter = this.engine.meter
    const perIteration = entry?.materialized === true
    return (outer) => {
      let s = entry === undefined ? outer : entry.enter(outer)
      if (init !== undefined) init(s)
      for (;;) {
        if (perIteration) s = s.slice()
        if (test !== undefined && !test(s)) break
        if (++meter.ops >= meter.nextCheck) meter.check()
        const c = body(s)
        if (c !== undefined) {
          const action = control(c)
          if (action === 1) break
          if (action === 2) return c
        }
        if (perIteration) s = s.slice()
        if (update !== undefined) update(s)
      }
      return undefined
    }
  }

  /** The left side of for-in/of: a fresh binding per iteration for let/const. */
  forBinding(node: Value): {
    target: Value
    mode: 'init' | 'assign'
    entry: ReturnType<Compiler['blockEntry']>
  } {
    const left = node.left
    const entry = this.blockEntry(node)
    if (left.type === 'VariableDeclaration') {
      this.refuseUsing(left)
      return { target: left.declarations[0].id, mode: left.kind === 'var' ? 'assign' : 'init', entry }
    }
    return { target: left, mode: 'assign', entry }
  }

  forInOf(node: Value): Stmt {
    const engine = this.engine
    const control = this.loopControl(this.takeLabels())
    const { target, mode, entry } = this.forBinding(node)
    const bind = this.pattern(target, mode)
    const right = this.expr(node.right)
    const body = this.stmt(node.body)
    const meter = engine.meter
    const loc = this.loc(node.right)
    const text = this.text(node.right)
    const enter = entry === undefined ? (s: Scope) => s : entry.enter
    if (node.type === 'ForInStatement') {
      return (outer) => {
        const object = right(enter(outer))
        if (object == null) return undefined
        const keys = forInKeys(engine, object)
        for (const key of keys) {
          if (!keys.stillHas(key)) continue
          if (++meter.ops >= meter.nextCheck) meter.check()
          const s = enter(outer)
          bind(s, key)
          const c = body(s)
          if (c !== undefined) {
            const action = control(c)
            if (action === 1) break
            if (action === 2) return c
          }
        }
        return undefined
      }
    }
    return (outer) => {
      const iterable = right(enter(outer))
      const iterator = getIterator(engine, iterable, loc, text)
      const next = iterator.next
      for (;;) {
        if (++meter.ops >= meter.nextCheck) meter.check()
        const result = engine.callFunction(next, iterator, [])
        if (!isObject(result)) throw engine.error('TypeError', 'Iterator result is not an object', loc)
        if (result.done) return undefined
        const value = result.value
        let c: Value
        try {
          const s = enter(outer)
          bind(s, value)
          c = body(s)
        } catch (error) {
          if (!engine.isSignal(error)) closeIteratorQuietly(engine, iterator)
          throw error
        }
        if (c !== undefined) {
          const action = control(c)
          if (action === 0) continue
          closeIterator(engine, iterator)
          if (action === 1) return undefined
          return c
        }
      }
    }
  }

  tryStatement(node: Value): Stmt {
    const engine = this.engine
    const meter = engine.meter
    const block = this.stmt(node.block)
    const handler = node.handler
    let onCatch: ((s: Scope, error: Value) => Value) | undefined
    if (handler != null) {
      const entry = this.blockEntry(handler)
      const bind = handler.param ? this.pattern(handler.param, 'init') : undefined
      const body = this.stmt(handler.body)
      const register = this.completion
      onCatch = (s, error) => {
        const inner = entry === undefined ? s : entry.enter(s)
        if (register !== undefined) register.value = undefined
        if (bind !== undefined) bind(inner, error)
        return body(inner)
      }
    }
    const finalizer = node.finalizer == null ? undefined : this.finallyBlock(node.finalizer)
    const signal = meter.signalValue
    if (finalizer === undefined) {
      const handle = onCatch!
      return (s) => {
        const depth = meter.depth
        try {
          return block(s)
        } catch (error) {
          if (error === signal || error === RETURN_REQUEST) throw error
          meter.depth = depth
          return handle(s, engine.toSandbox(error))
        }
      }
    }
    return (s) => {
      const depth = meter.depth
      let completion: Value
      let signalled = false
      try {
        try {
          completion = block(s)
        } catch (error) {
          if (error === signal || error === RETURN_REQUEST || onCatch === undefined) {
            if (error === signal) signalled = true
            throw error
          }
          meter.depth = depth
          completion = onCatch(s, engine.toSandbox(error))
        }
      } catch (error) {
        if (error === signal) signalled = true
        if (signalled) throw error
        meter.depth = depth
        const saved = returnValue
        const c = finalizer(s)
        if (c !== undefined) return c
        returnValue = saved
        throw error
      }
      const saved = returnValue
      const c = finalizer(s)
      if (c !== undefined) return c
      returnValue = saved
      return completion
    }
  }

  /**
   * A `finally` block that completes normally leaves the try statement's completion value alone;
   * one that breaks out carries its own value (undefined if it produced none).
   */
  finallyBlock(node: Value): Stmt {
    const body = this.stmt(node)
    const register = this.completion
    if (register === undefined) return body
    return (s) => {
      const value = register.value
      register.value = undefined
      const c = body(s)
      if (c === undefined) register.value = value
      return c
    }
  }

  switchStatement(node: Value): Stmt {
    const labels = this.takeLabels()
    void labels
    const discriminant = this.expr(node.discriminant)
    const entry = this.blockEntry(node)
    const cases = node.cases.map((c: Value) => ({
      test: c.test == null ? undefined : this.expr(c.test),
      body: this.statementList(c.consequent),
    }))
    const hoisted = this.hoistedFunctions(node.cases.flatMap((c: Value) => c.consequent))
    const defaultIndex = cases.findIndex((c: Value) => c.test === undefined)
    return (outer) => {
      const value = discriminant(outer)
      const s = entry === undefined ? outer : entry.enter(outer)
      if (hoisted !== undefined) hoisted(s)
      let start = -1
      for (let i = 0; i < cases.length; i++) {
        const test = cases[i].test
        if (test !== undefined && test(s) === value) {
          start = i
          break
        }
      }
      if (start < 0) start = defaultIndex
      if (start < 0) return undefined
      for (let i = start; i < cases.length; i++) {
        const c = cases[i].body(s)
        if (c !== undefined) {
          if (c === BREAK) return undefined
          return c
        }
      }
      return undefined
    }
  }

  // ---- generator and async bodies --------------------------------------------------------------

  generatorBody(node: Value): GenFn {
    if (node.body.type !== 'BlockStatement') {
      const expression = this.gexpr(node.body)
      return function* (s) {
        return yield* expression(s)
      }
    }
    const statements: Value[] = node.body.body
    const init = this.bodyScopeInit(node)
    const hoisted = this.hoistedFunctions(statements)
    const list = this.gstatementList(statements)
    const engine = this.engine
    return function* (s) {
      if (init !== undefined) init(s)
      if (hoisted !== undefined) hoisted(s)
      try {
        const c = yield* list(s)
        if (c === RETURN) return takeReturn()
        return undefined
      } catch (error) {
        if (error === RETURN_REQUEST) return pendingReturn.value
        throw engine.toSandbox(error)
      }
    }
  }

  /** A sync closure used where the generator compiler expects a generator. */
  wrap(f: Expr): GenFn {
    // oxlint-disable-next-line require-yield -- adapts a sync closure to the generator protocol
    return function* (s) {
      return f(s)
    }
  }

  gexpr(node: Value): GenFn {
    if (!this.analysis.suspends.has(node)) return this.wrap(this.expr(node))
    const engine = this.engine
    const loc = this.loc(node)
    switch (node.type) {
      case 'AwaitExpression': {
        const argument = this.gexpr(node.argument)
        if (this.fn.kind === 'asyncGenerator') {
          return function* (s) {
            const v = yield* argument(s)
            return yield { await: true, value: v }
          }
        }
        return function* (s) {
          const v = yield* argument(s)
          return yield v
        }
      }
      case 'YieldExpression':
        return this.gyield(node)
      case 'ParenthesizedExpression':
        return this.gexpr(node.expression)
      case 'SequenceExpression': {
        const expressions = node.expressions.map((e: Value) => this.gexpr(e))
        return function* (s) {
          let v
          for (const e of expressions) v = yield* e(s)
          return v
        }
      }
      case 'ConditionalExpression': {
        const test = this.gexpr(node.test)
        const consequent = this.gexpr(node.consequent)
        const alternate = this.gexpr(node.alternate)
        return function* (s) {
          return (yield* test(s)) ? yield* consequent(s) : yield* alternate(s)
        }
      }
      case 'LogicalExpression': {
        const left = this.gexpr(node.left)
        const right = this.gexpr(node.right)
        const operator = node.operator
        return function* (s) {
          const l = yield* left(s)
          if (operator === '&&' ? !l : operator === '||' ? l : l != null) return l
          return yield* right(s)
        }
      }
      case 'BinaryExpression': {
        if (node.left.type === 'PrivateIdentifier') {
          const has = this.privateIn(node)
          const right = this.gexpr(node.right)
          return function* (s) {
            return has(s, yield* right(s))
          }
        }
        const left = this.gexpr(node.left)
        const right = this.gexpr(node.right)
        const op = binaryOperation(engine, node.operator, loc)
        return function* (s) {
          const l = yield* left(s)
          const r = yield* right(s)
          return op(l, r)
        }
      }
      case 'UnaryExpression': {
        const argument = this.gexpr(node.argument)
        const operator = node.operator
        return function* (s) {
          const v = yield* argument(s)
          return unaryOperation(engine, operator, v, loc)
        }
      }
      case 'TemplateLiteral': {
        const quasis: string[] = node.quasis.map((q: Value) => q.value.cooked)
        const expressions = node.expressions.map((e: Value) => this.gexpr(e))
        return function* (s) {
          let out = quasis[0]!
          for (let i = 0; i < expressions.length; i++)
            out += templateString(engine, yield* expressions[i](s)) + quasis[i + 1]
          return out
        }
      }
      case 'ArrayExpression': {
        const parts = node.elements.map((e: Value) =>
          e === null
            ? undefined
            : {
                spread: e.type === 'SpreadElement',
                value: this.gexpr(e.type === 'SpreadElement' ? e.argument : e),
                loc: this.loc(e),
              },
        )
        return function* (s) {
          const out = engine.helpers.newArray()
          let index = 0
          for (const part of parts) {
            if (part === undefined) {
              index++
              continue
            }
            const v = yield* part.value(s)
            if (part.spread) {
              const list: Value[] = []
              spreadToList(engine, v, part.loc, list)
              for (const item of list)
                defineProperty(out, index++, {
                  value: item,
                  writable: true,
                  enumerable: true,
                  configurable: true,
                })
            } else
              defineProperty(out, index++, { value: v, writable: true, enumerable: true, configurable: true })
          }
          out.length = index
          return out
        }
      }
      case 'ObjectExpression': {
        const steps = node.properties.map((property: Value) => this.gobjectProperty(property))
        return function* (s) {
          const o = engine.helpers.newObject()
          for (const step of steps) yield* step(s, o)
          return o
        }
      }
      case 'AssignmentExpression':
        return this.gassignment(node)
      case 'MemberExpression': {
        // A member of `super` suspends only through its key.
        if (node.object.type === 'Super')
          return this.unsupported(node, 'await or yield inside a super property key')
        const object = this.gchainElement(node.object)
        if (node.property.type === 'PrivateIdentifier') {
          const access = this.privateAccess(node)
          const optional = node.optional
          return function* (s) {
            const o = yield* object(s)
            if (o === SHORT || (optional && o == null)) return SHORT
            return access.get(s, o)
          }
        }
        const key = node.computed ? this.gexpr(node.property) : undefined
        const name = node.computed ? undefined : node.property.name
        const optional = node.optional
        return function* (s) {
          const o = yield* object(s)
          if (o === SHORT || (optional && o == null)) return SHORT
          const k = key === undefined ? name : toPropertyKey(engine, yield* key(s))
          return getValue(engine, o, k, loc)
        }
      }
      case 'CallExpression':
        return this.gcall(node)
      case 'NewExpression': {
        const callee = this.gexpr(node.callee)
        const args = this.gargumentList(node.arguments)
        const text = this.text(node.callee)
        return function* (s) {
          const fn = yield* callee(s)
          const list = yield* args(s)
          if (typeof fn !== 'function' || !isConstructor(fn))
            throw engine.error('TypeError', `${text} is not a constructor`, loc)
          return construct(fn, engine.constructArguments(fn, list))
        }
      }
      case 'ChainExpression': {
        const inner = this.gexpr(node.expression)
        return function* (s) {
          const v = yield* inner(s)
          return v === SHORT ? undefined : v
        }
      }
      case 'TaggedTemplateExpression': {
        if (this.analysis.suspends.has(node.tag))
          return this.unsupported(node.tag, 'await or yield in a template tag')
        const siteObject = this.templateSite(node.quasi)
        const expressions = node.quasi.expressions.map((e: Value) => this.gexpr(e))
        const { callee } = this.calleeAndThis(node.tag)
        const notFunction = this.tagNotFunction(node)
        return function* (s) {
          const pair = callee(s)
          const args = [siteObject()]
          for (const e of expressions) args.push(yield* e(s))
          if (typeof pair.fn !== 'function') throw notFunction()
          return engine.callFunction(pair.fn, pair.self, args)
        }
      }
      case 'UpdateExpression': {
        // Only the target's object or key can suspend.
        const target = this.gassignTarget(node.argument)
        const delta: 1 | -1 = node.operator === '++' ? 1 : -1
        const prefix: boolean = node.prefix
        return function* (s) {
          const ctx = yield* target.prepare(s)
          return updateReference(engine, target, s, ctx, delta, prefix, loc)
        }
      }
      case 'ClassExpression':
        return this.unsupported(node, `await or yield inside ${node.type}`)
    }
    return this.unsupported(node, `await or yield inside ${node.type}`)
  }

  /** gexpr() for a link of an optional chain: a short-circuit propagates as SHORT. */
  gchainElement(node: Value): GenFn {
    return this.analysis.suspends.has(node) ? this.gexpr(node) : this.wrap(this.chainElement(node))
  }

  gyield(node: Value): GenFn {
    const engine = this.engine
    const argument = node.argument == null ? undefined : this.gexpr(node.argument)
    const asyncGenerator = this.fn.kind === 'asyncGenerator'
    if (!node.delegate) {
      return function* (s) {
        const v = argument === undefined ? undefined : yield* argument(s)
        if (asyncGenerator) return yield { await: false, value: v }
        return yield v
      }
    }
    const loc = this.loc(node)
    if (asyncGenerator) {
      return function* (s) {
        const iterable = yield* argument!(s)
        const iterator = getAsyncIterator(engine, iterable, loc)
        const sync = iterator.__syncIterator
        const target = sync ?? iterator
        // The spec reads `next` once, when the iterator is obtained.
        const next = target.next
        let received: Value
        let mode = 0
        for (;;) {
          let result: Value
          if (mode === 0) result = engine.callFunction(next, target, [received])
          else if (mode === 1) {
            const method = target.throw
            if (method == null) {
              closeIteratorQuietly(engine, target)
              throw engine.error('TypeError', 'The iterator does not provide a throw method', loc)
            }
            result = engine.callFunction(method, target, [received])
          } else {
            const method = target.return
            if (method == null) {
              returnValueFor(received)
              throw RETURN_REQUEST
            }
            result = engine.callFunction(method, target, [received])
          }
          if (sync === undefined) result = yield { await: true, value: result }
          if (!isObject(result)) throw engine.error('TypeError', 'Iterator result is not an object', loc)
          if (result.done) {
            const value = sync === undefined ? result.value : yield { await: true, value: result.value }
            if (mode === 2) {
              returnValueFor(value)
              throw RETURN_REQUEST
            }
            return value
          }
          let value: Value
          if (sync === undefined) value = result.value
          else {
            // A rejected value from a sync iterator ends the delegation (the iterator is closed
            // unless it was being returned from); it is not thrown back into the iterator.
            try {
              value = yield { await: true, value: result.value }
            } catch (error) {
              if (mode !== 2 && !engine.isSignal(error)) closeIteratorQuietly(engine, sync)
              throw error
            }
          }
          try {
            received = yield { await: false, value, delegated: true }
            mode = 0
          } catch (error) {
            if (error === RETURN_REQUEST) {
              mode = 2
              received = pendingReturn.value
            } else if (engine.isSignal(error)) throw error
            else {
              mode = 1
              received = error
            }
          }
        }
      }
    }
    return function* (s) {
      const iterable = yield* argument!(s)
      const iterator = getIterator(engine, iterable, loc)
      const next = iterator.next
      let received: Value
      let mode = 0
      for (;;) {
        let result: Value
        if (mode === 0) result = engine.callFunction(next, iterator, [received])
        else if (mode === 1) {
          const method = iterator.throw
          if (method == null) {
            closeIterator(engine, iterator)
            throw engine.error('TypeError', 'The iterator does not provide a throw method', loc)
          }
          result = engine.callFunction(method, iterator, [received])
        } else {
          const method = iterator.return
          if (method == null) {
            returnValueFor(received)
            throw RETURN_REQUEST
          }
          result = engine.callFunction(method, iterator, [received])
        }
        if (!isObject(result)) throw engine.error('TypeError', 'Iterator result is not an object', loc)
        if (result.done) {
          if (mode === 2) {
            returnValueFor(result.value)
            throw RETURN_REQUEST
          }
          return result.value
        }
        try {
          received = yield result.value
          mode = 0
        } catch (error) {
          if (error === RETURN_REQUEST) {
            mode = 2
            received = pendingReturn.value
          } else if (engine.isSignal(error)) throw error
          else {
            mode = 1
            received = error
          }
        }
      }
    }
  }

  gobjectProperty(property: Value): (s: Scope, o: Value) => Generator<Value, void, Value> {
    const engine = this.engine
    if (property.type === 'SpreadElement') {
      const argument = this.gexpr(property.argument)
      return function* (s, o) {
        engine.helpers.copyDataProperties(o, yield* argument(s))
      }
    }
    if ((property.kind !== 'init' || property.method) && this.analysis.suspends.has(property.key)) {
      const key = this.gexpr(property.key)
      const define = this.objectMethod(property)
      return function* (s, o) {
        define(s, o, toPropertyKey(engine, yield* key(s)))
      }
    }
    if (property.kind !== 'init' || property.method) {
      const sync = this.objectProperty(property)
      // oxlint-disable-next-line require-yield -- adapts a sync step to the generator protocol
      return function* (s, o) {
        sync(s, o)
      }
    }
    const key = property.computed ? this.gexpr(property.key) : undefined
    const staticName = property.computed ? undefined : staticKey(property.key)
    const value = this.gexpr(property.value)
    const anonymous = isAnonymousFunction(property.value)
    return function* (s, o) {
      const k = key === undefined ? staticName : toPropertyKey(engine, yield* key(s))
      const v = yield* value(s)
      if (k === '__proto__' && !property.computed && !property.shorthand) {
        if (isObject(v) || v === null) setPrototypeOf(o, v)
        return
      }
      if (anonymous && key !== undefined) engine.setName(v, k)
      defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true })
    }
  }

  gassignment(node: Value): GenFn {
    const engine = this.engine
    const loc = this.loc(node)
    const value = this.gexpr(node.right)
    if (node.left.type === 'ObjectPattern' || node.left.type === 'ArrayPattern') {
      const bind = this.gpattern(node.left, 'assign')
      return function* (s) {
        const v = yield* value(s)
        yield* bind(s, v)
        return v
      }
    }
    // Only a target that itself suspends pays for a generator to evaluate its reference.
    const gtarget = this.analysis.suspends.has(node.left) ? this.gassignTarget(node.left) : undefined
    const target = gtarget ?? this.assignTarget(node.left)
    const operator: string = node.operator
    const op =
      operator === '=' ||
      (operator.length === 3 &&
        operator.endsWith('=') &&
        (operator === '&&=' || operator === '||=' || operator === '??='))
        ? undefined
        : binaryOperation(engine, operator.slice(0, -1), loc)
    return function* (s) {
      const ctx = gtarget === undefined ? target.prepare(s) : yield* gtarget.prepare(s)
      if (operator === '=') {
        const v = yield* value(s)
        target.write(s, ctx, v)
        return v
      }
      const old = target.read(s, ctx)
      if (operator === '&&=' || operator === '||=' || operator === '??=') {
        if (operator === '&&=' ? !old : operator === '||=' ? old : old != null) return old
        const v = yield* value(s)
        target.write(s, ctx, v)
        return v
      }
      const v = op!(old, yield* value(s))
      target.write(s, ctx, v)
      return v
    }
  }

  gargumentList(nodes: Value[]): (s: Scope) => Generator<Value, Value[], Value> {
    const engine = this.engine
    const parts = nodes.map((n) => ({
      spread: n.type === 'SpreadElement',
      value: this.gexpr(n.type === 'SpreadElement' ? n.argument : n),
      loc: this.loc(n),
    }))
    return function* (s) {
      const out: Value[] = []
      for (const part of parts) {
        const v = yield* part.value(s)
        if (part.spread) spreadToList(engine, v, part.loc, out)
        else out.push(v)
      }
      return out
    }
  }

  gcall(node: Value): GenFn {
    const engine = this.engine
    const loc = this.loc(node)
    const callee = node.callee
    if (callee.type === 'Super') {
      const superFn = this.internal(node)
      const args = this.gargumentList(node.arguments)
      return function* (s) {
        const list = yield* args(s)
        return superFn(s)(list)
      }
    }
    const args = this.gargumentList(node.arguments)
    const text = this.text(callee)
    const optional = node.optional
    // As in call(): a parenthesised chain callee keeps its `this` and short-circuits on its own.
    const wrapped = callee.type === 'ChainExpression' && callee.expression.type === 'MemberExpression'
    const member = wrapped ? callee.expression : callee
    if (member.type === 'MemberExpression' && member.object.type !== 'Super') {
      const object = this.gchainElement(member.object)
      const privateName =
        member.property.type === 'PrivateIdentifier' ? this.privateAccess(member) : undefined
      const key = member.computed ? this.gexpr(member.property) : undefined
      const name = member.computed ? undefined : member.property.name
      const calleeOptional = member.optional
      return function* (s) {
        const o = yield* object(s)
        if (o === SHORT || (calleeOptional && o == null)) {
          if (!wrapped || optional) return SHORT
          throw engine.error('TypeError', `${text} is not a function`, loc)
        }
        let fn
        if (privateName !== undefined) fn = privateName.get(s, o)
        else fn = getValue(engine, o, key === undefined ? name : toPropertyKey(engine, yield* key(s)), loc)
        if (optional && fn == null) return SHORT
        const list = yield* args(s)
        if (typeof fn !== 'function') throw engine.error('TypeError', `${text} is not a function`, loc)
        try {
          return engine.callFunction(fn, o, list)
        } catch (error) {
          engine.annotate(error, loc)
          throw error
        }
      }
    }
    const fnValue = this.gchainElement(callee)
    const self: Expr = callee.type === 'MemberExpression' ? this.thisFor(callee) : () => undefined
    return function* (s) {
      const fn = yield* fnValue(s)
      if (fn === SHORT || (optional && fn == null)) return SHORT
      const list = yield* args(s)
      if (typeof fn !== 'function') throw engine.error('TypeError', `${text} is not a function`, loc)
      try {
        return engine.callFunction(fn, self(s), list)
      } catch (error) {
        engine.annotate(error, loc)
        throw error
      }
    }
  }

  gstatementList(statements: Value[]): GenFn {
    const engine = this.engine
    const list = statements
      .filter((statement) => statement.type !== 'FunctionDeclaration' && statement.type !== 'EmptyStatement')
      .map((statement) => ({ run: this.gstmt(statement), loc: this.loc(statement) }))
    return function* (s) {
      let i = 0
      try {
        for (; i < list.length; i++) {
          const c = yield* list[i]!.run(s)
          if (c !== undefined) return c
        }
      } catch (error) {
        engine.annotate(error, list[i]!.loc)
        throw error
      }
      return undefined
    }
  }

  gstmt(node: Value): GenFn {
    if (!this.analysis.suspends.has(node)) {
      const sync = this.stmt(node)
      // oxlint-disable-next-line require-yield -- adapts a sync closure to the generator protocol
      return function* (s) {
        return sync(s)
      }
    }
    const engine = this.engine
    const meter = engine.meter
    switch (node.type) {
      case 'ExpressionStatement': {
        const expression = this.gexpr(node.expression)
        return function* (s) {
          yield* expression(s)
          return undefined
        }
      }
      case 'VariableDeclaration': {
        this.refuseUsing(node)
        const steps = node.declarations.map((declarator: Value) => {
          const mode = node.kind === 'var' ? 'assign' : 'init'
          // Only a pattern that suspends pays for the generator form.
          const gbind = this.analysis.suspends.has(declarator.id)
            ? this.gpattern(declarator.id, mode)
            : undefined
          const bind = gbind === undefined ? this.pattern(declarator.id, mode) : undefined
          const named =
            declarator.id.type === 'Identifier' &&
            declarator.init != null &&
            isAnonymousFunction(declarator.init)
          const value =
            declarator.init == null
              ? undefined
              : named
                ? this.wrap(this.namedValue(declarator.init, declarator.id.name))
                : this.gexpr(declarator.init)
          return { bind, gbind, value, skip: declarator.init == null && node.kind === 'var' }
        })
        return function* (s) {
          for (const step of steps) {
            if (step.skip) continue
            const v = step.value === undefined ? undefined : yield* step.value(s)
            if (step.gbind === undefined) step.bind!(s, v)
            else yield* step.gbind(s, v)
          }
          return undefined
        }
      }
      case 'ReturnStatement': {
        const argument = this.gexpr(node.argument)
        return function* (s) {
          returnValue = yield* argument(s)
          return RETURN
        }
      }
      case 'IfStatement': {
        const test = this.gexpr(node.test)
        const consequent = this.gstmt(node.consequent)
        const alternate = node.alternate == null ? undefined : this.gstmt(node.alternate)
        return function* (s) {
          if (yield* test(s)) return yield* consequent(s)
          return alternate === undefined ? undefined : yield* alternate(s)
        }
      }
      case 'BlockStatement': {
        const entry = this.blockEntry(node)
        const hoisted = this.hoistedFunctions(node.body)
        const list = this.gstatementList(node.body)
        return function* (s) {
          const inner = entry === undefined ? s : entry.enter(s)
          if (hoisted !== undefined) hoisted(inner)
          return yield* list(inner)
        }
      }
      case 'ThrowStatement': {
        const argument = this.gexpr(node.argument)
        const loc = this.loc(node)
        return function* (s) {
          const v = yield* argument(s)
          engine.annotate(v, loc)
          throw v
        }
      }
      case 'LabeledStatement': {
        const body = node.body
        const isLoop =
          /^(For|ForIn|ForOf|While|DoWhile)Statement$/.test(body.type) || body.type === 'LabeledStatement'
        if (isLoop) this.pendingLabels.push(node.label.name)
        const inner = this.gstmt(body)
        const brk = this.labelToken(node.label.name).brk
        return function* (s) {
          const c = yield* inner(s)
          return c === brk ? undefined : c
        }
      }
      case 'WhileStatement':
      case 'DoWhileStatement': {
        const control = this.loopControl(this.takeLabels())
        const test = this.gexpr(node.test)
        const body = this.gstmt(node.body)
        const doWhile = node.type === 'DoWhileStatement'
        return function* (s) {
          let first = doWhile
          for (;;) {
            if (!first && !(yield* test(s))) return undefined
            first = false
            if (++meter.ops >= meter.nextCheck) meter.check()
            const c = yield* body(s)
            if (c !== undefined) {
              const action = control(c)
              if (action === 1) return undefined
              if (action === 2) return c
            }
          }
        }
      }
      case 'ForStatement': {
        const control = this.loopControl(this.takeLabels())
        const entry = this.blockEntry(node)
        const init =
          node.init == null
            ? undefined
            : node.init.type === 'VariableDeclaration'
              ? this.gstmt(node.init)
              : this.gexpr(node.init)
        const test = node.test == null ? undefined : this.gexpr(node.test)
        const update = node.update == null ? undefined : this.gexpr(node.update)
        const body = this.gstmt(node.body)
        const perIteration = entry?.materialized === true
        return function* (outer) {
          let s = entry === undefined ? outer : entry.enter(outer)
          if (init !== undefined) yield* init(s)
          for (;;) {
            if (perIteration) s = s.slice()
            if (test !== undefined && !(yield* test(s))) return undefined
            if (++meter.ops >= meter.nextCheck) meter.check()
            const c = yield* body(s)
            if (c !== undefined) {
              const action = control(c)
              if (action === 1) return undefined
              if (action === 2) return c
            }
            if (perIteration) s = s.slice()
            if (update !== undefined) yield* update(s)
          }
        }
      }
      case 'ForOfStatement':
      case 'ForInStatement':
        return this.gforInOf(node)
      case 'TryStatement':
        return this.gtry(node)
      case 'SwitchStatement': {
        const discriminant = this.gexpr(node.discriminant)
        const entry = this.blockEntry(node)
        const cases = node.cases.map((c: Value) => ({
          test: c.test == null ? undefined : this.gexpr(c.test),
          body: this.gstatementList(c.consequent),
        }))
        const hoisted = this.hoistedFunctions(node.cases.flatMap((c: Value) => c.consequent))
        const defaultIndex = cases.findIndex((c: Value) => c.test === undefined)
        this.takeLabels()
        return function* (outer) {
          const value = yield* discriminant(outer)
          const s = entry === undefined ? outer : entry.enter(outer)
          if (hoisted !== undefined) hoisted(s)
          let start = -1
          for (let i = 0; i < cases.length; i++) {
            const test = cases[i].test
            if (test !== undefined && (yield* test(s)) === value) {
              start = i
              break
            }
          }
          if (start < 0) start = defaultIndex
          if (start < 0) return undefined
          for (let i = start; i < cases.length; i++) {
            const c = yield* cases[i].body(s)
            if (c !== undefined) return c === BREAK ? undefined : c
          }
          return undefined
        }
      }
    }
    return this.unsupported(node, `await or yield inside ${node.type}`)
  }

  gforInOf(node: Value): GenFn {
    const engine = this.engine
    const meter = engine.meter
    const control = this.loopControl(this.takeLabels())
    const { target, mode, entry } = this.forBinding(node)
    // A binding that itself suspends needs the generator form; others keep the cheaper plain one.
    const gbind = this.analysis.suspends.has(target) ? this.gpattern(target, mode) : undefined
    const bind = gbind === undefined ? this.pattern(target, mode) : undefined
    const right = this.gexpr(node.right)
    const body = this.gstmt(node.body)
    const loc = this.loc(node.right)
    const text = this.text(node.right)
    const enter = entry === undefined ? (s: Scope) => s : entry.enter
    const isAwait = node.type === 'ForOfStatement' && node.await
    const asyncGenerator = this.fn.kind === 'asyncGenerator'
    const awaitValue = asyncGenerator ? (v: Value) => ({ await: true, value: v }) : (v: Value) => v
    if (node.type === 'ForInStatement') {
      return function* (outer) {
        const object = yield* right(enter(outer))
        if (object == null) return undefined
        const keys = forInKeys(engine, object)
        for (const key of keys) {
          if (!keys.stillHas(key)) continue
          if (++meter.ops >= meter.nextCheck) meter.check()
          const s = enter(outer)
          if (gbind === undefined) bind!(s, key)
          else yield* gbind(s, key)
          const c = yield* body(s)
          if (c !== undefined) {
            const action = control(c)
            if (action === 1) break
            if (action === 2) return c
          }
        }
        return undefined
      }
    }
    return function* (outer) {
      const iterable = yield* right(enter(outer))
      let iterator: Value
      let sync: Value
      if (isAwait) {
        iterator = getAsyncIterator(engine, iterable, loc)
        sync = iterator.__syncIterator
        if (sync !== undefined) iterator = sync
      } else iterator = getIterator(engine, iterable, loc, text)
      const next = iterator.next
      const close = function* (quiet: boolean): Generator<Value, void, Value> {
        const method = iterator.return
        if (method == null) return
        if (quiet) {
          try {
            const result = engine.callFunction(method, iterator, [])
            if (isAwait && sync === undefined) yield awaitValue(result)
          } catch {
            // The original completion wins.
          }
          return
        }
        let result = engine.callFunction(method, iterator, [])
        if (isAwait && sync === undefined) result = yield awaitValue(result)
        if (!isObject(result)) throw engine.error('TypeError', 'Iterator result is not an object', loc)
      }
      for (;;) {
        if (++meter.ops >= meter.nextCheck) meter.check()
        let result = engine.callFunction(next, iterator, [])
        if (isAwait && sync === undefined) result = yield awaitValue(result)
        if (!isObject(result)) throw engine.error('TypeError', 'Iterator result is not an object', loc)
        if (result.done) return undefined
        let value = result.value
        let c: Value
        try {
          if (isAwait && sync !== undefined) value = yield awaitValue(value)
          const s = enter(outer)
          if (gbind === undefined) bind!(s, value)
          else yield* gbind(s, value)
          c = yield* body(s)
        } catch (error) {
          if (!engine.isSignal(error) || error === RETURN_REQUEST) {
            if (error !== meter.signalValue) yield* close(true)
          }
          throw error
        }
        if (c !== undefined) {
          const action = control(c)
          if (action === 0) continue
          yield* close(false)
          if (action === 1) return undefined
          return c
        }
      }
    }
  }

  gtry(node: Value): GenFn {
    const engine = this.engine
    const meter = engine.meter
    const block = this.gstmt(node.block)
    const handler = node.handler
    let onCatch: ((s: Scope, error: Value) => Generator<Value, Value, Value>) | undefined
    if (handler != null) {
      const entry = this.blockEntry(handler)
      const bind = handler.param ? this.gpattern(handler.param, 'init') : undefined
      const body = this.gstmt(handler.body)
      onCatch = function* (s, error) {
        const inner = entry === undefined ? s : entry.enter(s)
        if (bind !== undefined) yield* bind(inner, error)
        return yield* body(inner)
      }
    }
    const finalizer = node.finalizer == null ? undefined : this.gstmt(node.finalizer)
    const signal = meter.signalValue
    return function* (s) {
      const depth = meter.depth
      let completion: Value
      let pending: Value
      let hasPending = false
      try {
        completion = yield* block(s)
      } catch (error) {
        if (error === signal) throw error
        if (error !== RETURN_REQUEST && onCatch !== undefined) {
          meter.depth = depth
          try {
            completion = yield* onCatch(s, engine.toSandbox(error))
          } catch (inner) {
            if (inner === signal || finalizer === undefined) throw inner
            pending = inner
            hasPending = true
          }
        } else {
          if (finalizer === undefined) throw error
          pending = error
          hasPending = true
        }
      }
      if (finalizer !== undefined) {
        const saved = returnValue
        const savedReturn = pendingReturn.value
        const c = yield* finalizer(s)
        if (c !== undefined) return c
        returnValue = saved
        pendingReturn.value = savedReturn
      }
      if (hasPending) throw pending
      return completion
    }
  }
}

// ---- helpers ---------------------------------------------------------------------------------

const NOOP: Stmt = () => undefined
/** `static` and the spaces and comments after it, which belong to a class element, not its method. */
const staticPrefix = /^static(?:\s|\/\*[\s\S]*?\*\/|\/\/[^\n\r\u2028\u2029]*)*/

/** Functions with more parameters than this get their `length` defined instead (rare). */
const MAX_DECLARED_PARAMETERS = 16

/** `++`/`--` through a prepared reference: writes the new value, returns the expression's value. */
function updateReference(
  engine: Engine,
  target: { read: (s: Scope, ctx: Value) => Value; write: (s: Scope, ctx: Value, v: Value) => void },
  s: Scope,
  ctx: Value,
  delta: 1 | -1,
  prefix: boolean,
  loc: Location,
): Value {
  const old = target.read(s, ctx)
  let oldValue: Value
  let newValue: Value
  if (typeof old === 'number') {
    oldValue = old
    newValue = old + delta
  } else {
    oldValue = toNumeric(engine, old, loc)
    newValue = typeof oldValue === 'bigint' ? oldValue + BigInt(delta) : oldValue + delta
  }
  target.write(s, ctx, newValue)
  return prefix ? newValue : oldValue
}

function cannotDestructure(engine: Engine, v: Value, loc: Location): Value {
  return engine.error(
    'TypeError',
    `Cannot destructure '${String(v)}' as it is ${v === null ? 'null' : 'undefined'}.`,
    loc,
  )
}

/** The iterator of an array pattern, shared by the plain and the suspendable pattern code. */
class PatternIterator {
  done = false
  readonly engine: Engine
  readonly loc: Location
  readonly iterator: Value
  readonly next: Value

  constructor(engine: Engine, iterable: Value, loc: Location) {
    this.engine = engine
    this.loc = loc
    this.iterator = getIterator(engine, iterable, loc)
    this.next = this.iterator.next
  }

  step(): Value {
    if (this.done) return undefined
    // An iterator that throws from next(), done or value is finished: it is not closed.
    this.done = true
    const result = this.engine.callFunction(this.next, this.iterator, [])
    if (!isObject(result)) throw this.engine.error('TypeError', 'Iterator result is not an object', this.loc)
    if (result.done) return undefined
    const value = result.value
    this.done = false
    return value
  }

  rest(): Value {
    const rest: Value[] = []
    while (!this.done) {
      const value = this.step()
      if (!this.done) rest.push(value)
    }
    return this.engine.toArray(rest)
  }

  /** The pattern failed: close the iterator unless it is finished, keeping the original error. */
  abandon(error: Value): void {
    if (!this.done && !this.engine.isSignal(error)) closeIteratorQuietly(this.engine, this.iterator)
  }

  finish(): void {
    if (!this.done) closeIterator(this.engine, this.iterator)
  }
}

const RESETS_COMPLETION = new Set([
  'IfStatement',
  'ForStatement',
  'ForInStatement',
  'ForOfStatement',
  'WhileStatement',
  'DoWhileStatement',
  'SwitchStatement',
  'TryStatement',
])

function returnValueFor(value: Value): void {
  pendingReturn.value = value
}

function takeReturn(): Value {
  const v = returnValue
  returnValue = undefined
  return v
}

export interface ClassSetup {
  derived: boolean
  parent: Value
  initialize: (self: Value, newTarget: Value) => void
  wrapSuper: (superCall: Value, s: Scope, thisSlot: number) => Value
}

/** A private name of one class evaluation: field storage and method brand. */
class PrivateName {
  readonly values = new WeakMap<object, Value>()
  method: Value
  getter: Value
  setter: Value
  isStatic = false
  readonly engine: Engine
  readonly name: string
  readonly kind: string

  constructor(engine: Engine, name: string, kind: string) {
    this.engine = engine
    this.name = name
    this.kind = kind
  }

  has(o: object): boolean {
    return this.values.has(o)
  }

  brand(o: object): void {
    if (this.values.has(o))
      throw this.engine.error(
        'TypeError',
        `Cannot initialize private methods of class twice on the same object`,
      )
    this.values.set(o, undefined)
  }

  get(o: object): Value {
    if (this.kind === 'method') return this.method
    if (this.kind === 'get' || this.kind === 'set') {
      if (this.getter === undefined)
        throw this.engine.error('TypeError', `'${this.name}' was defined without a getter`)
      return this.engine.callFunction(this.getter, o, [])
    }
    return this.values.get(o)
  }

  set(o: object, v: Value, define = false): void {
    if (!define) {
      if (this.kind === 'method')
        throw this.engine.error('TypeError', `Private method '${this.name}' is not writable`)
      if (this.kind === 'get' || this.kind === 'set') {
        if (this.setter === undefined)
          throw this.engine.error('TypeError', `'${this.name}' was defined without a setter`)
        this.engine.callFunction(this.setter, o, [v])
        return
      }
    }
    this.values.set(o, v)
  }
}

function describe(value: Value): string {
  if (value === null) return 'null'
  if (typeof value === 'function') return `function`
  if (typeof value === 'object') return 'object'
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

function staticKey(key: Value): string {
  if (key.type === 'Identifier') return key.name
  if (key.type === 'PrivateIdentifier') return `#${key.name}`
  if (typeof key.value === 'bigint') return String(key.value)
  return String(key.value)
}

function isAnonymousFunction(node: Value): boolean {
  return (
    ((node.type === 'FunctionExpression' || node.type === 'ClassExpression') && node.id == null) ||
    node.type === 'ArrowFunctionExpression'
  )
}

function expectedArgumentCount(params: Value[]): number {
  let count = 0
  for (const param of params) {
    if (param.type === 'AssignmentPattern' || param.type === 'RestElement') break
    count++
  }
  return count
}

/** IsConstructor: `Reflect.construct` refuses a `newTarget` that is not a constructor. */
function isConstructor(fn: Value): boolean {
  try {
    construct(String, [], fn)
    return true
  } catch {
    return false
  }
}

function templateString(engine: Engine, value: Value): string {
  if (typeof value === 'string') return value
  if (typeof value === 'symbol') throw engine.error('TypeError', 'Cannot convert a Symbol value to a string')
  if (isObject(value)) {
    const primitive = toPrimitive(engine, value, 'string')
    if (typeof primitive === 'symbol')
      throw engine.error('TypeError', 'Cannot convert a Symbol value to a string')
    return String(primitive)
  }
  return String(value)
}

function toPrimitiveNumber(engine: Engine, value: Value): Value {
  const primitive = toPrimitive(engine, value, 'number')
  if (typeof primitive === 'symbol')
    throw engine.error('TypeError', 'Cannot convert a Symbol value to a number')
  return primitive
}

function toNumeric(engine: Engine, value: Value, loc: Location): Value {
  if (typeof value === 'number' || typeof value === 'bigint') return value
  const primitive = isObject(value) ? toPrimitive(engine, value, 'number') : value
  if (typeof primitive === 'bigint') return primitive
  if (typeof primitive === 'symbol')
    throw engine.error('TypeError', 'Cannot convert a Symbol value to a number', loc)
  return +primitive
}

function add(engine: Engine, a: Value, b: Value, loc: Location): Value {
  const pa = isObject(a) ? toPrimitive(engine, a, 'default') : a
  const pb = isObject(b) ? toPrimitive(engine, b, 'default') : b
  if (typeof pa === 'string' || typeof pb === 'string') {
    if (typeof pa === 'symbol' || typeof pb === 'symbol')
      throw engine.error('TypeError', 'Cannot convert a Symbol value to a string', loc)
    return String(pa) + String(pb)
  }
  return arith(engine, pa, pb, loc, (x, y) => x + y)
}

function arith(engine: Engine, a: Value, b: Value, loc: Location, op: (x: Value, y: Value) => Value): Value {
  const x = toNumeric(engine, a, loc)
  const y = toNumeric(engine, b, loc)
  if (typeof x !== typeof y)
    throw engine.error('TypeError', 'Cannot mix BigInt and other types, use explicit conversions', loc)
  return op(x, y)
}

function compare(
  engine: Engine,
  a: Value,
  b: Value,
  loc: Location,
  op: (x: Value, y: Value) => boolean,
  _swap: boolean,
): boolean {
  const pa = isObject(a) ? toPrimitive(engine, a, 'number') : a
  const pb = isObject(b) ? toPrimitive(engine, b, 'number') : b
  if (typeof pa === 'symbol' || typeof pb === 'symbol')
    throw engine.error('TypeError', 'Cannot convert a Symbol value to a number', loc)
  return op(pa, pb)
}

function looseEquals(engine: Engine, a: Value, b: Value): boolean {
  if (isObject(a) && isObject(b)) return a === b
  // oxlint-disable-next-line eqeqeq -- loose equality is the operation being implemented
  if (a == null || b == null) return a == b
  const pa = isObject(a) ? toPrimitive(engine, a, 'default') : a
  const pb = isObject(b) ? toPrimitive(engine, b, 'default') : b
  // oxlint-disable-next-line eqeqeq
  return pa == pb
}

function binaryOperation(engine: Engine, operator: string, loc: Location): (a: Value, b: Value) => Value {
  switch (operator) {
    case '+':
      return (a, b) => (typeof a === 'number' && typeof b === 'number' ? a + b : add(engine, a, b, loc))
    case '-':
      return (a, b) => arith(engine, a, b, loc, (x, y) => x - y)
    case '*':
      return (a, b) =>
        arith(engine, a, b, loc, (x, y) =>
          typeof x === 'bigint' ? bigIntOperation(engine, '*', x, y) : x * y,
        )
    case '/':
      return (a, b) => arith(engine, a, b, loc, (x, y) => x / y)
    case '%':
      return (a, b) => arith(engine, a, b, loc, (x, y) => x % y)
    case '**':
      return (a, b) =>
        arith(engine, a, b, loc, (x, y) =>
          typeof x === 'bigint' ? bigIntOperation(engine, '**', x, y) : x ** y,
        )
    case '&':
      return (a, b) => arith(engine, a, b, loc, (x, y) => x & y)
    case '|':
      return (a, b) => arith(engine, a, b, loc, (x, y) => x | y)
    case '^':
      return (a, b) => arith(engine, a, b, loc, (x, y) => x ^ y)
    case '<<':
      return (a, b) =>
        arith(engine, a, b, loc, (x, y) =>
          typeof x === 'bigint' ? bigIntOperation(engine, '<<', x, y) : x << y,
        )
    case '>>':
      return (a, b) => arith(engine, a, b, loc, (x, y) => x >> y)
    case '>>>':
      return (a, b) => arith(engine, a, b, loc, (x, y) => x >>> y)
    case '<':
      return (a, b) => compare(engine, a, b, loc, (x, y) => x < y, false)
    case '>':
      return (a, b) => compare(engine, a, b, loc, (x, y) => x > y, false)
    case '<=':
      return (a, b) => compare(engine, a, b, loc, (x, y) => x <= y, false)
    case '>=':
      return (a, b) => compare(engine, a, b, loc, (x, y) => x >= y, false)
    case '===':
      return (a, b) => a === b
    case '!==':
      return (a, b) => a !== b
    case '==':
      return (a, b) => looseEquals(engine, a, b)
    case '!=':
      return (a, b) => !looseEquals(engine, a, b)
    case 'instanceof':
      return (a, b) => instanceOf(engine, a, b, loc)
    case 'in':
      return (a, b) => hasProperty(engine, a, b, loc)
  }
  throw new UnsupportedError(
    `The operator ${operator} is not supported by the airlock interpreter`,
    loc.offset,
  )
}

function unaryOperation(engine: Engine, operator: string, v: Value, loc: Location): Value {
  switch (operator) {
    case '!':
      return !v
    case '-':
      return -toNumeric(engine, v, loc)
    case '+':
      if (typeof v === 'bigint')
        throw engine.error('TypeError', 'Cannot convert a BigInt value to a number', loc)
      return +toPrimitiveNumber(engine, v)
    case '~':
      return ~toNumeric(engine, v, loc)
    case 'typeof':
      return typeof v
    case 'void':
      return undefined
  }
  throw new UnsupportedError(`await inside the operator ${operator}`, loc.offset)
}

/** Keys for for-in: enumerable string keys along the prototype chain, shadowing respected. */
function forInKeys(engine: Engine, value: Value): Value[] & { stillHas: (key: string) => boolean } {
  const object = engine.toObject(value)
  const keys: string[] = []
  const seen = new Set<string>()
  for (let current = object; current !== null; current = getPrototypeOf(current)) {
    for (const key of ownKeys(current)) {
      if (typeof key !== 'string') continue
      if (seen.has(key)) continue
      seen.add(key)
      const descriptor = getOwnPropertyDescriptor(current, key)
      if (descriptor?.enumerable) keys.push(key)
    }
  }
  const result = keys as Value[] & { stillHas: (key: string) => boolean }
  result.stillHas = (key) => {
    for (let current = object; current !== null; current = getPrototypeOf(current)) {
      const descriptor = getOwnPropertyDescriptor(current, key)
      if (descriptor !== undefined) return descriptor.enumerable === true
    }
    return false
  }
  return result
}

export { takeReturn as _takeReturn, patternNames }
