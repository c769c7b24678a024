import type { Node } from 'acorn'
import type { Value } from '../realm.js'

/**
 * Static scope analysis, run once per compiled program before code generation.
 *
 * Every binding is resolved to (depth, slot) at compile time: scopes are host arrays whose slot 0
 * holds the parent scope. Only scopes that need to exist at run time are "materialized": function
 * scopes always, block scopes only when a closure captures one of their bindings (then a loop
 * creates a fresh copy per iteration). Bindings of other blocks live in the nearest materialized
 * scope, and the block resets them to the TDZ sentinel when entered.
 */
export type BindingKind =
  | 'var'
  | 'let'
  | 'const'
  | 'class'
  | 'function'
  | 'param'
  | 'catch'
  | 'import'
  | 'callee'
  | 'internal'
  | 'arguments'

export class Binding {
  slot = -1
  captured = false
  /** A parameter of a function with defaults or patterns: in its TDZ until initialized. */
  paramTdz = false
  /**
   * Offset after which the binding is surely initialized for references in its own function
   * (statements of a block run in order): those skip the TDZ check. Infinity when unknown.
   */
  declEnd = Infinity
  readonly name: string
  kind: BindingKind
  readonly scope: StaticScope

  constructor(name: string, kind: BindingKind, scope: StaticScope) {
    this.name = name
    this.kind = kind
    this.scope = scope
  }

  /** Reads must check for the TDZ sentinel. */
  get tdz(): boolean {
    return (
      this.kind === 'let' ||
      this.kind === 'const' ||
      this.kind === 'class' ||
      this.name === '%this' ||
      (this.paramTdz && this.kind === 'param')
    )
  }

  get immutable(): boolean {
    return this.kind === 'const' || this.kind === 'import' || this.kind === 'callee'
  }
}

export type ScopeKind = 'function' | 'block' | 'script'

export interface FunctionInfo {
  readonly node: Value
  readonly strict: boolean
  /** Arrow functions take `this`, `arguments`, `new.target` and `super` from outside. */
  readonly arrow: boolean
  readonly parent: FunctionInfo | undefined
  scope: StaticScope
  /** Contains `yield` or `await` (directly, not in nested functions). */
  suspends: boolean
}

export class StaticScope {
  readonly bindings = new Map<string, Binding>()
  readonly children: StaticScope[] = []
  materialized: boolean
  /**
   * Never materialized, even when captured: a function body's own scope, entered once per call,
   * whose bindings can live in the function's array (the separation is only in name resolution).
   */
  inline = false
  /** Slots used, slot 0 being the parent; only meaningful when materialized. */
  size = 1

  readonly kind: ScopeKind
  readonly parent: StaticScope | undefined
  readonly fn: FunctionInfo

  constructor(kind: ScopeKind, parent: StaticScope | undefined, fn: FunctionInfo) {
    this.kind = kind
    this.parent = parent
    this.fn = fn
    this.materialized = kind !== 'block'
    parent?.children.push(this)
  }

  declare(name: string, kind: BindingKind): Binding {
    let binding = this.bindings.get(name)
    if (binding === undefined) {
      binding = new Binding(name, kind, this)
      this.bindings.set(name, binding)
    } else if (kind === 'function' || (binding.kind === 'param' && kind !== 'var')) {
      binding.kind = kind
    }
    return binding
  }

  /** The scope whose runtime array holds this scope's bindings. */
  get home(): StaticScope {
    if (this.materialized) return this
    let scope = this.parent!
    while (!scope.materialized) scope = scope.parent!
    return scope
  }
}

export interface Reference {
  readonly binding: Binding | undefined
  readonly from: StaticScope
}

export interface Analysis {
  readonly scopes: Map<Node, StaticScope>
  readonly references: Map<Node, Reference>
  readonly functions: Map<Node, FunctionInfo>
  /** Nodes that contain a `yield` or `await` of their own function (need the suspendable compiler). */
  readonly suspends: Set<Node>
  readonly script: StaticScope
  /**
   * Function declarations in blocks of sloppy code that also assign a var of their name when
   * evaluated (Annex B.3.3), each with a stand-in identifier resolved to that var.
   */
  readonly blockFunctionVars: Map<Node, Value>
}

