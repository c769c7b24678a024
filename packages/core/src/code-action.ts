import type {
  AnyNode,
  ClassDeclaration,
  FunctionDeclaration,
  Identifier,
  ImportDeclaration,
  Literal,
  Node,
  Pattern,
  Program,
  Statement,
  VariableDeclaration,
} from 'acorn'
import { CodeSyntaxError } from './errors.js'
import { lineStarts, parseScript, positionAt, stripTypeScriptParsed, tryParseScript } from './typescript.js'

export interface PrepareCodeActionOptions {
  /**
   * Name of the sandbox global that loads an allowlisted module: `name("m")` returns a promise of
   * a module namespace-like object (named exports, plus `default`). Static imports and `import()`
   * are rewritten to call it. Use a name starting with `__airlock` (e.g. `__airlock_import`): code
   * that uses such names, or this name, is refused, so it cannot shadow the loader.
   */
  readonly importFunction: string
}

/** A code action rewritten into a script a sandbox can evaluate with REPL semantics. */
export interface PreparedCodeAction {
  /**
   * JavaScript source of one function expression `(async function () { ... })`; evaluating it as
   * a classic sloppy-mode script in the sandbox's global scope and calling it runs the action; it
   * resolves to the value of the last top-level expression statement (promises awaited), or
   * undefined.
   */
  readonly script: string
  /**
   * Top-level names the code declares (const/let/var/function/class/import bindings,
   * destructuring included). The executor makes them persistent bindings before evaluating
   * `script`, e.g. by running `var a, b;` as a script in the sandbox global scope.
   */
  readonly declaredNames: readonly string[]
  /**
   * Maps a 1-based line and column in `script` back to the submitted code; undefined when the
   * position lies in generated text. Text generated in place of a construct (an `import`
   * statement, a `const` keyword) maps to the construct's start.
   */
  originalPosition(line: number, column: number): { line: number; column: number } | undefined
}

/** Replaces `[start, end)` of the stripped code with `text`; `start === end` inserts. */
export interface Edit {
  readonly start: number
  readonly end: number
  readonly text: string
  /** A removal of text that is emitted elsewhere (hoisted); ignored when emitting that text. */
  readonly moved?: true
}

/** A run of script text: copied from the code at `origin`, or generated for the construct at `origin`. */
interface Piece {
  readonly scriptStart: number
  readonly length: number
  readonly origin: number | undefined
  readonly copied: boolean
}

export const identifierName = /^[A-Za-z_$][\w$]*$/
export const reservedPrefix = '__airlock'

/**
 * Rewrites a code action (JavaScript or erasable TypeScript) into an async function expression
 * with REPL semantics: top-level declarations become assignments to persistent names (so a later
 * run sees them and may declare them again), function declarations stay hoisted, imports load
 * through `options.importFunction`, and the last expression statement's value is returned.
 *
 * @throws CodeSyntaxError when the code does not parse or uses syntax code actions do not support
 *   (`export`, a top-level `return`, TypeScript `enum`, names starting with `__airlock`).
 *
 * @example
 * const prepared = prepareCodeAction('const x = await get_data({})\nx.length', { importFunction: '__airlock_import' })
 * // evaluate `var x;` then `prepared.script` in the sandbox and call the function it evaluates to
 */
