import { styleText } from 'node:util'
import { tokenizer } from 'acorn'

type Style = Parameters<typeof styleText>[0]

const keywordStyle: Style = 'magenta'
const stringStyle: Style = 'green'
const numberStyle: Style = 'yellow'
const commentStyle: Style = 'gray'
const callStyle: Style = 'cyan'

/**
 * Colours JavaScript (and erasable TypeScript, whose extra words pass as plain names) for the
 * terminal with acorn's tokenizer. Code that does not tokenize is returned as it is.
 */
export function highlight(code: string, stream: NodeJS.WriteStream): string {
  const paint = (style: Style, text: string) => styleText(style, text, { stream })
  const pieces: { start: number; end: number; style: Style }[] = []
  try {
    const tokens = tokenizer(code, {
      ecmaVersion: 'latest',
      allowAwaitOutsideFunction: true,
      allowHashBang: true,
      onComment: (_block, _text, start, end) => pieces.push({ start, end, style: commentStyle }),
    })
    for (const token of tokens) {
      const label = token.type.label
      let style: Style | undefined
      if (token.type.keyword !== undefined || label === 'true' || label === 'false' || label === 'null')
        style = keywordStyle
      else if (label === 'string' || label === 'template' || label === 'regexp') style = stringStyle
      else if (label === 'num' || label === 'bigint') style = numberStyle
      else if (label === 'name' && /^\s*\(/.test(code.slice(token.end, token.end + 8))) style = callStyle
      if (style !== undefined) pieces.push({ start: token.start, end: token.end, style })
    }
  } catch {
    return code
  }
  pieces.sort((a, b) => a.start - b.start)
  let result = ''
  let cursor = 0
  for (const piece of pieces) {
    if (piece.start < cursor) continue
    result += code.slice(cursor, piece.start) + paint(piece.style, code.slice(piece.start, piece.end))
    cursor = piece.end
  }
  return result + code.slice(cursor)
}
