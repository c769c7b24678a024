import {
  assemble,
  type Edit,
  identifierName,
  mayOpenTypeArguments,
  type PrepareCodeActionOptions,
  type PreparedCodeAction,
  reservedPrefix,
  rewriteDeclaration,
  typeScriptStatementWords,
} from './code-action.js'

/**
 * {@link prepareCodeAction}'s rewrite, read from the tokens of plain JavaScript instead of a full
 * parse, which for a short snippet costs a third of what running it in V8 does. One pass tokenizes the
 * code, a second reads its top-level statements: declarations, function declarations, the last
 * expression statement. Nested code is only tokenized, since the rewrite copies it as it is.
 *
 * It gives up (returns undefined) wherever it cannot be sure to read the code as the full parse
 * does: TypeScript, static imports, `var` outside functions, classes, labels, names starting with
 * `__airlock`, `return` it cannot place inside a function, a `/` that could start a regular
 * expression or divide, non-ASCII outside strings and comments, and more.
 *
 * The contract: whenever `prepareCodeAction` accepts the code, the result is the same as its
 * result. When `prepareCodeAction` refuses the code (a syntax error, TypeScript it would strip,
 * syntax code actions do not support), the result is undefined or a script that does not compile.
 * So a caller must compile the script before running any of it and, when it does not compile,
 * fall back to `prepareCodeAction`, for its error or its reading of the code as TypeScript.
 *
 * @example
 * const prepared =
 *   prepareCodeActionQuickly(code, { importFunction: '__airlock_import' }) ??
 *   prepareCodeAction(code, { importFunction: '__airlock_import' })
 */
export function prepareCodeActionQuickly(
  code: string,
  options: PrepareCodeActionOptions,
): PreparedCodeAction | undefined {
  if (!identifierName.test(options.importFunction)) return undefined
  try {
    const tokens = new Tokens(code, options.importFunction)
    return new TopLevelReader(code, tokens, options.importFunction).read()
  } catch (error) {
    // Patterns or templates nested deep enough to overflow the stack are for the full parse too.
    if (error === unreadable || error instanceof RangeError) return undefined
    throw error
  }
}

/** Thrown (and caught above) where the quick reading gives up; never escapes. */
const unreadable: unique symbol = Symbol('unreadable')

function giveUp(): never {
  throw unreadable
}

const enum Kind {
  /** Past the last token. */
  None,
  Name,
  Number,
  String,
  /** A template literal without substitutions. */
  Template,
  /** `` `...${ ``: opens a substitution, matched by the tail. */
  TemplateHead,
  /** `` }...${ `` */
  TemplateMiddle,
  /** `` }...` ``: closes the template opened by the head. */
  TemplateTail,
  RegExp,
  Punctuator,
}

/** The fields of a token in `Tokens`' table, and how its flags pack its kind, what it opens and a line break. */
const STRIDE = 4
const START = 0
const END = 1
const PARTNER = 2
const FLAGS = 3
const KIND_MASK = 0xf
const OPENS_SHIFT = 4
const OPENS_MASK = 0x3
const LINE_BREAK = 0x40

/**
 * The table of the last code read, reused by the next (reading is synchronous): allocating a typed
 * array costs more than tokenizing a short snippet. Tables past `MAX_SCRATCH` are not kept.
 */
let scratch: Int32Array = new Int32Array(STRIDE * 1024)
const MAX_SCRATCH = STRIDE * 65_536

/**
 * How deep code may nest before the quick reading leaves it to the full parse. Acorn recurses per
 * nested bracket, arrow function and operator of a chain, and refuses code past a few hundred
 * levels (fewer than 500 nested functions, about 3,000 chained operators), where V8 reads it: so
 * the quick reading gives up well below those depths, to read only what the full parse reads.
 */
const MAX_BRACKET_DEPTH = 128
const MAX_ARROWS = 200
/** Tokens between two `,` or `;` (or ends of statements) at one bracket level. */
const MAX_CHAIN = 1_000

/** What an opening bracket opens, where it matters. */
const enum Opens {
  Other,
  /** The parentheses after `if`, `for`, `while`, `with`, `switch` or `catch`. */
  ControlHead,
  /** The parameters of a function declared or expressed with `function`. */
  Parameters,
  /** The body of a `function` or of an arrow function. */
  FunctionBody,
}

/** Words that end an expression when they stand last in it (the rest of the reserved words do not). */
const valueWords: ReadonlySet<string> = new Set(['this', 'super', 'null', 'true', 'false'])

/** Reserved words of JavaScript, and the words that cannot name a top-level binding of a code action. */
const reservedWords: ReadonlySet<string> = new Set([
  'await',
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'enum',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'new',
  'null',
  'return',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'yield',
])
const unbindableNames: ReadonlySet<string> = new Set([
  ...reservedWords,
  'arguments',
  'let',
  'static',
  'implements',
  'interface',
  'package',
  'private',
  'protected',
  'public',
])

/** Words after which a `/` starts a regular expression. */
const operatorWords: ReadonlySet<string> = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
])

/** Names after which a `/` could divide or start a regular expression, depending on context. */
const ambiguousWords: ReadonlySet<string> = new Set([
  'yield',
  'await',
  'of',
  'let',
  'async',
  'get',
  'set',
  'static',
])

/** `(a) = 1`, `f() += 1`: see #checkIncremented. */
const assignmentOperators: ReadonlySet<string> = new Set([
  '=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '**=',
  '<<=',
  '>>=',
  '>>>=',
  '&=',
  '|=',
  '^=',
  '&&=',
  '||=',
  '??=',
])

const controlWords: ReadonlySet<string> = new Set(['if', 'for', 'while', 'with', 'switch', 'catch'])