/**
 * The child nodes of the commonest node types the analysis has no case of its own for, so that it
 * need not enumerate their keys (each entry is a node, an array of nodes and nulls, or null).
 */
const CHILD_KEYS = new Map<string, readonly string[]>([
  ['ExpressionStatement', ['expression']],
  ['VariableDeclaration', ['declarations']],
  ['VariableDeclarator', ['id', 'init']],
  ['ReturnStatement', ['argument']],
  ['ThrowStatement', ['argument']],
  ['IfStatement', ['test', 'consequent', 'alternate']],
  ['WhileStatement', ['test', 'body']],
  ['Literal', []],
  ['TemplateLiteral', ['expressions']],
  ['TaggedTemplateExpression', ['tag', 'quasi']],
  ['BinaryExpression', ['left', 'right']],
  ['LogicalExpression', ['left', 'right']],
  ['AssignmentExpression', ['left', 'right']],
  ['UnaryExpression', ['argument']],
  ['UpdateExpression', ['argument']],
  ['ConditionalExpression', ['test', 'consequent', 'alternate']],
  ['SequenceExpression', ['expressions']],
  ['ArrayExpression', ['elements']],
  ['ObjectExpression', ['properties']],
  ['SpreadElement', ['argument']],
  ['NewExpression', ['callee', 'arguments']],
  ['ChainExpression', ['expression']],
  ['ObjectPattern', ['properties']],
  ['ArrayPattern', ['elements']],
  ['AssignmentPattern', ['left', 'right']],
  ['RestElement', ['argument']],
])

/** Identifiers a binding pattern declares. */
export function patternNames(pattern: Value, out: Value[] = []): Value[] {
  switch (pattern.type) {
    case 'Identifier':
      out.push(pattern)
      break
    case 'ObjectPattern':
      for (const property of pattern.properties)
        patternNames(property.type === 'RestElement' ? property.argument : property.value, out)
      break
    case 'ArrayPattern':
      for (const element of pattern.elements) if (element) patternNames(element, out)
      break
    case 'AssignmentPattern':
      patternNames(pattern.left, out)
      break
    case 'RestElement':
      patternNames(pattern.argument, out)
      break
  }
  return out
}

function hasUseStrict(body: readonly Value[]): boolean {
  for (const statement of body) {
    if (statement.type !== 'ExpressionStatement' || statement.directive === undefined) return false
    if (statement.directive === 'use strict') return true
  }
  return false
}

/**
 * Analyzes a program. `scriptStrict` is the strictness of the enclosing context (a `Function`
 * body is analyzed as a program wrapped in a function expression).
 */