export function prepareCodeAction(code: string, options: PrepareCodeActionOptions): PreparedCodeAction {
  const { importFunction } = options
  if (!identifierName.test(importFunction)) {
    throw new TypeError(
      `importFunction must be a JavaScript identifier, got ${JSON.stringify(importFunction)}.`,
    )
  }
  const { source, program, scan } = parseCodeAction(code, importFunction)
  // Line tables are built only when a position is asked for: on an error, or by originalPosition.
  let codeLineStarts: number[] | undefined
  const positionInCode = (offset: number) => positionAt((codeLineStarts ??= lineStarts(code)), offset)
  const fail = (message: string, offset: number): never => {
    throw new CodeSyntaxError(message, positionInCode(offset))
  }
  if (scan.failure !== undefined) fail(scan.failure.message, scan.failure.offset)

  // The `import(...)` rewrites come first, as they did when the walk pushed them directly.
  const edits: Edit[] = scan.edits
  const declared = new Set<string>()
  const hoistedImports: string[] = []
  const hoistedImportOrigins: number[] = []
  const hoistedFunctions: FunctionDeclaration[] = []

  const declare = (name: string, offset: number) => {
    if (name === 'arguments') {
      fail('A code action cannot declare a top-level "arguments"; choose another name.', offset)
    }
    declared.add(name)
  }
  const declarePattern = (pattern: Pattern) => {
    for (const identifier of patternIdentifiers(pattern)) declare(identifier.name, identifier.start)
  }

  // `var` declarations outside functions are top-level wherever they are (`for (var i ...)`,
  // `if (c) { var x }`), so they become assignments to persistent names too.
  const rewriteVarsIn = (statement: Statement) => {
    switch (statement.type) {
      case 'VariableDeclaration':
        if (statement.kind === 'var') {
          for (const declarator of statement.declarations) declarePattern(declarator.id)
          rewriteDeclaration(statement, source, edits)
        }
        return
      case 'BlockStatement':
        for (const child of statement.body) rewriteVarsIn(child)
        return
      case 'IfStatement':
        rewriteVarsIn(statement.consequent)
        if (statement.alternate) rewriteVarsIn(statement.alternate)
        return
      case 'ForStatement':
        if (statement.init?.type === 'VariableDeclaration' && statement.init.kind === 'var') {
          for (const declarator of statement.init.declarations) declarePattern(declarator.id)
          rewriteLoopHead(statement.init, edits)
        }
        rewriteVarsIn(statement.body)
        return
      case 'ForInStatement':
      case 'ForOfStatement':
        if (statement.left.type === 'VariableDeclaration' && statement.left.kind === 'var') {
          for (const declarator of statement.left.declarations) declarePattern(declarator.id)
          rewriteLoopHead(statement.left, edits)
        }
        rewriteVarsIn(statement.body)
        return
      case 'WhileStatement':
      case 'DoWhileStatement':
      case 'LabeledStatement':
      case 'WithStatement':
        rewriteVarsIn(statement.body)
        return
      case 'TryStatement':
        rewriteVarsIn(statement.block)
        if (statement.handler) rewriteVarsIn(statement.handler.body)
        if (statement.finalizer) rewriteVarsIn(statement.finalizer)
        return
      case 'SwitchStatement':
        for (const switchCase of statement.cases)
          for (const child of switchCase.consequent) rewriteVarsIn(child)
        return
      default:
        return
    }
  }

  const rewriteTopLevelDeclaration = (
    declaration: VariableDeclaration | FunctionDeclaration | ClassDeclaration,
    statementStart: number,
    statementEnd: number,
  ) => {
    switch (declaration.type) {
      case 'VariableDeclaration':
        for (const declarator of declaration.declarations) declarePattern(declarator.id)
        rewriteDeclaration(declaration, source, edits)
        return
      case 'FunctionDeclaration':
        // Hoisted: assigned at the top of the wrapper, so `f(); function f() {}` works.
        declare(declaration.id.name, declaration.id.start)
        hoistedFunctions.push(declaration)
        edits.push({ start: statementStart, end: statementEnd, text: ';', moved: true })
        return
      case 'ClassDeclaration':
        declare(declaration.id.name, declaration.id.start)
        edits.push({
          start: declaration.start,
          end: declaration.start + 'class'.length,
          text: `;${declaration.id.name} = class`,
        })
        edits.push({ start: declaration.end, end: declaration.end, text: ';' })
        return
    }
  }

  for (const statement of program.body) {
    switch (statement.type) {
      case 'ImportDeclaration':
        for (const specifier of statement.specifiers) declare(specifier.local.name, specifier.local.start)
        // Hoisted, as module imports are: they load before any other code runs.
        hoistedImports.push(importStatement(statement, importFunction))
        hoistedImportOrigins.push(statement.start)
        edits.push({ start: statement.start, end: statement.end, text: ';', moved: true })
        break
      case 'ExportNamedDeclaration':
        if (statement.declaration == null) {
          fail('export is not supported in code actions; declare the value and use it.', statement.start)
        } else {
          const { declaration } = statement
          if (declaration.type !== 'FunctionDeclaration') {
            edits.push({ start: statement.start, end: declaration.start, text: '' })
          }
          rewriteTopLevelDeclaration(declaration, statement.start, statement.end)
        }
        break
      case 'ExportDefaultDeclaration':
      case 'ExportAllDeclaration':
        fail('export is not supported in code actions; declare the value and use it.', statement.start)
        break
      case 'VariableDeclaration':
        if (statement.kind === 'var' || statement.kind === 'let' || statement.kind === 'const') {
          rewriteTopLevelDeclaration(statement, statement.start, statement.end)
        }
        break
      case 'FunctionDeclaration':
      case 'ClassDeclaration':
        rewriteTopLevelDeclaration(statement, statement.start, statement.end)
        break
      default:
        rewriteVarsIn(statement)
    }
  }

  // Trailing empty statements (`x;;`) do not change which statement gives the value.
  const last = program.body.findLast((statement) => statement.type !== 'EmptyStatement')
  return assemble(code, source, {
    edits,
    declaredNames: [...declared],
    hoistedImports: hoistedImports.map((text, index) => ({ text, origin: hoistedImportOrigins[index]! })),
    hoistedFunctions: hoistedFunctions.map((declaration) => ({
      name: declaration.id.name,
      start: declaration.start,
      end: declaration.end,
    })),
    strict: isStrict(program),
    lastExpression: last?.type === 'ExpressionStatement' ? last : undefined,
  })
}

/**
 * What a reading of a code action found: {@link prepareCodeAction}'s from acorn's tree,
 * {@link prepareCodeActionQuickly}'s from the tokens. {@link assemble} makes the script of it.
 */
