import { createRequire } from 'node:module'
import { type Options, type Program, parse } from 'acorn'
import type { transformSync } from 'amaro'
import { CodeSyntaxError } from './errors.js'

interface Amaro {
  readonly transformSync: typeof transformSync
}

let amaro: Amaro | undefined

const require = createRequire(import.meta.url)

// Loaded on first use, not at import: amaro is a WebAssembly build of swc that takes about
// 100 ms to start, which programs that never prepare a code action should not pay.
function loadAmaro(): Amaro {
  amaro ??= require('amaro') as Amaro
  return amaro
}

/**
 * Drops the loaded amaro, so the next strip loads a fresh instance: after its WebAssembly stack
 * overflowed, its memory is in an unknown state, and every later strip failed.
 */
function discardAmaro(): void {
  amaro = undefined
  for (const path of Object.keys(require.cache)) {
    if (/[\\/]amaro[\\/]/.test(path)) delete require.cache[path]
  }
}

/**
 * Nesting above which code is not given to swc. Its parser recurses per level and overflows its
 * WebAssembly stack at about 780 nested parentheses (more for other brackets); see
 * {@link codeNesting}. Code nested deeper is read as JavaScript only.
 */
const MAX_STRIP_NESTING = 500

/**
 * The deepest bracket nesting of `code`, or its longest run of `.` and `(` within one statement
 * (member and call chains nest in a parser too). Counts brackets in strings and comments as well:
 * an upper bound, cheap enough to take before every strip.
 */
function codeNesting(code: string): number {
  let depth = 0
  let deepest = 0
  let chain = 0
  for (let index = 0; index < code.length; index++) {
    const char = code.charCodeAt(index)
    if (char === 0x28 || char === 0x5b || char === 0x7b) deepest = Math.max(deepest, ++depth)
    else if (char === 0x29 || char === 0x5d || char === 0x7d) depth--
    if (char === 0x2e || char === 0x28) deepest = Math.max(deepest, ++chain)
    else if (char === 0x3b || char === 0x0a || char === 0x2c || char === 0x3d) chain = 0
  }
  return deepest
}

/** The error object amaro throws: a plain object, not an `Error`. */
interface SwcError {
  readonly code: string
  readonly message: string
  /** 1-based; counts `\n`, `\r\n` and `\r` as line breaks. */
  readonly startLine: number
  /** 0-based display column: tabs count 4, wide characters 2, combining marks 0. */
  readonly startColumn: number
}

function isSwcError(value: unknown): value is SwcError {
  if (typeof value !== 'object' || value === null) return false
  const { code, message, startLine, startColumn } = value as Record<string, unknown>
  return (
    typeof code === 'string' &&
    typeof message === 'string' &&
    typeof startLine === 'number' &&
    typeof startColumn === 'number'
  )
}

/**
 * Removes TypeScript syntax from a code action, leaving JavaScript with every remaining character
 * at its original offset (types are replaced by spaces, line breaks are kept), so positions in the
 * result are positions in `code`. Plain JavaScript comes back unchanged.
 *
 * Only erasable syntax is supported (annotations, interfaces, type aliases, `as`, `satisfies`,
 * generics, `declare`, `import type`); syntax that needs code generation (`enum`, `namespace`,
 * constructor parameter properties, `import x = require()`, `<T>x` casts) is refused.
 *
 * @throws CodeSyntaxError for unsupported or invalid syntax, with its position and what to write instead.
 */
export function stripTypeScript(code: string): string {
  return stripTypeScriptParsed(code, undefined)
}

/**
 * {@link stripTypeScript}, given the result of parsing `code` itself as JavaScript when the caller
 * already has it (it decides which parser's error to report), so that it is not parsed twice.
 *
 * @internal Shared with `code-action.ts`.
 */