/**
 * The tokens of the code, in one table, with each bracket matched to its partner. Tokenizing
 * checks what can be checked token by token (see {@link prepareCodeActionQuickly}) and throws
 * {@link unreadable} where the code needs the full parse.
 */
class Tokens {
  /** The word of a name, the punctuator itself, or '' for literals. */
  readonly #texts: string[] = []
  /**
   * For each token, `STRIDE` integers: its start and end offsets, the index of its partner (for a
   * bracket, a template head or tail; -1 otherwise), and flags: its kind, what it opens and
   * whether a line break stands before it. One typed array costs far less than an array per field.
   */
  #table: Int32Array
  /** `import(` calls, by the index of their `import`. */
  readonly importCalls: number[] = []
  /** Prefix `++` and `--`, by index. */
  readonly #prefixIncrements: number[] = []
  /** `await` (not as a property name), by index. */
  readonly #awaits: number[] = []

  readonly #code: string
  readonly #importFunction: string

  constructor(code: string, importFunction: string) {
    this.#code = code
    this.#importFunction = importFunction
    // Room for a token per four characters (code has about one per six); it doubles when full.
    const size = STRIDE * (16 + (code.length >> 2))
    if (scratch.length < size) {
      const table = new Int32Array(size)
      if (size <= MAX_SCRATCH) scratch = table
      this.#table = table
    } else {
      this.#table = scratch
    }
    this.#read()
  }

  get length(): number {
    return this.#texts.length
  }

  /** The kind of token `index`, or `Kind.None` past the last token. */
  kind(index: number): Kind {
    return index >= 0 && index < this.#texts.length
      ? this.#table[index * STRIDE + FLAGS]! & KIND_MASK
      : Kind.None
  }

  text(index: number): string | undefined {
    return index >= 0 && index < this.#texts.length ? this.#texts[index] : undefined
  }

  start(index: number): number {
    return this.#table[index * STRIDE + START]!
  }

  end(index: number): number {
    return this.#table[index * STRIDE + END]!
  }

  /** For a bracket (or a template head or tail), the index of its partner; -1 otherwise. */
  partner(index: number): number {
    return index >= 0 && index < this.#texts.length ? this.#table[index * STRIDE + PARTNER]! : -1
  }