export interface RewritePlan {
  /** Edits of the source, in the order they were found (those at one offset keep it); `assemble` adds to them. */
  readonly edits: Edit[]
  readonly declaredNames: readonly string[]
  /** Statements that replace static imports, with the offset of the import each replaces. */
  readonly hoistedImports: readonly { readonly text: string; readonly origin: number }[]
  /** Top-level function declarations (their source range), assigned before any other code. */
  readonly hoistedFunctions: readonly {
    readonly name: string
    readonly start: number
    readonly end: number
  }[]
  /** The code starts with a "use strict" directive. */
  readonly strict: boolean
  /** The range of the last top-level statement (its `;` included) when it is an expression statement. */
  readonly lastExpression: { readonly start: number; readonly end: number } | undefined
}

/** The prepared code action of `plan`, a reading of `source` (`code` with any TypeScript removed). */
export function assemble(code: string, source: string, plan: RewritePlan): PreparedCodeAction {
  const { edits } = plan
  const last = plan.lastExpression
  if (last !== undefined) {
    // The statement's own range, not the expression's: acorn's expression range excludes
    // enclosing parentheses, and `return (` must go before them.
    const end = source.charCodeAt(last.end - 1) === 0x3b /* ; */ ? last.end - 1 : last.end
    edits.push({ start: last.start, end: last.start, text: 'return (' })
    edits.push({ start: end, end, text: ')' })
  }

  // Sorted by position, insertions before a replacement at the same offset; stable otherwise.
  edits.sort((a, b) => a.start - b.start || (a.end === a.start ? 0 : 1) - (b.end === b.start ? 0 : 1))

  const builder = new ScriptBuilder(source, edits)
  builder.generated(`(async function () {${plan.strict ? '"use strict";' : ''}\n`, undefined)
  for (const { text, origin } of plan.hoistedImports) builder.generated(`${text}\n`, origin)
  for (const { name, start, end } of plan.hoistedFunctions) {
    builder.generated(`${name} = `, start)
    builder.copy(start, end, { ignoreMoved: true })
    builder.generated(';\n', undefined)
  }
  // A hashbang line is a comment only at the very start of a script.
  const bodyStart = source.startsWith('#!') ? source.search(/[\r\n\u2028\u2029]|$/) : 0
  builder.copy(bodyStart, source.length, { ignoreMoved: false })
  builder.generated('\n})', undefined)

  const script = builder.text()
  const pieces = builder.pieces
  let codeLineStarts: number[] | undefined
  let scriptLineStarts: number[] | undefined
  return {
    script,
    declaredNames: plan.declaredNames,
    originalPosition(line, column) {
      if (!Number.isInteger(line) || !Number.isInteger(column) || line < 1 || column < 1) return undefined
      scriptLineStarts ??= lineStarts(script)
      const lineStart = scriptLineStarts[line - 1]
      if (lineStart === undefined) return undefined
      const lineEnd = scriptLineStarts[line] ?? script.length
      const offset = lineStart + column - 1
      if (offset > lineEnd) return undefined
      const piece = pieceAt(pieces, offset)
      if (piece === undefined || piece.origin === undefined) return undefined
      const original = piece.copied ? piece.origin + (offset - piece.scriptStart) : piece.origin
      return positionAt((codeLineStarts ??= lineStarts(code)), original)
    },
  }
}

/**
 * Parses a code action, removing TypeScript syntax when there is any.
 *
 * Code is first parsed as JavaScript: most code actions are plain JavaScript, and the TypeScript
 * strip (swc, in WebAssembly) would give it back unchanged. It still goes through the strip when
 * TypeScript could read it differently (see {@link ProgramScan.typeScript}), such as
 * `f<T>(x)`, which is read as a call with a type argument, not as `(f < T) > x`; and when it does
 * not parse as JavaScript.
 */
function parseCodeAction(
  code: string,
  importFunction: string,
): { source: string; program: Program; scan: ProgramScan } {
  const javascript = tryParseScript(code)
  if (javascript.ok) {
    const scan = scanProgram(javascript.program, code, importFunction, true)
    if (!scan.typeScript) return { source: code, program: javascript.program, scan }
    const stripped = stripTypeScriptParsed(code, javascript)
    // Nothing was removed: the JavaScript reading stands.
    if (stripped === code) return { source: code, program: javascript.program, scan }
    const program = parseScript(stripped)
    return { source: stripped, program, scan: scanProgram(program, stripped, importFunction, false) }
  }
  const stripped = stripTypeScriptParsed(code, javascript)
  // Valid TypeScript with nothing to remove, yet not JavaScript: the JavaScript error stands.
  if (stripped === code) throw javascript.error()
  const program = parseScript(stripped)
  return { source: stripped, program, scan: scanProgram(program, stripped, importFunction, false) }
}

/**
 * Whether swc's TypeScript parser could read `source` differently from `program`, its JavaScript
 * parse (acorn, with the options of {@link stripTypeScript}'s own check): see
 * {@link ProgramScan.typeScript}. When false, `stripTypeScript(source)` gives `source` back (or
 * refuses it as TypeScript and lets it pass as the JavaScript it is), so a caller that already
 * parsed the code as JavaScript can skip the strip, whose WebAssembly round trip costs more than
 * the parse. Recursive: a caller must handle a `RangeError` on very deeply nested code.
 */