export function analyze(
  program: Value,
  options: {
    strict?: boolean
    /** A name the global scope already declares lexically (an earlier run's `let`). */
    isGlobalLexical?: (name: string) => boolean
  } = {},
): Analysis {
  const scopes = new Map<Node, StaticScope>()
  const references = new Map<Node, Reference>()
  const functions = new Map<Node, FunctionInfo>()
  const suspends = new Set<Node>()
  const blockFunctionVars = new Map<Node, Value>()
  const strict = options.strict === true || hasUseStrict(program.body)
  const scriptFn: FunctionInfo = {
    node: program,
    strict,
    arrow: false,
    parent: undefined,
    scope: undefined as unknown as StaticScope,
    suspends: false,
  }
  const script = new StaticScope('script', undefined, scriptFn)
  scriptFn.scope = script
  scopes.set(program, script)

  // The chain of nodes from the current function's body down to the node being visited, so an
  // await or yield can mark every node on the way as suspending.
  let path: Node[] = []
  /** Inside a class: all of its code is strict. */
  let classDepth = 0

  const markSuspends = (fn: FunctionInfo) => {
    fn.suspends = true
    for (const node of path) suspends.add(node)
  }

  const reference = (node: Node, name: string, scope: StaticScope) => {
    let current: StaticScope | undefined = scope
    while (current !== undefined) {
      const binding = current.bindings.get(name)
      if (binding !== undefined) {
        // `var arguments` names the arguments object itself: it starts out holding it.
        if (
          name === 'arguments' &&
          binding.kind === 'var' &&
          current.kind === 'function' &&
          !current.fn.arrow
        )
          binding.kind = 'arguments'
        if (binding.scope.fn !== scope.fn) binding.captured = true
        references.set(node, { binding, from: scope })
        return
      }
      if (name === 'arguments' && current.kind === 'function' && !current.fn.arrow) {
        const binding = current.declare('arguments', 'arguments')
        if (current.fn !== scope.fn) binding.captured = true
        references.set(node, { binding, from: scope })
        return
      }
      current = current.parent
    }
    references.set(node, { binding: undefined, from: scope })
  }

  /** `this`, `new.target`, the home object and the super constructor live in the nearest non-arrow function. */
  const functionInternal = (node: Node, name: string, scope: StaticScope) => {
    let current: StaticScope | undefined = scope
    while (current !== undefined) {
      if (current.kind === 'function' && !current.fn.arrow) {
        const binding = current.declare(name, 'internal')
        if (current.fn !== scope.fn) binding.captured = true
        references.set(node, { binding, from: scope })
        return
      }
      const existing = current.bindings.get(name)
      if (existing !== undefined) {
        if (existing.scope.fn !== scope.fn) existing.captured = true
        references.set(node, { binding: existing, from: scope })
        return
      }
      current = current.parent
    }
    references.set(node, { binding: undefined, from: scope })
  }

  // Declarations hoisted to a function (or the script): var anywhere, function declarations at its
  // top level. Only statements can declare a var (as the spec's VarDeclaredNames): the walk never
  // enters expressions, where only nested functions, which have their own, could.
  const hoistVars = (node: Value, scope: StaticScope, topLevel: boolean) => {
    if (node === null || typeof node !== 'object') return
    switch (node.type) {
      case 'Program':
      case 'BlockStatement':
        // The body of a function or script: its function declarations are hoisted here; those
        // of a block inside it belong to the block.
        for (const statement of node.body)
          hoistVars(statement, scope, topLevel && statement.type !== 'BlockStatement')
        return
      case 'VariableDeclaration':
        if (node.kind === 'var') {
          for (const declarator of node.declarations)
            for (const id of patternNames(declarator.id)) scope.declare(id.name, 'var')
        }
        return
      case 'FunctionDeclaration':
        // Only `export default function () {}` has no name: the module's default export binding.
        if (topLevel) scope.declare(node.id?.name ?? '*default*', 'function')
        return
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
        // Module code: an exported declaration is hoisted like an unexported one.
        hoistVars(node.declaration, scope, topLevel)
        return
      case 'IfStatement':
        hoistVars(node.consequent, scope, false)
        hoistVars(node.alternate, scope, false)
        return
      case 'ForStatement':
        hoistVars(node.init, scope, false)
        hoistVars(node.body, scope, false)
        return
      case 'ForInStatement':
      case 'ForOfStatement':
        hoistVars(node.left, scope, false)
        hoistVars(node.body, scope, false)
        return
      case 'WhileStatement':
      case 'DoWhileStatement':
      case 'LabeledStatement':
      case 'WithStatement':
        hoistVars(node.body, scope, false)
        return
      case 'TryStatement':
        hoistVars(node.block, scope, false)
        hoistVars(node.handler?.body, scope, false)
        hoistVars(node.finalizer, scope, false)
        return
      case 'SwitchStatement':
        for (const switchCase of node.cases)
          for (const statement of switchCase.consequent) hoistVars(statement, scope, false)
        return
    }
  }

  /** Names a statement list declares lexically; in a block, function declarations are lexical too. */
  const lexicalNames = (statements: readonly Value[], inBlock: boolean): string[] => {
    const names: string[] = []
    for (const statement of statements) {
      if (statement.type === 'VariableDeclaration' && statement.kind !== 'var') {
        for (const declarator of statement.declarations)
          for (const id of patternNames(declarator.id)) names.push(id.name)
      } else if (statement.type === 'ClassDeclaration' && statement.id) names.push(statement.id.name)
      else if (inBlock && statement.type === 'FunctionDeclaration') names.push(statement.id.name)
    }
    return names
  }

  /** Annex B.3.3 declarations the pre-pass found, with the var each assigns. */
  const blockFunctionBindings = new Map<Node, Binding>()

  /**
   * Annex B.3.3 (sloppy code): a plain function declared in a block also gets a var of its name in
   * the enclosing function or script, assigned when the declaration is evaluated, unless that var
   * would clash with a lexical declaration between them (or, in `excluded`, a parameter). First,
   * `if (c) function f() {}` becomes the block it stands for (B.3.4).
   */
  const hoistBlockFunctions = (
    body: readonly Value[],
    varScope: StaticScope,
    excluded: (name: string) => boolean,
  ) => {
    const enclosing: string[][] = [lexicalNames(body, false)]
    const consider = (declaration: Value, own: readonly string[]) => {
      if (declaration.async || declaration.generator) return
      const name: string = declaration.id.name
      if (excluded(name)) return
      // Its own block may declare the name only through this declaration.
      if (own.indexOf(name) !== own.lastIndexOf(name)) return
      for (const names of enclosing) if (names !== own && names.includes(name)) return
      blockFunctionBindings.set(declaration, varScope.declare(name, 'var'))
    }
    const statementList = (statements: readonly Value[]) => {
      const own = lexicalNames(statements, true)
      enclosing.push(own)
      for (const statement of statements) {
        if (statement.type === 'FunctionDeclaration') consider(statement, own)
        else walk(statement)
      }
      enclosing.pop()
    }
    const within = (names: string[], node: Value) => {
      enclosing.push(names)
      walk(node)
      enclosing.pop()
    }
    const declared = (declaration: Value): string[] =>
      declaration?.type === 'VariableDeclaration' && declaration.kind !== 'var'
        ? lexicalNames([declaration], false)
        : []
    const walk = (node: Value): void => {
      if (node == null) return
      switch (node.type) {
        case 'BlockStatement':
          statementList(node.body)
          return
        case 'IfStatement':
          for (const key of ['consequent', 'alternate']) {
            const clause = node[key]
            if (clause?.type === 'FunctionDeclaration') {
              node[key] = { type: 'BlockStatement', body: [clause], start: clause.start, end: clause.end }
            }
            walk(node[key])
          }
          return
        case 'SwitchStatement':
          statementList(node.cases.flatMap((switchCase: Value) => switchCase.consequent))
          return
        case 'ForStatement':
          within(declared(node.init), node.body)
          return
        case 'ForInStatement':
        case 'ForOfStatement':
          within(declared(node.left), node.body)
          return
        case 'WhileStatement':
        case 'DoWhileStatement':
        case 'LabeledStatement':
        case 'WithStatement':
          walk(node.body)
          return
        case 'TryStatement': {
          walk(node.block)
          const param = node.handler?.param
          // A catch parameter that is a plain name may be declared again by a var (B.3.4).
          const names =
            param == null || param.type === 'Identifier' ? [] : patternNames(param).map((id) => id.name)
          if (node.handler) within(names, node.handler.body)
          walk(node.finalizer)
          return
        }
      }
    }
    for (const statement of body) walk(statement)
  }

  const declareLexical = (statements: readonly Value[], scope: StaticScope, includeFunctions: boolean) => {
    for (const statement of statements) {
      const declaration =
        statement.type === 'ExportNamedDeclaration' || statement.type === 'ExportDefaultDeclaration'
          ? statement.declaration
          : statement
      if (declaration == null) continue
      if (declaration.type === 'VariableDeclaration' && declaration.kind !== 'var') {
        const kind = declaration.kind === 'const' ? 'const' : 'let'
        for (const declarator of declaration.declarations)
          for (const id of patternNames(declarator.id)) scope.declare(id.name, kind).declEnd = declaration.end
      } else if (declaration.type === 'ClassDeclaration' && declaration.id) {
        scope.declare(declaration.id.name, 'class').declEnd = declaration.end
      } else if (includeFunctions && declaration.type === 'FunctionDeclaration') {
        scope.declare(declaration.id.name, 'let').kind = 'function'
      } else if (declaration.type === 'ImportDeclaration') {
        for (const specifier of declaration.specifiers) scope.declare(specifier.local.name, 'import')
      } else if (
        statement.type === 'ExportDefaultDeclaration' &&
        declaration.type !== 'FunctionDeclaration'
      ) {
        // `export default <expression>` and anonymous classes: a hidden const holds the value.
        scope.declare('*default*', 'const').declEnd = statement.end
      }
    }
  }

  const visitFunction = (node: Value, scope: StaticScope) => {
    const isArrow = node.type === 'ArrowFunctionExpression'
    const bodyStatements = node.body.type === 'BlockStatement' ? node.body.body : []
    const fn: FunctionInfo = {
      node,
      strict: scope.fn.strict || classDepth > 0 || hasUseStrict(bodyStatements),
      arrow: isArrow,
      parent: scope.fn,
      scope: undefined as unknown as StaticScope,
      suspends: false,
    }
    functions.set(node, fn)
    const fnScope = new StaticScope('function', scope, fn)
    fn.scope = fnScope
    scopes.set(node, fnScope)
    const simpleParams = node.params.every((param: Value) => param.type === 'Identifier')
    for (const param of node.params) {
      for (const id of patternNames(param)) {
        const binding = fnScope.declare(id.name, 'param')
        binding.paramTdz = !simpleParams
        binding.declEnd = param.end
      }
    }
    // With parameter expressions, closures in the parameters must not see the body's
    // declarations: those get a scope of their own (FunctionDeclarationInstantiation, step 28).
    let bodyScope = fnScope
    if (!simpleParams && node.body.type === 'BlockStatement') {
      bodyScope = new StaticScope('block', fnScope, fn)
      bodyScope.inline = true
      scopes.set(node.body, bodyScope)
    }
    hoistVars(node.body, bodyScope, true)
    if (node.body.type === 'BlockStatement') {
      declareLexical(bodyStatements, bodyScope, false)
      if (!fn.strict) {
        const params = new Set(
          node.params.flatMap((param: Value) => patternNames(param).map((id) => id.name)),
        )
        hoistBlockFunctions(bodyStatements, bodyScope, (name) => name === 'arguments' || params.has(name))
      }
    }
    if (node.type === 'FunctionExpression' && node.id && !fnScope.bindings.has(node.id.name)) {
      fnScope.declare(node.id.name, 'callee')
    }
    const savedPath = path
    path = []
    for (const param of node.params) visit(param, fnScope)
    if (node.body.type === 'BlockStatement') {
      for (const statement of bodyStatements) visit(statement, bodyScope)
    } else {
      visit(node.body, fnScope)
    }
    path = savedPath
  }

  const visitClass = (node: Value, scope: StaticScope) => {
    classDepth++
    try {
      visitClassBody(node, scope)
    } finally {
      classDepth--
    }
  }

  const visitClassBody = (node: Value, scope: StaticScope) => {
    const classScope = new StaticScope('block', scope, scope.fn)
    scopes.set(node, classScope)
    if (node.id) classScope.declare(node.id.name, 'const')
    // The heritage sees the class's own name, still uninitialized, but not its private names.
    if (node.superClass) visit(node.superClass, classScope)
    for (const element of node.body.body) {
      if (element.key?.type === 'PrivateIdentifier') classScope.declare(`#${element.key.name}`, 'internal')
    }
    // The class's own internals: its constructor (for `super` in static members and field setup).
    classScope.declare('%class', 'internal')
    if (!node.body.body.some((element: Value) => element.kind === 'constructor')) {
      // A default constructor: an empty function whose scope has `this` and the super call.
      const pseudo = {
        type: 'FunctionExpression',
        params: [],
        body: { type: 'BlockStatement', body: [], start: node.start, end: node.end },
        start: node.start,
        end: node.end,
        generator: false,
        async: false,
        id: null,
        isDefaultConstructor: true,
      }
      node.__defaultConstructor = pseudo
      visitFunction(pseudo, classScope)
      functions.get(pseudo as Value)!.scope.declare('%this', 'internal')
      functions.get(pseudo as Value)!.scope.declare('%super', 'internal')
    }
    for (const element of node.body.body) {
      if (element.type === 'MethodDefinition') {
        // Source text ranges for toString: a method from its first token (after `static`, which
        // belongs to the class element), a constructor the whole class.
        element.value.__sourceStart = element.kind === 'constructor' ? node.start : element.start
        if (element.static) element.value.__static = true
        if (element.kind === 'constructor') element.value.__sourceEnd = node.end
      }
      if (element.key?.type === 'PrivateIdentifier')
        reference(element.key, `#${element.key.name}`, classScope)
      if (element.computed) visit(element.key, classScope)
      if (element.type === 'MethodDefinition') visitFunction(element.value, classScope)
      else if (element.type === 'PropertyDefinition' || element.type === 'StaticBlock') {
        // Field initializers and static blocks run as methods of their own (own `this`).
        if (element.type === 'PropertyDefinition' && element.value == null) continue
        const body =
          element.type === 'StaticBlock'
            ? { type: 'BlockStatement', body: element.body, start: element.start, end: element.end }
            : {
                type: 'ExpressionBody',
                expression: element.value,
                start: element.value.start,
                end: element.value.end,
              }
        const pseudo = {
          type: 'FunctionExpression',
          params: [],
          body,
          start: element.start,
          end: element.end,
          generator: false,
          async: false,
          id: null,
          isClassMember: true,
        }
        element.__function = pseudo
        visitFunction(pseudo, classScope)
      }
    }
  }

  const visitBlock = (node: Value, statements: readonly Value[], scope: StaticScope): StaticScope => {
    const block = new StaticScope('block', scope, scope.fn)
    scopes.set(node, block)
    declareLexical(statements, block, true)
    return block
  }

  const visit = (node: Value, scope: StaticScope): void => {
    if (node === null || node === undefined) return
    path.push(node)
    try {
      visitNode(node, scope)
    } finally {
      path.pop()
    }
  }

  const visitAll = (nodes: readonly Value[], scope: StaticScope) => {
    for (const node of nodes) visit(node, scope)
  }

  const visitNode = (node: Value, scope: StaticScope): void => {
    // A method or accessor of an object literal: its source text starts at its name (or get/set).
    if (node.type === 'Property' && (node.method || node.kind !== 'init'))
      node.value.__sourceStart = node.start
    switch (node.type) {
      case 'Identifier':
        reference(node, node.name, scope)
        return
      case 'ThisExpression':
        functionInternal(node, '%this', scope)
        return
      case 'Super':
        functionInternal(node, '%home', scope)
        return
      case 'MetaProperty':
        if (node.meta.name === 'new') functionInternal(node, '%newtarget', scope)
        return
      case 'FunctionDeclaration': {
        if (node.id) reference(node.id, node.id.name, scope)
        const varBinding = blockFunctionBindings.get(node)
        if (varBinding !== undefined) {
          const target = { type: 'Identifier', name: node.id.name, start: node.start, end: node.id.end }
          references.set(target as Node, { binding: varBinding, from: scope })
          blockFunctionVars.set(node, target)
        }
        visitFunction(node, scope)
        return
      }
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        visitFunction(node, scope)
        return
      case 'ClassDeclaration':
      case 'ClassExpression':
        if (node.type === 'ClassDeclaration' && node.id) reference(node.id, node.id.name, scope)
        visitClass(node, scope)
        return
      case 'BlockStatement': {
        const block = visitBlock(node, node.body, scope)
        visitAll(node.body, block)
        return
      }
      case 'StaticBlock':
        return
      case 'ForStatement': {
        const loop = new StaticScope('block', scope, scope.fn)
        scopes.set(node, loop)
        if (node.init?.type === 'VariableDeclaration' && node.init.kind !== 'var')
          declareLexical([node.init], loop, false)
        visit(node.init, loop)
        visit(node.test, loop)
        visit(node.update, loop)
        visit(node.body, loop)
        return
      }
      case 'ForInStatement':
      case 'ForOfStatement': {
        if (node.type === 'ForOfStatement' && node.await) markSuspends(scope.fn)
        const loop = new StaticScope('block', scope, scope.fn)
        scopes.set(node, loop)
        if (node.left.type === 'VariableDeclaration' && node.left.kind !== 'var') {
          declareLexical([node.left], loop, false)
          // Initialized only once the iterated expression, written after them, has run.
          for (const binding of loop.bindings.values()) binding.declEnd = node.right.end
        }
        // The iterated expression sees the loop's bindings in their TDZ, as the spec's TDZ scope does.
        visit(node.right, loop)
        visit(node.left, loop)
        visit(node.body, loop)
        return
      }
      case 'SwitchStatement': {
        visit(node.discriminant, scope)
        const block = new StaticScope('block', scope, scope.fn)
        scopes.set(node, block)
        for (const switchCase of node.cases) declareLexical(switchCase.consequent, block, true)
        // A case can jump past a declaration: every reference keeps its TDZ check.
        for (const binding of block.bindings.values()) binding.declEnd = Infinity
        for (const switchCase of node.cases) {
          visit(switchCase.test, block)
          visitAll(switchCase.consequent, block)
        }
        return
      }
      case 'CatchClause': {
        const catchScope = new StaticScope('block', scope, scope.fn)
        scopes.set(node, catchScope)
        if (node.param) for (const id of patternNames(node.param)) catchScope.declare(id.name, 'catch')
        visit(node.param, catchScope)
        // The body's own block scope sits inside the parameter scope.
        visit(node.body, catchScope)
        return
      }
      case 'MemberExpression':
        if (node.object.type === 'Super') functionInternal(node, '%this', scope)
        visit(node.object, scope)
        if (node.computed) visit(node.property, scope)
        else if (node.property.type === 'PrivateIdentifier')
          reference(node.property, `#${node.property.name}`, scope)
        return
      case 'PrivateIdentifier':
        reference(node, `#${node.name}`, scope)
        return
      case 'Property':
        if (node.computed) visit(node.key, scope)
        visit(node.value, scope)
        return
      case 'PropertyDefinition':
      case 'MethodDefinition':
        return
      case 'LabeledStatement':
        visit(node.body, scope)
        return
      case 'BreakStatement':
      case 'ContinueStatement':
        return
      case 'AwaitExpression':
        markSuspends(scope.fn)
        visit(node.argument, scope)
        return
      case 'YieldExpression':
        markSuspends(scope.fn)
        visit(node.argument, scope)
        return
      case 'CallExpression':
        if (node.callee.type === 'Super') {
          functionInternal(node, '%super', scope)
          functionInternal(node.callee, '%this', scope)
        } else visit(node.callee, scope)
        visitAll(node.arguments, scope)
        return
      case 'ExpressionBody':
        visit(node.expression, scope)
        return
      case 'ImportDeclaration':
        for (const specifier of node.specifiers) reference(specifier.local, specifier.local.name, scope)
        return
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
        visit(node.declaration, scope)
        return
    }
    const childKeys = CHILD_KEYS.get(node.type)
    if (childKeys !== undefined) {
      for (const key of childKeys) {
        const child = node[key]
        if (Array.isArray(child)) {
          for (const item of child) if (item !== null) visit(item, scope)
        } else visit(child, scope)
      }
      return
    }
    for (const key in node) {
      if (key === 'type' || key === 'loc' || key === 'start' || key === 'end' || key.startsWith('__'))
        continue
      const child = node[key]
      if (Array.isArray(child)) {
        for (const item of child) if (item !== null && typeof item === 'object') visit(item, scope)
      } else if (child !== null && typeof child === 'object' && typeof child.type === 'string') {
        visit(child, scope)
      }
    }
  }

  hoistVars(program, script, true)
  declareLexical(program.body, script, false)
  if (!strict) hoistBlockFunctions(program.body, script, (name) => options.isGlobalLexical?.(name) === true)
  for (const statement of program.body) visit(statement, script)

  // Materialize captured block scopes, then give every binding its slot.
  const assign = (scope: StaticScope) => {
    if (scope.kind === 'block' && !scope.inline) {
      for (const binding of scope.bindings.values()) if (binding.captured) scope.materialized = true
    }
    const home = scope.home
    for (const binding of scope.bindings.values()) binding.slot = home.size++
    for (const child of scope.children) assign(child)
  }
  assign(script)
  return { scopes, references, functions, suspends, script, blockFunctionVars }
}

/** Number of materialized scopes between a reference's scope and its binding's. */
export function depthOf(from: StaticScope, binding: Binding): number {
  const target = binding.scope.home
  let depth = 0
  let scope: StaticScope | undefined = from.home
  while (scope !== undefined && scope !== target) {
    scope = scope.parent
    while (scope !== undefined && !scope.materialized) scope = scope.parent
    depth++
  }
  return depth
}