  /** A line break stands between token `index` and the one before it. */
  lineBreakBefore(index: number): boolean {
    return (this.#table[index * STRIDE + FLAGS]! & LINE_BREAK) !== 0
  }

  opening(index: number): Opens {
    return (this.#table[index * STRIDE + FLAGS]! >> OPENS_SHIFT) & OPENS_MASK
  }

  /** Whether token `index` is the punctuator `text`. */
  is(index: number, text: string): boolean {
    return this.kind(index) === Kind.Punctuator && this.#texts[index] === text
  }

  /** Whether token `index` follows `.` or `?.`: a property name, whatever its word. */
  isProperty(index: number): boolean {
    return index > 0 && (this.is(index - 1, '.') || this.is(index - 1, '?.'))
  }

  /** Whether token `index` is the name `word`. */
  isWord(index: number, word: string): boolean {
    return this.kind(index) === Kind.Name && this.#texts[index] === word
  }

  /**
   * Tokenizes the code in one loop over locals: this runs before every run, and method calls per
   * token cost as much as the work itself. Each token is checked once the token after it is known
   * (`previous*` below), and its brackets are matched as they close.
   */
  #read(): void {
    const code = this.#code
    const texts = this.#texts
    /** Indices of the brackets open at the position. */
    const open: number[] = []
    /** For each open bracket, and the top level (first), the `?` still waiting for their `:`. */
    const questions = [0]
    /** For each open bracket, and the top level (first), the tokens since its last `,` or `;`. */
    const chains = [0]
    let arrows = 0
    const lineBreaks = new LineBreakFinder(code)
    let table = this.#table
    let position = 0
    let lineBreak = false
    let functionBodies = 0
    let sawCase = false
    /** Offset of the first `:` that follows a `)`, and of the last `=>`. */
    let colonAfterParenthesis = -1
    let lastArrow = -1
    let previousKind = Kind.None
    let previousText = ''
    /** The previous token is a name after `.` or `?.`: a property name, whatever its word. */
    let previousIsProperty = false

    for (;;) {
      let char = code.charCodeAt(position)
      for (;;) {
        if (char === 0x20 || char === 0x09 || char === 0x0b || char === 0x0c) {
          char = code.charCodeAt(++position)
        } else if (char === 0x0a || char === 0x0d) {
          lineBreak = true
          char = code.charCodeAt(++position)
        } else if (char === 0x2f /* / */ && code.charCodeAt(position + 1) === 0x2f) {
          position += 2
          while (position < code.length && !isLineTerminator(code.charCodeAt(position))) position++
          char = code.charCodeAt(position)
        } else if (char === 0x2f && code.charCodeAt(position + 1) === 0x2a /* * */) {
          const end = code.indexOf('*/', position + 2)
          if (end === -1) giveUp()
          for (let index = position + 2; index < end && !lineBreak; index++) {
            if (isLineTerminator(code.charCodeAt(index))) lineBreak = true
          }
          position = end + 2
          char = code.charCodeAt(position)
        } else if (char > 0x7f) {
          // Other white space, identifiers beyond ASCII, a byte order mark: for the full parse.
          giveUp()
        } else {
          break
        }
      }
      const atEnd = position >= code.length
      const index = texts.length

      // The previous token, now that what follows it is known.
      if (previousKind === Kind.Name && !previousIsProperty) {
        // `import` only as a call, not `import x from`, `import.meta`.
        if (previousText === 'import' && char !== 0x28 /* ( */) giveUp()
        // `new.target`
        if (previousText === 'new' && char === 0x2e /* . */) giveUp()
        // `let` then a line break: a declaration or a name, which acorn and V8 tell apart
        // differently before a keyword (`let\nthrow e`).
        if (previousText === 'let' && lineBreak) giveUp()
        // A statement that is just `type`, `declare`...: a TypeScript declaration to swc.
        if (
          (atEnd || lineBreak || char === 0x3b /* ; */ || char === 0x7d) /* } */ &&
          typeScriptStatementWords.has(previousText)
        ) {
          giveUp()
        }
      }
      if (atEnd) break

      const start = position
      let kind: Kind
      let text = ''
      let end: number
      let opens = Opens.Other
      let partner = -1
      if (isNameStart(char)) {
        end = start + 1
        while (isNamePart(code.charCodeAt(end))) end++
        const after = code.charCodeAt(end)
        if (after === 0x5c /* \ */ || after > 0x7f) giveUp()
        kind = Kind.Name
        text = code.slice(start, end)
        if ((char === 0x5f /* _ */ && text.startsWith(reservedPrefix)) || text === this.#importFunction) {
          giveUp()
        }
      } else if (isDigit(char) || (char === 0x2e /* . */ && isDigit(code.charCodeAt(start + 1)))) {
        kind = Kind.Number
        end = numberEnd(code, start)
      } else if (char === 0x22 /* " */ || char === 0x27 /* ' */) {
        kind = Kind.String
        end = stringLiteralEnd(code, start, lineBreaks)
      } else if (char === 0x60 /* ` */) {
        end = templatePartEnd(code, start + 1)
        kind = code.charCodeAt(end - 1) === 0x60 ? Kind.Template : Kind.TemplateHead
      } else if (char === 0x7d /* } */ && open.length > 0 && this.kind(open.at(-1)!) === Kind.TemplateHead) {
        end = templatePartEnd(code, start + 1)
        kind = code.charCodeAt(end - 1) === 0x60 ? Kind.TemplateTail : Kind.TemplateMiddle
      } else if (
        char === 0x2f /* / */ &&
        this.#regExpMayStart(previousKind, previousText, previousIsProperty)
      ) {
        kind = Kind.RegExp
        end = regExpEnd(code, start)
      } else {
        kind = Kind.Punctuator
        text = punctuatorAt(code, start)
        end = start + text.length
      }

      // This token.
      if (kind === Kind.Name) {
        // TypeScript the isolate would only refuse to compile, sending the run back for the full
        // preparation: `x as T`, `y satisfies T`, `type T = ...`, `interface I {}`.
        if (
          !lineBreak &&
          (((text === 'as' || text === 'satisfies') &&
            previousEndsExpression(previousKind, previousText, previousIsProperty)) ||
            (previousKind === Kind.Name && !previousIsProperty && typeScriptStatementWords.has(previousText)))
        ) {
          giveUp()
        }
        if (!(previousKind === Kind.Punctuator && (previousText === '.' || previousText === '?.'))) {
          switch (text) {
            case 'var':
              // The full parse refuses `for (var x = 1 in o)`, which sloppy V8 accepts.
              if (functionBodies === 0 || (previousText === '(' && this.isWord(index - 2, 'for'))) giveUp()
              break
            case 'return':
              if (functionBodies === 0) giveUp()
              break
            case 'class':
            case 'export':
            case 'using':
            case 'enum':
              giveUp()
              break
            case 'import':
              if (previousKind === Kind.Name && previousText === 'new') giveUp()
              this.importCalls.push(index)
              break
            case 'case':
              sawCase = true
              break
            case 'await':
              // `function await() {}`: a name V8 accepts for a function expression anywhere.
              if (
                previousText === 'function' ||
                (previousText === '*' && this.isWord(index - 2, 'function'))
              ) {
                giveUp()
              }
              this.#awaits.push(index)
              break
            case 'in':
            case 'of':
              // `for (f() of xs)`: a call as the target (see #checkIncremented).
              if (previousKind === Kind.Punctuator && previousText === ')') giveUp()
              break
          }
        }
      } else if (kind === Kind.Punctuator) {
        const afterParenthesis = previousKind === Kind.Punctuator && previousText === ')'
        switch (text) {
          case '(':
            if (previousKind === Kind.Name && controlWords.has(previousText)) opens = Opens.ControlHead
            else if (this.#followsFunctionWord(index)) opens = Opens.Parameters
            break
          case '{':
            if (
              previousKind === Kind.Punctuator &&
              (previousText === '=>' ||
                (previousText === ')' && this.opening(this.partner(index - 1)) === Opens.Parameters))
            ) {
              opens = Opens.FunctionBody
              functionBodies++
            }
            break
          case ')':
          case ']':
          case '}': {
            partner = open.pop() ?? -1
            questions.pop()
            chains.pop()
            const expected = text === ')' ? '(' : text === ']' ? '[' : '{'
            if (partner === -1 || !this.is(partner, expected)) giveUp()
            if (this.opening(partner) === Opens.FunctionBody) functionBodies--
            break
          }
          case '?':
            questions[questions.length - 1]!++
            break
          case ':': {
            if (afterParenthesis && colonAfterParenthesis === -1) colonAfterParenthesis = start
            const level = questions.length - 1
            if (questions[level]! > 0) {
              questions[level]!--
            } else if (open.length === 0 || !this.is(open.at(-1)!, '{')) {
              // Outside braces, only a conditional has a `:`; anything else is a label or TypeScript.
              giveUp()
            }
            break
          }
          case '=>':
            lastArrow = start
            if (++arrows > MAX_ARROWS) giveUp()
            break
          case '<':
          case '<<':
            // `<!--` is a comment in scripts; `f<T>(x)` may be type arguments to TypeScript.
            if (code.startsWith('!--', end) || mayOpenTypeArguments(code, start)) giveUp()
            break
          case '++':
          case '--':
            // `-->` at the start of a line is a comment in scripts.
            if (text === '--' && code.charCodeAt(end) === 0x3e /* > */) giveUp()
            if (!lineBreak && previousEndsExpression(previousKind, previousText, previousIsProperty)) {
              // Postfix: `f()++` is a call as the target (see #checkIncremented).
              if (afterParenthesis) giveUp()
            } else {
              this.#prefixIncrements.push(index)
            }
            break
          default:
            if (afterParenthesis && assignmentOperators.has(text)) giveUp()
        }
      } else if (kind === Kind.TemplateTail) {
        partner = open.pop()!
        questions.pop()
        chains.pop()
      }

      const level = chains.length - 1
      if (
        (kind === Kind.Punctuator && (text === ',' || text === ';')) ||
        (lineBreak &&
          previousEndsExpression(previousKind, previousText, previousIsProperty) &&
          !tokenContinues(kind, text))
      ) {
        chains[level] = 0
      } else if (++chains[level]! > MAX_CHAIN) {
        giveUp()
      }

      const at = index * STRIDE
      if (at + STRIDE > table.length) {
        const grown = new Int32Array(table.length * 2)
        grown.set(table)
        table = grown
        this.#table = table
        if (table.length <= MAX_SCRATCH) scratch = table
      }
      table[at + START] = start
      table[at + END] = end
      table[at + PARTNER] = partner
      table[at + FLAGS] = kind | (opens << OPENS_SHIFT) | (lineBreak ? LINE_BREAK : 0)
      if (partner !== -1) table[partner * STRIDE + PARTNER] = index
      texts.push(text)
      if (
        kind === Kind.TemplateHead ||
        (kind === Kind.Punctuator && (text === '(' || text === '[' || text === '{'))
      ) {
        if (open.push(index) > MAX_BRACKET_DEPTH) giveUp()
        questions.push(0)
        chains.push(0)
      }

      previousIsProperty =
        kind === Kind.Name &&
        previousKind === Kind.Punctuator &&
        (previousText === '.' || previousText === '?.')
      previousKind = kind
      previousText = text
      lineBreak = false
      position = end
    }

    if (open.length > 0) giveUp()
    // `c ? (x) : T => y` is an arrow function with a return type to TypeScript, and so may be
    // `case (x):` followed by one.
    if (colonAfterParenthesis !== -1 && (sawCase || lastArrow > colonAfterParenthesis)) giveUp()
    for (const index of this.importCalls) this.#checkImportCall(index + 1)
    for (const index of this.#prefixIncrements) this.#checkIncremented(index + 1)
    if (this.#awaits.length > 0) this.#checkAwaits()
  }

  /**
   * The full parse refuses `await` as a name outside the body of a function that is not async;
   * V8 also accepts it in the parameters of one (`function f(await) {}`, `{ m(a = await) {} }`).
   * Elsewhere V8 refuses what the full parse refuses, since the script is an async function.
   */
  #checkAwaits(): void {
    for (let open = 0; open < this.length; open++) {
      if (!this.is(open, '(') || this.opening(open) === Opens.ControlHead) continue
      const close = this.partner(open)
      if (!this.is(close + 1, '{') && !this.is(close + 1, '=>')) continue
      // The first `await` after the `(`, by binary search (they are in order): is it inside?
      const awaits = this.#awaits
      let low = 0
      let high = awaits.length
      while (low < high) {
        const middle = (low + high) >> 1
        if (awaits[middle]! <= open) low = middle + 1
        else high = middle
      }
      if (low < awaits.length && awaits[low]! < close) giveUp()
    }
  }

  /**
   * V8 compiles a call as the target of an assignment or increment (`f() = 1`, `++f()`), failing
   * only when it runs, where the full parse refuses it: the quick reading gives up on any target
   * that is not a name with properties.
   */
  #checkIncremented(index: number): void {
    if (this.kind(index) !== Kind.Name || reservedWords.has(this.#texts[index]!)) giveUp()
    let position = index + 1
    for (;;) {
      if (this.is(position, '.') && this.kind(position + 1) === Kind.Name) position += 2
      else if (this.is(position, '[')) position = this.partner(position) + 1
      else break
    }
    if (
      this.is(position, '(') ||
      this.is(position, '?.') ||
      this.kind(position) === Kind.Template ||
      this.kind(position) === Kind.TemplateHead
    )
      giveUp()
  }

  /**
   * `import` takes one specifier (options after a comma are for the full parse), which the loader
   * rewrite would not check; `import(...) {` is a method named import, not a call.
   */
  #checkImportCall(open: number): void {
    const close = this.partner(open)
    if (close === open + 1 || this.is(open + 1, '...') || this.is(close + 1, '{')) giveUp()
    for (
      let index = open + 1;
      index < close;
      index = this.partner(index) === -1 ? index + 1 : this.partner(index) + 1
    ) {
      if (this.is(index, ',')) giveUp()
    }
  }

  /** Whether the `(` at `index` follows `function`, `function name`, `function*` or `function* name`. */
  #followsFunctionWord(index: number): boolean {
    let before = index - 1
    if (before >= 0 && this.kind(before) === Kind.Name && !this.isWord(before, 'function')) before--
    if (before >= 0 && this.is(before, '*')) before--
    return before >= 0 && this.isWord(before, 'function')
  }

  /** Whether a `/` after the previous token starts a regular expression (true) or divides (false). */
  #regExpMayStart(previousKind: Kind, previousText: string, previousIsProperty: boolean): boolean {
    switch (previousKind) {
      case Kind.None:
      case Kind.TemplateHead:
      case Kind.TemplateMiddle:
        return true
      case Kind.Number:
      case Kind.String:
      case Kind.RegExp:
      case Kind.Template:
      case Kind.TemplateTail:
        return false
      case Kind.Name:
        if (previousIsProperty || valueWords.has(previousText)) return false
        if (operatorWords.has(previousText)) return true
        if (ambiguousWords.has(previousText) || reservedWords.has(previousText)) giveUp()
        return false
      case Kind.Punctuator:
        switch (previousText) {
          case ')':
            // After `if (c)`, a statement may start with a regular expression.
            if (this.opening(this.partner(this.length - 1)) === Opens.ControlHead) giveUp()
            return false
          case ']':
            return false
          case '}':
          case '++':
          case '--':
            // `{}` may be a block or an object; `a++ /b/` divides, `++/b/.c` would not.
            return giveUp()
          default:
            return true
        }
    }
  }
}

/** The top-level statements of the tokens, read into the rewrite `prepareCodeAction` makes. */
class TopLevelReader {
  readonly #code: string
  readonly #tokens: Tokens
  readonly #edits: Edit[] = []
  readonly #declared = new Set<string>()
  readonly #hoistedFunctions: { name: string; start: number; end: number }[] = []