export function stripTypeScriptParsed(code: string, parsedAsJavaScript: ParseResult | undefined): string {
  if (codeNesting(code) > MAX_STRIP_NESTING) return javaScriptOnly(code, parsedAsJavaScript)
  try {
    return loadAmaro().transformSync(code, { mode: 'strip-only' }).code
  } catch (error) {
    // A RangeError from the glue, or WebAssembly's RuntimeError (memory access out of bounds).
    if (error instanceof RangeError || (error instanceof Error && error.name === 'RuntimeError')) {
      // swc's stack overflowed on something the nesting check does not count (a chain of
      // thousands of operators): load it afresh for the next strip, and read this code as JavaScript.
      discardAmaro()
      return javaScriptOnly(code, parsedAsJavaScript)
    }
    if (!isSwcError(error)) throw error
    const offset = swcOffset(code, error.startLine, error.startColumn)
    const position = positionAt(lineStarts(code), offset)
    if (error.code === 'UnsupportedSyntax') {
      throw new CodeSyntaxError(unsupportedSyntaxMessage(error.message), position)
    }
    // swc's TypeScript parser refuses some valid sloppy-mode JavaScript (`with`, legacy octal
    // literals); code that parses as JavaScript is JavaScript and passes through.
    const javascript = parsedAsJavaScript ?? tryParseScript(code)
    if (javascript.ok) return code
    // Neither parses. When acorn got at least as far as swc, the code before the error is plain
    // JavaScript and acorn's report is exact; when it stopped earlier, it stopped at TypeScript
    // syntax, and swc's report is the real one.
    if (javascript.offset >= offset) throw javascript.error()
    throw new CodeSyntaxError(invalidSyntaxMessage(error.message), position)
  }
}

function unsupportedSyntaxMessage(message: string): string {
  if (/\benum\b/.test(message)) {
    return 'TypeScript enums are not supported in code actions; use a const object, e.g. const Color = { Red: "red", Blue: "blue" } as const.'
  }
  if (/\bnamespace\b|`module` keyword/.test(message)) {
    return 'TypeScript namespaces are not supported in code actions; use a plain object or top-level declarations.'
  }
  if (/parameter propert/.test(message)) {
    return 'TypeScript parameter properties (constructor(private x: T)) are not supported in code actions; declare the field in the class body and assign it in the constructor.'
  }
  if (/import equals/.test(message)) {
    return 'import x = require("m") is not supported in code actions; use import x from "m".'
  }
  if (/export assignment/.test(message)) {
    return 'export is not supported in code actions; declare the value and use it.'
  }
  if (/angle-bracket/.test(message)) {
    return 'Type assertions written <T>value are not supported in code actions; write value as T.'
  }
  return `${trimPeriod(message.replace(/ in (type )?strip(-only)? mode/, ''))} in code actions; use only erasable TypeScript (type annotations, interfaces, type aliases, as, generics).`
}

function invalidSyntaxMessage(message: string): string {
  if (message.startsWith('Return statement is not allowed')) return topLevelReturnMessage
  return `${trimPeriod(message)}.`
}

const topLevelReturnMessage =
  'A top-level return is not allowed in a code action; end the code with the expression whose value you want, or call finalAnswer(value).'

function trimPeriod(message: string): string {
  return message.replace(/\.\s*$/, '')
}

/** Converts swc's line and display column into an offset in `code`. */
function swcOffset(code: string, line: number, displayColumn: number): number {
  let offset = 0
  for (let current = 1; current < line && offset < code.length; offset++) {
    const char = code.charCodeAt(offset)
    if (char === 0x0a) current++
    else if (char === 0x0d) {
      if (code.charCodeAt(offset + 1) === 0x0a) offset++
      current++
    }
  }
  for (let width = 0; width < displayColumn && offset < code.length;) {
    const point = code.codePointAt(offset)!
    if (point === 0x0a || point === 0x0d) break
    width += displayWidth(point)
    offset += point > 0xffff ? 2 : 1
  }
  return offset
}

// swc's display column adds, for each character, its width minus one to its length in UTF-16
// code units (a tab counts 4, a CJK character 2, an emoji 3, a combining mark 0). The width is
// an approximation of the Unicode width tables swc uses; exact for ASCII, which is what nearly
// all code before an error on the same line is.
const zeroWidth = /^[\p{Mn}\p{Me}\u200b-\u200f\u2060-\u2064\ufeff]$/u
const wide =
  /^[\p{Emoji_Presentation}\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]$/u

function displayWidth(point: number): number {
  if (point === 0x09) return 4
  if (point < 0x7f) return 1
  const char = String.fromCodePoint(point)
  const width = zeroWidth.test(char) ? 0 : wide.test(char) ? 2 : 1
  return char.length + width - 1
}

/**
 * acorn options for code actions: a sloppy script with top-level `await`, and `import` allowed
 * anywhere so that it can be rewritten (or refused where it is not at the top level). Exported so
 * that an executor parsing code actions itself reads them exactly as `prepareCodeAction` does.
 */