export function mayReadAsTypeScript(program: Program, source: string): boolean {
  return scanProgram(program, source, '', true).typeScript
}

/** Assembles the script from copied and generated text, recording where each piece came from. */
class ScriptBuilder {
  readonly pieces: Piece[] = []
  readonly #source: string
  readonly #edits: readonly Edit[]
  readonly #parts: string[] = []
  #length = 0

  constructor(source: string, edits: readonly Edit[]) {
    this.#source = source
    this.#edits = edits
  }

  generated(text: string, origin: number | undefined): void {
    this.#push(text, origin, false)
  }

  /** Copies `[from, to)` of the source, applying the edits inside it. */
  copy(from: number, to: number, { ignoreMoved }: { ignoreMoved: boolean }): void {
    const edits = this.#edits
    let cursor = from
    // Edits are sorted by start: only those starting in [from, to] can apply.
    for (let index = firstEditFrom(edits, from); index < edits.length; index++) {
      const edit = edits[index]!
      if (edit.start > to) break
      if (edit.end > to || (ignoreMoved && edit.moved)) continue
      // Inside text an earlier edit replaced (the body of a hoisted function): already handled.
      if (edit.start < cursor) continue
      this.#push(this.#source.slice(cursor, edit.start), cursor, true)
      this.#push(edit.text, edit.start, false)
      cursor = edit.end
    }
    this.#push(this.#source.slice(cursor, to), cursor, true)
  }

  text(): string {
    return this.#parts.join('')
  }