  constructor(code: string, tokens: Tokens, importFunction: string) {
    this.#code = code
    this.#tokens = tokens
    // As the full parse does: `import(` becomes a call of the executor's loader.
    for (const index of tokens.importCalls) {
      const start = tokens.start(index)
      this.#edits.push({ start, end: start + 'import'.length, text: importFunction })
    }
  }

  read(): PreparedCodeAction {
    const tokens = this.#tokens
    // A directive prologue ("use strict") is for the full parse.
    if (tokens.length > 0 && tokens.kind(0) === Kind.String) giveUp()
    let lastExpression: { start: number; end: number } | undefined
    let index = 0
    while (index < tokens.length) {
      if (tokens.is(index, ';')) {
        index++
        continue
      }
      const expressionEnd = this.#statement(index)
      if (typeof expressionEnd === 'number') {
        lastExpression = undefined
        index = expressionEnd
      } else {
        lastExpression = { start: tokens.start(index), end: expressionEnd.end }
        index = expressionEnd.next
      }
    }
    return assemble(this.#code, this.#code, {
      edits: this.#edits,
      declaredNames: [...this.#declared],
      hoistedImports: [],
      hoistedFunctions: this.#hoistedFunctions,
      strict: false,
      lastExpression,
    })
  }

  /**
   * Reads the statement at `index`: the index after it, or for an expression statement its end
   * offset (its `;` included) and the index after it.
   */
  #statement(index: number): number | { end: number; next: number } {
    const tokens = this.#tokens
    if (tokens.is(index, '{')) return this.#afterBlock(index)
    if (tokens.kind(index) === Kind.Name) {
      const next = index + 1
      switch (tokens.text(index)) {
        case 'const':
          return this.#declaration(index)
        case 'let':
          if (
            next < tokens.length &&
            !tokens.lineBreakBefore(next) &&
            ((tokens.kind(next) === Kind.Name && !unbindableNames.has(tokens.text(next)!)) ||
              tokens.is(next, '[') ||
              tokens.is(next, '{'))
          ) {
            return this.#declaration(index)
          }
          return giveUp()
        case 'function':
          return this.#functionDeclaration(index, index)
        case 'async':
          if (tokens.isWord(next, 'function') && !tokens.lineBreakBefore(next)) {
            return this.#functionDeclaration(index, next)
          }
          break
        case 'if': {
          let after = this.#afterBlock(this.#afterParentheses(next))
          while (tokens.isWord(after, 'else')) {
            after = tokens.isWord(after + 1, 'if')
              ? this.#afterBlock(this.#afterParentheses(after + 2))
              : this.#afterBlock(after + 1)
          }
          return after
        }
        case 'for':
          return this.#afterBlock(this.#afterParentheses(tokens.isWord(next, 'await') ? next + 1 : next))
        case 'while':
        case 'switch':
          return this.#afterBlock(this.#afterParentheses(next))
        case 'do': {
          const afterBody = this.#afterBlock(next)
          if (!tokens.isWord(afterBody, 'while')) giveUp()
          const after = this.#afterParentheses(afterBody + 1)
          return tokens.is(after, ';') ? after + 1 : after
        }
        case 'try': {
          let after = this.#afterBlock(next)
          const handled = tokens.isWord(after, 'catch')
          if (handled) {
            after++
            if (tokens.is(after, '(')) after = this.#afterParentheses(after)
            after = this.#afterBlock(after)
          }
          if (tokens.isWord(after, 'finally')) after = this.#afterBlock(after + 1)
          else if (!handled) giveUp()
          return after
        }
        case 'import':
          // `import(...)` (the tokens checked that `(` follows) is an expression.
          break
        default:
          if (reservedWords.has(tokens.text(index)!) && !valueWords.has(tokens.text(index)!)) {
            // typeof, void, delete, new and await start expressions; other words, statements
            // the quick reading leaves to the full parse (var, return, throw, break...).
            if (!expressionWords.has(tokens.text(index)!)) giveUp()
          }
      }
    }
    const end = this.#expressionEnd(index, false)
    return { end: end.semicolon === -1 ? tokens.end(end.last) : tokens.end(end.semicolon), next: end.next }
  }

