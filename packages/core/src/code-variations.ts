import { tokenizer } from 'acorn'

/** Text inserted at random places: brackets, operators and words that change how code reads. */
const insertions = [
  ';',
  '\n',
  '(',
  ')',
  '{',
  '}',
  '/',
  '`',
  "'",
  ',',
  '=',
  '=>',
  'let ',
  'var ',
  'return ',
  'async ',
  'await ',
  '?',
  ':',
  '<',
  'import',
  '.',
  '++',
  '[',
  ']',
  '${',
  '/*',
  '//',
]

/**
 * Deterministic variations of `code` for tests that compare two readings of it: a token dropped,
 * doubled or copied onto a line of its own elsewhere, the code cut short, or text inserted. Most
 * variations do not parse, which is the point: readers must agree on broken code too.
 */
export function codeVariations(code: string, count: number, seed: number): string[] {
  let state = seed
  const random = (below: number) => {
    state = (state * 1_103_515_245 + 12_345) & 0x7fffffff
    return state % below
  }
  const tokens: { start: number; end: number }[] = []
  try {
    for (const token of tokenizer(code, { ecmaVersion: 'latest', allowHashBang: true })) tokens.push(token)
  } catch {
    // Code acorn cannot tokenize is still cut and spliced below.
  }
  const result: string[] = []
  for (let index = 0; index < count; index++) {
    const kind = random(5)
    const token = tokens[random(Math.max(1, tokens.length))]
    if (token !== undefined && kind === 0) {
      result.push(code.slice(0, token.start) + code.slice(token.end))
    } else if (token !== undefined && kind === 1) {
      result.push(code.slice(0, token.end) + code.slice(token.start))
    } else if (token !== undefined && kind === 2) {
      const other = tokens[random(tokens.length)]!
      result.push(
        `${code.slice(0, token.start)}\n${code.slice(other.start, other.end)}\n${code.slice(token.start)}`,
      )
    } else if (kind === 3) {
      result.push(code.slice(0, random(code.length + 1)))
    } else {
      const at = random(code.length + 1)
      result.push(code.slice(0, at) + insertions[random(insertions.length)] + code.slice(at))
    }
  }
  return result
}