  #push(text: string, origin: number | undefined, copied: boolean): void {
    if (text === '') return
    this.pieces.push({ scriptStart: this.#length, length: text.length, origin, copied })
    this.#parts.push(text)
    this.#length += text.length
  }
}

/** Index of the first edit starting at or after `offset`, in edits sorted by start. */
function firstEditFrom(edits: readonly Edit[], offset: number): number {
  let low = 0
  let high = edits.length
  while (low < high) {
    const middle = (low + high) >> 1
    if (edits[middle]!.start < offset) low = middle + 1
    else high = middle
  }
  return low
}

function pieceAt(pieces: readonly Piece[], offset: number): Piece | undefined {
  let low = 0
  let high = pieces.length - 1
  while (low <= high) {
    const middle = (low + high) >> 1
    const piece = pieces[middle]!
    if (offset < piece.scriptStart) high = middle - 1
    else if (offset >= piece.scriptStart + piece.length) low = middle + 1
    else return piece
  }
  return undefined
}

function isStrict(program: Program): boolean {
  for (const statement of program.body) {
    if (statement.type !== 'ExpressionStatement' || statement.directive === undefined) return false
    if (statement.directive === 'use strict') return true
  }
  return false
}

/** What {@link rewriteDeclaration} reads of a variable declaration (acorn's node has it). */
export interface DeclarationParts {
  readonly kind: string
  readonly start: number
  /** After the `;` when there is one. */
  readonly end: number
  readonly declarations: readonly { readonly end: number; readonly init?: unknown }[]
}

/**
 * `const a = 1, {b} = o;` → `void (a = 1, {b} = o);`: assignments to the persistent names, with
 * every declarator left in place. `void (` keeps it one statement wherever a statement may stand
 * (`if (c) var x = 1`) and cannot continue the previous line. `let x` resets `x` to undefined;
 * `var x` leaves it alone.
 */
export function rewriteDeclaration(declaration: DeclarationParts, source: string, edits: Edit[]): void {
  edits.push({ start: declaration.start, end: declaration.start + declaration.kind.length, text: 'void (' })
  for (const declarator of declaration.declarations) {
    if (declarator.init == null && declaration.kind === 'let') {
      edits.push({ start: declarator.end, end: declarator.end, text: ' = void 0' })
    }
  }
  const lastDeclarator = declaration.declarations.at(-1)!
  const hasSemicolon = source.charCodeAt(declaration.end - 1) === 0x3b /* ; */
  edits.push({ start: lastDeclarator.end, end: lastDeclarator.end, text: hasSemicolon ? ')' : ');' })
}

/** `for (var i = 0; ...)` → `for (i = 0; ...)`, `for (var x of xs)` → `for (x of xs)`. */
function rewriteLoopHead(declaration: VariableDeclaration, edits: Edit[]): void {
  edits.push({ start: declaration.start, end: declaration.start + declaration.kind.length, text: '' })
  const [only] = declaration.declarations
  if (declaration.declarations.length !== 1 || only === undefined) return
  // Only the head of a for-in/of loop has a single declarator without an initializer there.
  if (only.init != null) return
  if (only.id.type === 'Identifier' && (only.id.name === 'async' || only.id.name === 'let')) {
    // `for (async of xs)` does not parse; `for ((async) of xs)` does.
    edits.push({ start: only.id.start, end: only.id.start, text: '(' })
    edits.push({ start: only.id.end, end: only.id.end, text: ')' })
  }
}

/** The statement that replaces a static import, e.g. `void ({ default: a, b: c } = await IMPORT("m"));`. */
function importStatement(statement: ImportDeclaration, importFunction: string): string {
  const specifier = JSON.stringify(statement.source.value)
  let attributes = ''
  if (statement.attributes.length > 0) {
    const entries = statement.attributes.map((attribute) => {
      const key = attribute.key.type === 'Identifier' ? attribute.key.name : String(attribute.key.value)
      return `${JSON.stringify(key)}: ${JSON.stringify(attribute.value.value)}`
    })
    attributes = `, { with: { ${entries.join(', ')} } }`
  }
  const load = `await ${importFunction}(${specifier}${attributes})`
  const namespace = statement.specifiers.find((entry) => entry.type === 'ImportNamespaceSpecifier')
  const named = statement.specifiers.flatMap((entry) => {
    if (entry.type === 'ImportDefaultSpecifier') return [`default: ${entry.local.name}`]
    if (entry.type === 'ImportSpecifier') {
      const imported =
        entry.imported.type === 'Identifier' ? entry.imported.name : JSON.stringify(entry.imported.value)
      return [`${imported}: ${entry.local.name}`]
    }
    return []
  })
  const target = namespace === undefined ? load : `${namespace.local.name} = ${load}`
  if (named.length > 0) return `void ({ ${named.join(', ')} } = ${target});`
  return `${target};`
}

/** The identifiers a binding pattern declares, in source order. */
function patternIdentifiers(pattern: Pattern): { name: string; start: number }[] {
  switch (pattern.type) {
    case 'Identifier':
      return [pattern]
    case 'ObjectPattern':
      return pattern.properties.flatMap((property) =>
        patternIdentifiers(property.type === 'RestElement' ? property.argument : property.value),
      )
    case 'ArrayPattern':
      return pattern.elements.flatMap((element) => (element == null ? [] : patternIdentifiers(element)))
    case 'AssignmentPattern':
      return patternIdentifiers(pattern.left)
    case 'RestElement':
      return patternIdentifiers(pattern.argument)
    default:
      // MemberExpression: only in assignments, never in declarations.
      return []
  }
}

/** What {@link scanProgram} found. */
interface ProgramScan {
  /** `import(...)` rewritten to the executor's loader, in the walk's order. */
  readonly edits: Edit[]
  /** The first construct, in the walk's order, that code actions cannot contain. */
  readonly failure: { readonly message: string; readonly offset: number } | undefined
  /**
   * Whether the program, parsed as JavaScript, contains something swc's TypeScript parser could
   * read differently, or refuse: a `<` that may open type arguments (`f<T>(x)`, `a < b > (c)`), a
   * parenthesized conditional branch followed by an arrow function (`c ? (x): T => y`), a
   * statement that is just a TypeScript keyword (`declare` or `namespace` before a line break),
   * class fields named like TypeScript modifiers, `type` in import and export specifiers.
   * Over-approximate: false means the TypeScript strip would give the code back unchanged, or
   * refuse it as invalid TypeScript and let it pass as the JavaScript it is.
   */
  readonly typeScript: boolean
}

/**
 * Walks the whole program: finds what code actions cannot contain, rewrites `import(...)` to the
 * executor's loader and, with `detectTypeScript`, looks for JavaScript that TypeScript reads differently.
 */
function scanProgram(
  program: Program,
  source: string,
  importFunction: string,
  detectTypeScript: boolean,
): ProgramScan {
  const edits: Edit[] = []
  let failure: { message: string; offset: number } | undefined
  let typeScript = false
  // [end of the parenthesized consequent, end of the conditional] of each `c ? (x) : y`.
  const parenthesizedConsequents: number[] = []
  const arrowStarts: number[] = []

  // The walk goes on after a failure, to the end, and reports the first one.
  const fail = (message: string, offset: number): void => {
    failure ??= { message, offset }
  }

  const checkTypeScript = (node: AnyNode): void => {
    switch (node.type) {
      case 'ExpressionStatement':
        if (node.expression.type === 'Identifier' && typeScriptStatementWords.has(node.expression.name)) {
          typeScript = true
        }
        return
      case 'BinaryExpression':
        if (
          (node.operator === '<' || node.operator === '<<') &&
          mayOpenTypeArguments(source, node.left.end)
        ) {
          typeScript = true
        }
        return
      case 'ConditionalExpression':
        if (mayEndArrowParameters(source, node.consequent)) {
          parenthesizedConsequents.push(node.consequent.end, node.end)
        }
        return
      case 'SwitchCase':
        if (node.test != null && mayEndArrowParameters(source, node.test)) typeScript = true
        return
      case 'ArrowFunctionExpression':
        arrowStarts.push(node.start)
        return
      case 'PropertyDefinition':
        if (
          !node.computed &&
          node.value == null &&
          node.key.type === 'Identifier' &&
          typeScriptModifiers.has(node.key.name)
        ) {
          typeScript = true
        }
        return
      case 'ImportSpecifier':
        if (moduleExportName(node.imported) === 'type') typeScript = true
        return
      case 'ImportDefaultSpecifier':
        if (node.local.name === 'type') typeScript = true
        return
      case 'ExportSpecifier':
        if (moduleExportName(node.local) === 'type' || moduleExportName(node.exported) === 'type') {
          typeScript = true
        }
        return
      default:
        return
    }
  }

  const visit = (node: AnyNode, parent: AnyNode | undefined, key: string, functionDepth: number): void => {
    switch (node.type) {
      case 'Identifier':
        if (isNonBindingName(parent, key)) return
        if (node.name.startsWith(reservedPrefix) || node.name === importFunction) {
          fail(
            `The name ${node.name} is reserved for airlock's own use in code actions; choose another name.`,
            node.start,
          )
        } else if (node.name === 'await' && functionDepth === 0) {
          fail(
            'await cannot be used as a name in a code action (code actions run as async functions); choose another name.',
            node.start,
          )
        }
        return
      case 'ImportExpression':
        edits.push({ start: node.start, end: node.start + 'import'.length, text: importFunction })
        break
      case 'MetaProperty':
        if (node.meta.name === 'import') {
          fail('import.meta is not available in code actions.', node.start)
        }
        return
      case 'ImportDeclaration':
        if (parent?.type !== 'Program') {
          fail(
            `import declarations are only allowed at the top level of a code action; here, use await import(${JSON.stringify(node.source.value)}).`,
            node.start,
          )
        }
        break
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
      case 'ExportAllDeclaration':
        if (parent?.type !== 'Program') {
          fail('export is not supported in code actions; declare the value and use it.', node.start)
        }
        break
      case 'ForInStatement':
        if (node.left.type === 'VariableDeclaration' && node.left.declarations[0]?.init != null) {
          fail(
            'A for-in loop variable cannot have an initializer; assign it before the loop.',
            node.left.start,
          )
        }
        break
    }
    if (detectTypeScript && !typeScript) checkTypeScript(node)

    const keys = childKeys.get(node.type)
    if (keys === undefined) {
      visitChildrenOfUnknown(node, functionDepth)
      return
    }
    // A function's own body: `await` is an ordinary name there unless the function is async.
    const bodyDepth =
      (node.type === 'FunctionDeclaration' ||
        node.type === 'FunctionExpression' ||
        node.type === 'ArrowFunctionExpression') &&
      !node.async
        ? functionDepth + 1
        : functionDepth
    const fields = node as unknown as Record<string, unknown>
    for (const childKey of keys) {
      const value = fields[childKey]
      if (value == null) continue
      const depth = childKey === 'body' ? bodyDepth : functionDepth
      if (Array.isArray(value)) {
        for (const element of value) if (element != null) visit(element as AnyNode, node, childKey, depth)
      } else {
        visit(value as AnyNode, node, childKey, depth)
      }
    }
  }

  // A node type missing from `childKeys` (one a newer acorn adds): every field that holds nodes.
  const visitChildrenOfUnknown = (node: AnyNode, functionDepth: number): void => {
    for (const [childKey, value] of Object.entries(node)) {
      if (childKey === 'loc') continue
      if (Array.isArray(value)) {
        for (const element of value) if (isNode(element)) visit(element, node, childKey, functionDepth)
      } else if (isNode(value)) {
        visit(value, node, childKey, functionDepth)
      }
    }
  }

  visit(program, undefined, '', 0)

  // `c ? (x) : T => y` is an arrow function with a return type to TypeScript.
  if (detectTypeScript && !typeScript && parenthesizedConsequents.length > 0 && arrowStarts.length > 0) {
    arrowStarts.sort((a, b) => a - b)
    for (let index = 0; index < parenthesizedConsequents.length && !typeScript; index += 2) {
      const after = parenthesizedConsequents[index]!
      const next = arrowStarts[firstAtOrAfter(arrowStarts, after)]
      if (next !== undefined && next < parenthesizedConsequents[index + 1]!) typeScript = true
    }
  }
  return { edits, failure, typeScript }
}

/**
 * The fields that hold child nodes, for each node type acorn produces, in the order acorn creates
 * them (the order the walk has always visited them in, so the first failure stays the same).
 */
const childKeys: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    ArrayExpression: ['elements'],
    ArrayPattern: ['elements'],
    ArrowFunctionExpression: ['id', 'params', 'body'],
    AssignmentExpression: ['left', 'right'],
    AssignmentPattern: ['left', 'right'],
    AwaitExpression: ['argument'],
    BinaryExpression: ['left', 'right'],
    BlockStatement: ['body'],
    BreakStatement: ['label'],
    CallExpression: ['callee', 'arguments'],
    CatchClause: ['param', 'body'],
    ChainExpression: ['expression'],
    ClassBody: ['body'],
    ClassDeclaration: ['id', 'superClass', 'body'],
    ClassExpression: ['id', 'superClass', 'body'],
    ConditionalExpression: ['test', 'consequent', 'alternate'],
    ContinueStatement: ['label'],
    DebuggerStatement: [],
    DoWhileStatement: ['body', 'test'],
    EmptyStatement: [],
    ExportAllDeclaration: ['exported', 'source', 'attributes'],
    ExportDefaultDeclaration: ['declaration'],
    ExportNamedDeclaration: ['declaration', 'specifiers', 'source', 'attributes'],
    ExportSpecifier: ['local', 'exported'],
    ExpressionStatement: ['expression'],
    ForInStatement: ['left', 'right', 'body'],
    ForOfStatement: ['left', 'right', 'body'],
    ForStatement: ['init', 'test', 'update', 'body'],
    FunctionDeclaration: ['id', 'params', 'body'],
    FunctionExpression: ['id', 'params', 'body'],
    IfStatement: ['test', 'consequent', 'alternate'],
    ImportAttribute: ['key', 'value'],
    ImportDeclaration: ['specifiers', 'source', 'attributes'],
    ImportDefaultSpecifier: ['local'],
    ImportExpression: ['source', 'options'],
    ImportNamespaceSpecifier: ['local'],
    ImportSpecifier: ['imported', 'local'],
    LabeledStatement: ['body', 'label'],
    Literal: [],
    LogicalExpression: ['left', 'right'],
    MemberExpression: ['object', 'property'],
    MethodDefinition: ['key', 'value'],
    NewExpression: ['callee', 'arguments'],
    ObjectExpression: ['properties'],
    ObjectPattern: ['properties'],
    ParenthesizedExpression: ['expression'],
    PrivateIdentifier: [],
    Program: ['body'],
    Property: ['key', 'value'],
    PropertyDefinition: ['key', 'value'],
    RestElement: ['argument'],
    ReturnStatement: ['argument'],
    SequenceExpression: ['expressions'],
    SpreadElement: ['argument'],
    StaticBlock: ['body'],
    Super: [],
    SwitchCase: ['consequent', 'test'],
    SwitchStatement: ['discriminant', 'cases'],
    TaggedTemplateExpression: ['tag', 'quasi'],
    TemplateElement: [],
    TemplateLiteral: ['expressions', 'quasis'],
    ThisExpression: [],
    ThrowStatement: ['argument'],
    TryStatement: ['block', 'handler', 'finalizer'],
    UnaryExpression: ['argument'],
    UpdateExpression: ['argument'],
    VariableDeclaration: ['declarations'],
    VariableDeclarator: ['id', 'init'],
    WhileStatement: ['test', 'body'],
    WithStatement: ['object', 'body'],
    YieldExpression: ['argument'],
  }),
)