  /** `const a = 1, [b, c] = d` or `let e, f`: rewritten as `prepareCodeAction` does. */
  #declaration(index: number): number {
    const tokens = this.#tokens
    const kind = tokens.text(index)!
    const declarations: { end: number; init: boolean }[] = []
    let position = index + 1
    for (;;) {
      const afterPattern = this.#bindingPattern(position)
      if (tokens.is(afterPattern, '=')) {
        const end = this.#expressionEnd(afterPattern + 1, true)
        declarations.push({ end: tokens.end(end.last), init: true })
        if (end.comma) {
          position = end.next
          continue
        }
        this.#rewriteDeclaration(kind, index, declarations, end.semicolon)
        return end.next
      }
      // No initializer: only `let`, and only a name.
      if (kind !== 'let' || afterPattern !== position + 1 || tokens.kind(position) !== Kind.Name) giveUp()
      declarations.push({ end: tokens.end(position), init: false })
      if (tokens.is(afterPattern, ',')) {
        position = afterPattern + 1
        continue
      }
      if (tokens.is(afterPattern, ';')) {
        this.#rewriteDeclaration(kind, index, declarations, afterPattern)
        return afterPattern + 1
      }
      if (afterPattern < tokens.length && !tokens.lineBreakBefore(afterPattern)) giveUp()
      this.#rewriteDeclaration(kind, index, declarations, -1)
      return afterPattern
    }
  }

  #rewriteDeclaration(
    kind: string,
    index: number,
    declarations: readonly { end: number; init: boolean }[],
    semicolon: number,
  ): void {
    const tokens = this.#tokens
    const end = semicolon === -1 ? declarations.at(-1)!.end : tokens.end(semicolon)
    rewriteDeclaration(
      {
        kind,
        start: tokens.start(index),
        end,
        declarations: declarations.map((declaration) => ({
          end: declaration.end,
          init: declaration.init ? true : null,
        })),
      },
      this.#code,
      this.#edits,
    )
  }

  /** Declares the names of the binding pattern at `index`; the index after it. */
  #bindingPattern(index: number): number {
    const tokens = this.#tokens
    if (tokens.kind(index) === Kind.Name) {
      this.#declare(tokens.text(index)!)
      return index + 1
    }
    const array = tokens.is(index, '[')
    if (!array && !tokens.is(index, '{')) giveUp()
    const close = tokens.partner(index)
    let position = index + 1
    while (position < close) {
      if (array && tokens.is(position, ',')) {
        position++
        continue
      }
      if (tokens.is(position, '...')) {
        position = this.#bindingPattern(position + 1)
      } else if (array) {
        position = this.#withDefault(this.#bindingPattern(position), close)
      } else {
        const key = position
        if (tokens.is(key, '[')) position = tokens.partner(key) + 1
        else if (
          tokens.kind(key) === Kind.Name ||
          tokens.kind(key) === Kind.String ||
          tokens.kind(key) === Kind.Number
        )
          position++
        else giveUp()
        if (tokens.is(position, ':')) {
          position = this.#bindingPattern(position + 1)
        } else {
          // Shorthand: `{ a }` or `{ a = 1 }`.
          if (tokens.kind(key) !== Kind.Name) giveUp()
          this.#declare(tokens.text(key)!)
        }
        position = this.#withDefault(position, close)
      }
      if (position === close) break
      if (!tokens.is(position, ',')) giveUp()
      position++
    }
    return close + 1
  }

  /** Skips the default value (`= ...`) at `index`, if any, up to the `,` or `close` that ends it. */
  #withDefault(index: number, close: number): number {
    const tokens = this.#tokens
    if (!tokens.is(index, '=')) return index
    let position = index + 1
    if (position >= close) giveUp()
    while (position < close && !tokens.is(position, ',')) {
      position =
        tokens.partner(position) === -1 || isCloser(tokens, position)
          ? position + 1
          : tokens.partner(position) + 1
    }
    return position
  }

  #declare(name: string): void {
    if (unbindableNames.has(name) || this.#declared.has(name)) giveUp()
    this.#declared.add(name)
  }

  /** `[async] function [*] name (...) {...}` with its first token at `start`: hoisted. */
  #functionDeclaration(start: number, functionWord: number): number {
    const tokens = this.#tokens
    let position = functionWord + 1
    if (tokens.is(position, '*')) position++
    if (tokens.kind(position) !== Kind.Name) giveUp()
    const name = tokens.text(position)!
    const body = this.#afterParentheses(position + 1)
    if (!tokens.is(body, '{')) giveUp()
    const close = tokens.partner(body)
    this.#declare(name)
    const range = { name, start: tokens.start(start), end: tokens.end(close) }
    this.#hoistedFunctions.push(range)
    this.#edits.push({ start: range.start, end: range.end, text: ';', moved: true })
    return close + 1
  }

  #afterParentheses(index: number): number {
    if (!this.#tokens.is(index, '(')) giveUp()
    return this.#tokens.partner(index) + 1
  }

  #afterBlock(index: number): number {
    if (!this.#tokens.is(index, '{')) giveUp()
    return this.#tokens.partner(index) + 1
  }

  /**
   * Finds where the expression starting at `index` ends, as JavaScript's automatic semicolon
   * insertion does at the top level: at a `;` (then `semicolon` is its index), at a `,` when
   * `inDeclaration` (then `comma`), at the end of the code, or before a token on a new line that
   * cannot continue it. `last` is the expression's last token, `next` the index after it all.
   */
  #expressionEnd(
    index: number,
    inDeclaration: boolean,
  ): { last: number; next: number; semicolon: number; comma: boolean } {
    const tokens = this.#tokens
    if (index >= tokens.length) giveUp()
    let position = index
    for (;;) {
      if (tokens.is(position, ';') || (inDeclaration && tokens.is(position, ','))) giveUp()
      const partner = tokens.partner(position)
      const arrowBody =
        partner !== -1 && tokens.is(position, '{') && position > 0 && tokens.is(position - 1, '=>')
      position = partner === -1 ? position + 1 : partner + 1
      const last = position - 1
      if (position >= tokens.length) return { last, next: position, semicolon: -1, comma: false }
      if (tokens.is(position, ';')) return { last, next: position + 1, semicolon: position, comma: false }
      if (inDeclaration && tokens.is(position, ','))
        return { last, next: position + 1, semicolon: -1, comma: true }
      const lineBreak = tokens.lineBreakBefore(position)
      if (arrowBody) {
        // Nothing continues an arrow function's block body: `() => {}\n(x)` is two statements.
        if (!lineBreak || continues(tokens, position)) giveUp()
        return { last, next: position, semicolon: -1, comma: false }
      }
      if (!lineBreak) continue
      if (isIncrement(tokens, last) || isIncrement(tokens, position)) giveUp()
      if (tokens.isWord(last, 'yield') || tokens.isWord(position, 'yield')) giveUp()
      if (endsExpression(tokens, last) && !continues(tokens, position)) {
        return { last, next: position, semicolon: -1, comma: false }
      }
    }
  }
}