export const codeActionParseOptions: Readonly<Options> = Object.freeze({
  ecmaVersion: 'latest',
  sourceType: 'script',
  allowAwaitOutsideFunction: true,
  // Accepted everywhere by the parser, then refused by the caller where not at the top level:
  // acorn's script mode refuses import declarations outright.
  allowImportExportEverywhere: true,
  allowReturnOutsideFunction: false,
  allowHashBang: true,
  // Nothing reads node locations (offsets are enough), and building them takes about a fifth of
  // the parse. Syntax errors carry their line and column either way.
  locations: false,
})

/** @internal Shared with `code-action.ts`. */
export type ParseResult =
  | { readonly ok: true; readonly program: Program }
  | {
      readonly ok: false
      /** Where acorn stopped. */
      readonly offset: number
      /** The error to report, made on demand: code that is not JavaScript is usually TypeScript. */
      error(): CodeSyntaxError
    }

/** `code` when it parses as JavaScript (it is read as such, without a strip); its syntax error otherwise. */
function javaScriptOnly(code: string, parsedAsJavaScript: ParseResult | undefined): string {
  const javascript = parsedAsJavaScript ?? tryParseScript(code)
  if (javascript.ok) return code
  throw javascript.error()
}

/**
 * Parses JavaScript the way code actions are parsed, reporting a syntax error as a value.
 *
 * @internal Shared with `code-action.ts`.
 */
export function tryParseScript(code: string): ParseResult {
  try {
    return { ok: true, program: parse(code, codeActionParseOptions) }
  } catch (error) {
    if (error instanceof SyntaxError && 'pos' in error && 'loc' in error) {
      const { message, pos, loc } = error as SyntaxError & {
        pos: number
        loc: { line: number; column: number }
      }
      return {
        ok: false,
        offset: pos,
        error: () => new CodeSyntaxError(acornMessage(message), { line: loc.line, column: loc.column + 1 }),
      }
    }
    if (error instanceof RangeError) {
      return {
        ok: false,
        offset: 0,
        error: () =>
          new CodeSyntaxError('The code is nested too deeply to parse; split it into smaller parts.'),
      }
    }
    throw error
  }
}

/**
 * Parses stripped code action source as a sloppy-mode script with top-level `await`.
 *
 * @internal Shared with `code-action.ts`.
 * @throws CodeSyntaxError with acorn's message (without its `(line:column)` suffix) and position.
 */
export function parseScript(code: string): Program {
  const result = tryParseScript(code)
  if (!result.ok) throw result.error()
  return result.program
}

function acornMessage(message: string): string {
  const text = message.replace(/\s*\(\d+:\d+\)$/, '')
  if (text === "'return' outside of function") return topLevelReturnMessage
  if (text.startsWith('Using declaration cannot appear in the top level')) {
    return 'using declarations are not supported at the top level of a code action; put them inside a block.'
  }
  return text
}

/**
 * Offsets where each line of `text` starts, with JavaScript's line terminators (the ones V8 and
 * acorn count lines by): `\n`, `\r\n`, `\r`, U+2028 and U+2029. With {@link positionAt}, how
 * executors turn an offset in code into the line and column they report.
 *
 * @example
 * positionAt(lineStarts('a\nbc'), 3) // { line: 2, column: 2 }
 */
export function lineStarts(text: string): number[] {
  const starts = [0]
  const length = text.length
  for (let index = 0; index < length; index++) {
    const char = text.charCodeAt(index)
    // Every line terminator is 0x0a, 0x0d or 0x2028/0x2029; nothing else passes this test.
    if (char > 0x0d && (char & 0xfffe) !== 0x2028) continue
    if (char === 0x0a || char === 0x2028 || char === 0x2029) starts.push(index + 1)
    else if (char === 0x0d) {
      if (text.charCodeAt(index + 1) === 0x0a) index++
      starts.push(index + 1)
    }
  }
  return starts
}

/** The 1-based line and column of `offset`, given the {@link lineStarts} of the text. */
export function positionAt(starts: readonly number[], offset: number): { line: number; column: number } {
  let low = 0
  let high = starts.length - 1
  while (low < high) {
    const middle = (low + high + 1) >> 1
    if (starts[middle]! <= offset) low = middle
    else high = middle - 1
  }
  return { line: low + 1, column: offset - starts[low]! + 1 }
}