/** Words that start a TypeScript declaration, even with a line break after them (to swc). */
export const typeScriptStatementWords: ReadonlySet<string> = new Set([
  'abstract',
  'declare',
  'global',
  'interface',
  'module',
  'namespace',
  'type',
])

/** Words that are TypeScript modifiers before a class member. */
const typeScriptModifiers: ReadonlySet<string> = new Set([
  'abstract',
  'accessor',
  'declare',
  'in',
  'out',
  'override',
  'private',
  'protected',
  'public',
  'readonly',
])

function moduleExportName(node: Identifier | Literal): unknown {
  return node.type === 'Identifier' ? node.name : node.value
}

/** Index of the first of the sorted `values` that is at least `value`. */
function firstAtOrAfter(values: readonly number[], value: number): number {
  let low = 0
  let high = values.length
  while (low < high) {
    const middle = (low + high) >> 1
    if (values[middle]! < value) low = middle + 1
    else high = middle
  }
  return low
}

/**
 * Whether `expression`, followed by `:`, could be the parameters of an arrow function with a
 * return type to TypeScript: it is parenthesized, `(x): T => y`, or an `async (x)` call.
 */
function mayEndArrowParameters(source: string, expression: AnyNode): boolean {
  if (
    expression.type === 'CallExpression' &&
    expression.callee.type === 'Identifier' &&
    expression.callee.name === 'async'
  ) {
    return true
  }
  return source.charCodeAt(skipTrivia(source, expression.end)) === 0x29 /* ) */
}