/** Reserved words that start an expression statement. */
const expressionWords: ReadonlySet<string> = new Set(['typeof', 'void', 'delete', 'new', 'await', 'import'])

function isCloser(tokens: Tokens, index: number): boolean {
  const partner = tokens.partner(index)
  return partner !== -1 && partner < index
}

function isIncrement(tokens: Tokens, index: number): boolean {
  return tokens.is(index, '++') || tokens.is(index, '--')
}

/** Whether an expression can end with token `index`. */
function endsExpression(tokens: Tokens, index: number): boolean {
  return previousEndsExpression(tokens.kind(index), tokens.text(index) ?? '', tokens.isProperty(index))
}

/** Whether an expression can end with a token of this kind and text. */
function previousEndsExpression(kind: Kind, text: string, isProperty: boolean): boolean {
  switch (kind) {
    case Kind.Name:
      return valueWords.has(text) || !reservedWords.has(text) || isProperty
    case Kind.Punctuator:
      return text === ')' || text === ']' || text === '}'
    case Kind.None:
    case Kind.TemplateHead:
    case Kind.TemplateMiddle:
      return false
    default:
      return true
  }
}

/** Whether token `index`, after a complete expression, continues it (so no `;` is inserted before it). */
function continues(tokens: Tokens, index: number): boolean {
  return tokenContinues(tokens.kind(index), tokens.text(index) ?? '')
}

