/** The language a code action was labeled with. Executors run both; the label is informational. */
export type CodeLanguage = 'js' | 'ts'

/** A code action found in a model's reply. */
export interface ExtractedCode {
  readonly code: string
  readonly language: CodeLanguage
}

/**
 * The marker the prompt teaches the model to write right after its code block. Generation stops
 * there (it is a stop sequence), and anything a model writes past it is ignored, so a model that
 * does not honour stop sequences cannot smuggle a second action or an invented observation in.
 */
export const END_CODE = '<end_code>'

/**
 * Stop sequences for an action step. `<end_code>` ends a reply that follows the taught format;
 * `\nObservation:` ends one that forgot the marker and started inventing the sandbox's answer.
 * The closing fence itself cannot be a stop sequence: it is the same string as the opening one.
 */
export const CODE_STOP_SEQUENCES: readonly string[] = Object.freeze([END_CODE, '\nObservation:'])

const languageByLabel: Readonly<Record<string, CodeLanguage>> = {
  js: 'js',
  javascript: 'js',
  mjs: 'js',
  ts: 'ts',
  typescript: 'ts',
  mts: 'ts',
}

interface FencedBlock {
  readonly code: string
  /** Lower-cased first word of the info string; `''` for an unlabeled fence. */
  readonly label: string
}

/**
 * Finds the code action in a model's reply.
 *
 * The prompt teaches a fenced block labeled `ts` or `js` followed by `<end_code>`; this accepts
 * that and the usual deviations, in order of preference:
 *
 * 1. Fences labeled `js`, `javascript`, `ts` or `typescript` (any case). Blocks in other languages
 *    (`json`, `python`, `jsx`, ...) are never run: they are data or a mistake, not an action.
 * 2. `<code>…</code>` sections, as some models are trained to write. A fence inside one is unwrapped.
 * 3. Unlabeled fences, only when nothing above exists, since they are as often sample output as code.
 *
 * When several blocks of the chosen kind exist, they are joined in order with a blank line: models
 * sometimes split one action into commented pieces, and running them together is what they meant
 * (the sandbox keeps state between steps anyway, so the split carries no meaning of its own). The
 * language is `ts` when any joined block is labeled TypeScript, else `js`.
 *
 * Text after the first `<end_code>` is ignored, and a block whose closing fence (or `</code>`) is
 * missing runs to the end of the reply, as happens when a stop sequence cut the model off.
 *
 * @returns `undefined` when the reply holds no non-empty code block.
 *
 * @example
 * extractCode('Thought: add.\n```ts\nconst x: number = 1 + 1\nfinalAnswer(x)\n```\n<end_code>')
 * // { code: 'const x: number = 1 + 1\nfinalAnswer(x)', language: 'ts' }
 */
export function extractCode(text: string): ExtractedCode | undefined {
  const end = text.indexOf(END_CODE)
  const reply = end === -1 ? text : text.slice(0, end)

  const fenced = findFencedBlocks(reply)
  const labeled = fenced.filter((block) => Object.hasOwn(languageByLabel, block.label))
  if (labeled.length > 0) {
    return join(labeled.map((block) => ({ code: block.code, language: languageByLabel[block.label]! })))
  }

  const tagged = findCodeTags(reply)
  if (tagged.length > 0) return join(tagged)

  const unlabeled = fenced.filter((block) => block.label === '')
  return join(unlabeled.map((block) => ({ code: block.code, language: 'js' })))
}

function join(blocks: readonly ExtractedCode[]): ExtractedCode | undefined {
  const nonEmpty = blocks.filter((block) => block.code.trim() !== '')
  if (nonEmpty.length === 0) return undefined
  return {
    code: nonEmpty.map((block) => block.code).join('\n\n'),
    language: nonEmpty.some((block) => block.language === 'ts') ? 'ts' : 'js',
  }
}

const openingFence = /^([ \t]*)(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/

/**
 * Fenced blocks in the CommonMark sense, scanned line by line: a fence opens at the start of a
 * line and closes with a line of at least as many of the same fence characters. Indentation of
 * the opening fence is removed from the block's lines, so a fence nested in a list item still
 * yields code that starts at column 1.
 */
function findFencedBlocks(text: string): FencedBlock[] {
  const lines = text.split(/\r?\n/)
  const blocks: FencedBlock[] = []
  let index = 0
  while (index < lines.length) {
    const opening = openingFence.exec(lines[index]!)
    index++
    if (opening === null) continue
    const indent = opening[1]!.length
    const fence = opening[2]!
    const label = opening[3]!.toLowerCase()
    const closing = new RegExp(`^[ \\t]*${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`)
    const body: string[] = []
    while (index < lines.length && !closing.test(lines[index]!)) {
      body.push(removeIndent(lines[index]!, indent))
      index++
    }
    index++ // the closing fence, or past the end when it is missing
    blocks.push({ code: trimBlankLines(body.join('\n')), label })
  }
  return blocks
}

function removeIndent(line: string, width: number): string {
  let cut = 0
  while (cut < width && (line[cut] === ' ' || line[cut] === '\t')) cut++
  return line.slice(cut)
}

function findCodeTags(text: string): ExtractedCode[] {
  const blocks: ExtractedCode[] = []
  for (const match of text.matchAll(/<code>([\s\S]*?)(?:<\/code>|$)/g)) {
    const inner = match[1]!
    const fenced = findFencedBlocks(inner)
    if (fenced.length > 0) {
      for (const block of fenced) {
        blocks.push({ code: block.code, language: languageByLabel[block.label] ?? 'js' })
      }
    } else {
      blocks.push({ code: trimBlankLines(inner), language: 'js' })
    }
  }
  return blocks
}

/** Drops blank lines around the code, and trailing spaces; keeps the first line's indentation. */
function trimBlankLines(code: string): string {
  return code.replace(/^(?:[ \t]*\r?\n)+/, '').trimEnd()
}

/**
 * Cuts `text` before the first of `stop`, as a model honouring stop sequences would have.
 * Used on replies from models that ignore them, so memory holds what the model should have sent.
 */
export function cutAtStopSequence(text: string, stop: readonly string[]): string {
  let end = text.length
  for (const sequence of stop) {
    const at = sequence === '' ? -1 : text.indexOf(sequence)
    if (at !== -1 && at < end) end = at
  }
  return text.slice(0, end)
}