/** How far {@link mayOpenTypeArguments} looks for the `>` that would close type arguments. */
const typeArgumentsScanLimit = 500

/**
 * Whether the `<` (or `<<`) operator after the left operand ending at `leftEnd` could open type
 * arguments to TypeScript, as in `f<T>(x)`: whether a `>` follows it at the same bracket depth
 * before anything that cannot be in a type (`;`, `=`, `&&`, a closing bracket it did not open...).
 * Strings are skipped; template literals and anything unclear count as could.
 */
export function mayOpenTypeArguments(source: string, leftEnd: number): boolean {
  // Between the left operand and the operator: its closing parentheses, spaces and comments.
  let index = skipTrivia(source, leftEnd)
  while (source.charCodeAt(index) === 0x29 /* ) */) index = skipTrivia(source, index + 1)
  if (source.charCodeAt(index) !== 0x3c /* < */) return true
  index++
  // TypeScript reads `<<` as `<` and the start of a type (`f<<T>(x: T) => T>(g)`).
  if (source.charCodeAt(index) === 0x3c) index++
  const closers: number[] = []
  const limit = Math.min(source.length, index + typeArgumentsScanLimit)
  for (; index < limit; index++) {
    const char = source.charCodeAt(index)
    const next = source.charCodeAt(index + 1)
    switch (char) {
      case 0x28 /* ( */:
        closers.push(0x29)
        break
      case 0x5b /* [ */:
        closers.push(0x5d)
        break
      case 0x7b /* { */:
        closers.push(0x7d)
        break
      case 0x29 /* ) */:
      case 0x5d /* ] */:
      case 0x7d /* } */:
        if (closers.length === 0) return false
        if (closers.pop() !== char) return true
        break
      case 0x3e /* > */:
        if (closers.length === 0) return true
        break
      case 0x3b /* ; */:
        // Only object type literals hold `;`.
        if (!closers.includes(0x7d)) return false
        break
      case 0x3d /* = */:
        if (next !== 0x3e /* > */) return false
        index++
        break
      case 0x26 /* & */:
      case 0x7c /* | */:
      case 0x3f /* ? */:
      case 0x2b /* + */:
      case 0x2d /* - */:
        // `&&`, `||`, `??`, `++`, `--`; one alone can be in a type.
        if (next === char) return false
        break
      case 0x2f /* / */:
        if (next === 0x2f || next === 0x2a /* * */) {
          const end = skipTrivia(source, index)
          if (end === index) return true
          index = end - 1
          break
        }
        return false
      case 0x22 /* " */:
      case 0x27 /* ' */: {
        const end = stringEnd(source, index)
        if (end === -1) return true
        index = end - 1
        break
      }
      case 0x60 /* ` */:
        return true
      case 0x21 /* ! */:
      case 0x25 /* % */:
      case 0x2a /* * */:
      case 0x5e /* ^ */:
      case 0x7e /* ~ */:
      case 0x40 /* @ */:
      case 0x23 /* # */:
        return false
      default:
        break
    }
  }
  // The end of the code, with no `>`: not type arguments. The limit: cannot tell.
  return index < source.length
}