/** Whether a token of this kind and text, after a complete expression, continues it. */
function tokenContinues(kind: Kind, text: string): boolean {
  switch (kind) {
    case Kind.Punctuator:
      return text !== '{' && text !== '!' && text !== '~'
    case Kind.Template:
    case Kind.TemplateHead:
      return true
    case Kind.Name:
      return text === 'in' || text === 'instanceof'
    default:
      return false
  }
}

function isLineTerminator(char: number): boolean {
  return char === 0x0a || char === 0x0d || char === 0x2028 || char === 0x2029
}

function isNameStart(char: number): boolean {
  return (char >= 0x61 && char <= 0x7a) || (char >= 0x41 && char <= 0x5a) || char === 0x5f || char === 0x24
}

function isNamePart(char: number): boolean {
  return isNameStart(char) || isDigit(char)
}

function isDigit(char: number): boolean {
  return char >= 0x30 && char <= 0x39
}

/** The end of the template part from `from` (after `` ` `` or a substitution's `}`): after `` ` `` or `${`. */
function templatePartEnd(code: string, from: number): number {
  for (let position = from; position < code.length; position++) {
    const char = code.charCodeAt(position)
    if (char === 0x5c /* \ */) position++
    else if (char === 0x60 /* ` */) return position + 1
    else if (char === 0x24 /* $ */ && code.charCodeAt(position + 1) === 0x7b /* { */) return position + 2
  }
  return giveUp()
}

/** The end of the numeric literal at `start`; gives up on one a name or digit follows directly. */
function numberEnd(code: string, start: number): number {
  let position = start
  const char = code.charCodeAt(position)
  const next = code.charCodeAt(position + 1) | 0x20
  if (char === 0x30 && (next === 0x78 /* x */ || next === 0x6f /* o */ || next === 0x62) /* b */) {
    position += 2
    while (isNamePart(code.charCodeAt(position))) position++
    return position
  }
  while (isDigit(code.charCodeAt(position)) || code.charCodeAt(position) === 0x5f) position++
  if (code.charCodeAt(position) === 0x2e /* . */) {
    position++
    while (isDigit(code.charCodeAt(position)) || code.charCodeAt(position) === 0x5f) position++
  }
  if ((code.charCodeAt(position) | 0x20) === 0x65 /* e */) {
    position++
    const sign = code.charCodeAt(position)
    if (sign === 0x2b || sign === 0x2d) position++
    if (!isDigit(code.charCodeAt(position))) giveUp()
    while (isDigit(code.charCodeAt(position)) || code.charCodeAt(position) === 0x5f) position++
  }
  if (code.charCodeAt(position) === 0x6e /* n */) position++
  const after = code.charCodeAt(position)
  if (isNamePart(after) || after === 0x5c || after > 0x7f) giveUp()
  return position
}

