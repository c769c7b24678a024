import type { Data } from './data.js'

/** A rendering that fits this many columns stays on one line. */
const WIDTH = 80
const INDENT = '  '
/** Bytes of a Uint8Array shown before the rest is counted instead. */
const MAX_BYTES_SHOWN = 32

const identifier = /^[A-Za-z_$][\w$]*$/

/**
 * Renders data the way a reader (human or model) wants to see it: close to a JavaScript literal,
 * so every type stays distinguishable (`"1"` vs `1` vs `1n`, `undefined` vs `null`, a `Map` vs an
 * object), and deterministic, so the same value always renders the same (snapshots, transcripts).
 *
 * Strings are double-quoted with JSON escapes; object keys are bare when they are identifiers;
 * `Date`s render as `Date(<ISO>)`, byte arrays as `Uint8Array(n) [..]` (the first 32 bytes),
 * `Map`s as `Map(n) { key => value }`. Anything that fits in 80 columns stays on one line; larger
 * structures break one entry per line, with runs of short primitives packed to the width.
 *
 * @example
 * formatData({ id: 7, tags: new Set(['a']), at: new Date(0), big: 10n })
 * // '{ id: 7, tags: Set(1) { "a" }, at: Date(1970-01-01T00:00:00.000Z), big: 10n }'
 */
export function formatData(value: Data): string {
  return render(value, '', new Set())
}

function render(value: Data, indent: string, ancestors: Set<object>): string {
  const atom = renderAtom(value)
  if (atom !== undefined) return atom
  const object = value as object
  if (ancestors.has(object)) return '[Circular]'
  ancestors.add(object)
  try {
    const { open, close, entries, packable } = describeContainer(value, indent, ancestors)
    if (entries.length === 0)
      return open.endsWith(' ') ? `${open.trimEnd()}${close.trimStart()}` : open + close
    const oneLine = `${open}${entries.join(', ')}${close}`
    if (oneLine.length + indent.length <= WIDTH && !oneLine.includes('\n')) return oneLine
    const inner = indent + INDENT
    const lines = packable ? pack(entries, WIDTH - inner.length) : entries.map((entry) => `${entry},`)
    return `${open.trimEnd()}\n${lines.map((line) => inner + line).join('\n')}\n${indent}${close.trimStart()}`
  } finally {
    ancestors.delete(object)
  }
}

/** Renders everything that is not a container; `undefined` for containers. */
function renderAtom(value: Data): string | undefined {
  switch (typeof value) {
    case 'undefined':
      return 'undefined'
    case 'boolean':
      return String(value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return `${value}n`
    case 'string':
      return JSON.stringify(value)
  }
  if (value === null) return 'null'
  if (value instanceof Date) {
    const time = value.getTime()
    return Number.isNaN(time) ? 'Date(invalid)' : `Date(${value.toISOString()})`
  }
  return undefined
}

interface Container {
  /** Including the space before the first entry, when the one-line form has one. */
  readonly open: string
  readonly close: string
  readonly entries: readonly string[]
  /** Entries are short primitives, which read better packed into lines than one per line. */
  readonly packable: boolean
}

function describeContainer(value: Data, indent: string, ancestors: Set<object>): Container {
  const inner = indent + INDENT
  const child = (item: Data) => render(item, inner, ancestors)
  if (value instanceof Uint8Array) {
    const shown = Array.from(value.subarray(0, MAX_BYTES_SHOWN), String)
    if (value.length > MAX_BYTES_SHOWN) shown.push(`… ${value.length - MAX_BYTES_SHOWN} more`)
    return { open: `Uint8Array(${value.length}) [`, close: ']', entries: shown, packable: true }
  }
  if (Array.isArray(value)) {
    const items = value as readonly Data[]
    return {
      open: '[',
      close: ']',
      entries: items.map(child),
      packable: items.every((item) => isShortPrimitive(item)),
    }
  }
  if (value instanceof Map) {
    const entries = Array.from(value as ReadonlyMap<Data, Data>, ([key, entry]) => {
      return `${child(key)} => ${child(entry)}`
    })
    return { open: `Map(${value.size}) { `, close: ' }', entries, packable: false }
  }
  if (value instanceof Set) {
    const items = Array.from(value as ReadonlySet<Data>)
    return {
      open: `Set(${value.size}) { `,
      close: ' }',
      entries: items.map(child),
      packable: items.every((item) => isShortPrimitive(item)),
    }
  }
  const record = value as { readonly [key: string]: Data }
  const entries = Object.keys(record).map((key) => {
    const name = identifier.test(key) ? key : JSON.stringify(key)
    return `${name}: ${child(record[key])}`
  })
  return { open: '{ ', close: ' }', entries, packable: false }
}

function isShortPrimitive(value: Data): boolean {
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'boolean':
    case 'undefined':
      return true
    case 'string':
      return value.length <= 16
  }
  return value === null
}

/** Packs entries into lines of at most `width` columns (an entry longer than that gets its own line). */
function pack(entries: readonly string[], width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const entry of entries) {
    const piece = `${entry},`
    if (line !== '' && line.length + 1 + piece.length > width) {
      lines.push(line)
      line = ''
    }
    line = line === '' ? piece : `${line} ${piece}`
  }
  if (line !== '') lines.push(line)
  return lines
}