/** The offset after the string literal starting at `start`, or -1 when it does not end. */
function stringEnd(source: string, start: number): number {
  const quote = source.charCodeAt(start)
  for (let index = start + 1; index < source.length; index++) {
    const char = source.charCodeAt(index)
    if (char === quote) return index + 1
    if (char === 0x5c /* \ */) index++
    else if (char === 0x0a || char === 0x0d) return -1
  }
  return -1
}

/** The offset of the first character at or after `index` that is not white space or in a comment. */
function skipTrivia(source: string, index: number): number {
  for (;;) {
    const char = source.charCodeAt(index)
    if (char === 0x2f /* / */) {
      const next = source.charCodeAt(index + 1)
      if (next === 0x2f) {
        index++
        while (index < source.length && !isLineTerminator(source.charCodeAt(index))) index++
        continue
      }
      if (next === 0x2a /* * */) {
        const end = source.indexOf('*/', index + 2)
        if (end === -1) return index
        index = end + 2
        continue
      }
      return index
    }
    if (char === 0x20 || (char >= 0x09 && char <= 0x0d) || char === 0xa0) index++
    else if (char > 0x7f && /\s/.test(String.fromCharCode(char))) index++
    else return index
  }
}

function isLineTerminator(char: number): boolean {
  return char === 0x0a || char === 0x0d || char === 0x2028 || char === 0x2029
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && typeof (value as Node).type === 'string'
}

/** Identifiers that are property names or labels, not bindings or references. */
function isNonBindingName(parent: AnyNode | undefined, key: string): boolean {
  if (parent === undefined) return false
  switch (parent.type) {
    case 'MemberExpression':
      return key === 'property' && !parent.computed
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
      return key === 'key' && !parent.computed
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return key === 'label'
    case 'ImportSpecifier':
      return key === 'imported'
    case 'ImportAttribute':
      return key === 'key'
    case 'ExportSpecifier':
    case 'ExportAllDeclaration':
      return true
    default:
      return false
  }
}

/**
 * A few lines of `code` around `line` (1-based) with a caret under `column` (1-based):
 *
 * ```
 *   2 | const y = x +
 * > 3 | foo(
 *     |    ^
 *   4 | bar
 * ```
 *
 * Returns an empty string when `line` is not in `code`.
 */
export function codeFrame(code: string, line: number, column: number, contextLines = 2): string {
  const lines = code.split(/\r\n?|[\n\u2028\u2029]/)
  if (!Number.isInteger(line) || line < 1 || line > lines.length) return ''
  const first = Math.max(1, line - contextLines)
  const last = Math.min(lines.length, line + contextLines)
  const width = String(last).length
  const output: string[] = []
  for (let current = first; current <= last; current++) {
    const text = lines[current - 1]!
    const marker = current === line ? '>' : ' '
    output.push(`${marker} ${String(current).padStart(width)} | ${text}`.trimEnd())
    if (current === line) {
      // Tabs copied from the line keep the caret aligned however the reader renders them.
      const indent = text.slice(0, Math.max(0, column - 1)).replace(/[^\t]/g, ' ')
      output.push(`  ${' '.repeat(width)} | ${indent}^`)
    }
  }
  return output.join('\n')
}