/**
 * The next line feed and carriage return at or after an offset that only grows, so that looking
 * for them costs one pass over the code in all, however many strings it has.
 */
class LineBreakFinder {
  readonly #code: string
  #lineFeed = -2
  #carriageReturn = -2

  constructor(code: string) {
    this.#code = code
  }

  /** Whether a line feed or carriage return stands in `[from, to)`; `from` never decreases between calls. */
  within(from: number, to: number): boolean {
    if (this.#lineFeed !== -1 && this.#lineFeed < from) this.#lineFeed = this.#code.indexOf('\n', from)
    if (this.#carriageReturn !== -1 && this.#carriageReturn < from) {
      this.#carriageReturn = this.#code.indexOf('\r', from)
    }
    return (
      (this.#lineFeed !== -1 && this.#lineFeed < to) ||
      (this.#carriageReturn !== -1 && this.#carriageReturn < to)
    )
  }
}

/** The end of the string literal at `start`; gives up on one that does not end on its line. */
function stringLiteralEnd(code: string, start: number, lineBreaks: LineBreakFinder): number {
  const quote = code[start]!
  // The closing quote is the first one not escaped: jump from backslash to backslash.
  let position = start + 1
  let closing = code.indexOf(quote, position)
  for (;;) {
    if (closing === -1) giveUp()
    const backslash = code.indexOf('\\', position)
    if (backslash === -1 || backslash > closing) break
    position = backslash + 2
    if (position > closing) closing = code.indexOf(quote, position)
  }
  // A line break ends a string (so the code does not parse) unless a backslash escapes it.
  if (lineBreaks.within(start, closing)) {
    for (let index = start + 1; index < closing; index++) {
      const char = code.charCodeAt(index)
      if (char === 0x5c /* \ */) {
        if (code.charCodeAt(index + 1) === 0x0d && code.charCodeAt(index + 2) === 0x0a) index++
        index++
      } else if (char === 0x0a || char === 0x0d) {
        giveUp()
      }
    }
  }
  return closing + 1
}

/** The end of the regular expression literal at `start` (its flags included). */
function regExpEnd(code: string, start: number): number {
  let inClass = false
  for (let position = start + 1; position < code.length; position++) {
    const char = code.charCodeAt(position)
    if (isLineTerminator(char)) giveUp()
    if (char === 0x5c /* \ */) {
      if (isLineTerminator(code.charCodeAt(position + 1))) giveUp()
      position++
    } else if (char === 0x5b /* [ */) {
      inClass = true
    } else if (char === 0x5d /* ] */) {
      inClass = false
    } else if (char === 0x2f /* / */ && !inClass) {
      let end = position + 1
      while (isNamePart(code.charCodeAt(end))) end++
      if (code.charCodeAt(end) === 0x5c || code.charCodeAt(end) > 0x7f) giveUp()
      return end
    }
  }
  return giveUp()
}

/** The punctuator at `start` (the longest that matches); gives up on characters JavaScript has none for. */
function punctuatorAt(code: string, start: number): string {
  const second = code.charCodeAt(start + 1)
  const third = code.charCodeAt(start + 2)
  // With `=` after it, an operator becomes its compound assignment.
  const assigns = second === 0x3d
  switch (code.charCodeAt(start)) {
    case 0x7b:
      return '{'
    case 0x7d:
      return '}'
    case 0x28:
      return '('
    case 0x29:
      return ')'
    case 0x5b:
      return '['
    case 0x5d:
      return ']'
    case 0x3b:
      return ';'
    case 0x2c:
      return ','
    case 0x3a:
      return ':'
    case 0x7e:
      return '~'
    case 0x2e /* . */:
      return second === 0x2e && third === 0x2e ? '...' : '.'
    case 0x3d /* = */:
      if (second === 0x3d) return third === 0x3d ? '===' : '=='
      return second === 0x3e ? '=>' : '='
    case 0x21 /* ! */:
      if (second === 0x3d) return third === 0x3d ? '!==' : '!='
      return '!'
    case 0x3c /* < */:
      if (second === 0x3c) return third === 0x3d ? '<<=' : '<<'
      return assigns ? '<=' : '<'
    case 0x3e /* > */:
      if (second === 0x3e) {
        if (third === 0x3e) return code.charCodeAt(start + 3) === 0x3d ? '>>>=' : '>>>'
        return third === 0x3d ? '>>=' : '>>'
      }
      return assigns ? '>=' : '>'
    case 0x2b /* + */:
      return second === 0x2b ? '++' : assigns ? '+=' : '+'
    case 0x2d /* - */:
      return second === 0x2d ? '--' : assigns ? '-=' : '-'
    case 0x2a /* * */:
      if (second === 0x2a) return third === 0x3d ? '**=' : '**'
      return assigns ? '*=' : '*'
    case 0x2f /* / */:
      return assigns ? '/=' : '/'
    case 0x25 /* % */:
      return assigns ? '%=' : '%'
    case 0x5e /* ^ */:
      return assigns ? '^=' : '^'
    case 0x26 /* & */:
      if (second === 0x26) return third === 0x3d ? '&&=' : '&&'
      return assigns ? '&=' : '&'
    case 0x7c /* | */:
      if (second === 0x7c) return third === 0x3d ? '||=' : '||'
      return assigns ? '|=' : '|'
    case 0x3f /* ? */:
      if (second === 0x3f) return third === 0x3d ? '??=' : '??'
      // `a?.5:b` is a conditional, not optional chaining.
      return second === 0x2e && !isDigit(third) ? '?.' : '?'
    default:
      // `#`, `@`, `\` and control characters: for the full parse.
      return giveUp()
  }
}
