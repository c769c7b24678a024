import type { JSONSchema, SchemaIssue } from './schema.js'
import { childPath } from './value-path.js'

/** Deepest value nesting the validator follows before giving up with an issue. */
const MAX_DEPTH = 200
/** Issues kept per validation: past this the caller learns nothing new, only reads longer errors. */
const MAX_ISSUES = 100
/** Work budget (schema nodes visited), so nested unions over a large value cannot stall the host. */
const MAX_STEPS = 1_000_000

/**
 * `type` and `literal` issues at the value itself mean "this union branch is the wrong shape";
 * `literal` issues deeper down mark discriminators. Both steer which branch a failed union reports.
 */
type IssueKind = 'type' | 'literal' | 'other'

interface Issue {
  readonly path: string
  readonly message: string
  readonly kind: IssueKind
  /** Value nesting level, to compare how far branches got. */
  readonly depth: number
  /** For `literal` issues: the accepted literals and the received value, to merge across branches. */
  readonly literals?: { readonly expected: readonly string[]; readonly received: string }
}

class Collector {
  readonly issues: Issue[] = []
  dropped = false

  get full(): boolean {
    return this.issues.length >= MAX_ISSUES
  }

  add(
    path: string,
    depth: number,
    message: string,
    kind: IssueKind = 'other',
    literals?: Issue['literals'],
  ): void {
    if (this.full) {
      this.dropped = true
      return
    }
    if (this.issues.some((issue) => issue.path === path && issue.message === message)) return
    this.issues.push(
      literals === undefined ? { path, message, kind, depth } : { path, message, kind, depth, literals },
    )
  }

  addAll(issues: readonly Issue[]): void {
    for (const issue of issues) this.add(issue.path, issue.depth, issue.message, issue.kind, issue.literals)
  }
}

/** Ends validation early (too deep, too much work) with one issue that says why. */
class Stop {
  constructor(readonly issue: SchemaIssue) {}
}

interface Context {
  readonly root: unknown
  steps: number
}

/** `$ref` targets entered since the value last descended: seeing one again means a schema loop. */
type RefChain = { readonly node: object; readonly next: RefChain } | undefined

type SchemaNode = { readonly [keyword: string]: unknown }

/**
 * Validates `value` against a JSON Schema (the draft 2020-12 / draft-07 keywords tools use) and
 * returns every issue found, with paths starting at `rootName` (`args.items[2].id`). An empty
 * array means the value is valid.
 *
 * Never throws: problems in the schema itself (a bad `pattern`, an unresolvable `$ref`) are
 * reported as issues prefixed `schema error:`, and values nested deeper than 200 levels or too
 * large to check are reported instead of followed. Annotations (`format`, `default`, `title`,
 * `description`) and unknown keywords do not affect validity.
 */
export function validateJsonSchema(schema: JSONSchema, value: unknown, rootName: string): SchemaIssue[] {
  const collector = new Collector()
  const context: Context = { root: schema, steps: 0 }
  let extra: SchemaIssue | undefined
  try {
    check(schema, value, rootName, 0, undefined, context, collector)
  } catch (error) {
    extra =
      error instanceof Stop
        ? error.issue
        : { path: rootName, message: `could not finish validation: ${errorMessage(error)}` }
  }
  const issues: SchemaIssue[] = collector.issues.map(({ path, message }) => ({ path, message }))
  if (collector.dropped) {
    issues.push({ path: rootName, message: `more issues not shown (stopped after ${MAX_ISSUES})` })
  }
  if (extra !== undefined) issues.push(extra)
  return issues
}

/**
 * Resolves a local `$ref` (`#`, `#/$defs/name`, `#/definitions/name`, any `#/` JSON pointer)
 * against the root schema; `undefined` when it points nowhere or is not local.
 */
export function resolveSchemaRef(root: unknown, ref: string): unknown {
  if (ref === '#') return root
  if (!ref.startsWith('#/')) return undefined
  let node: unknown = root
  for (const raw of ref.slice(2).split('/')) {
    let segment: string
    try {
      segment = decodeURIComponent(raw)
    } catch {
      return undefined
    }
    segment = segment.replaceAll('~1', '/').replaceAll('~0', '~')
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, segment)) return undefined
    node = (node as Record<string, unknown>)[segment]
  }
  return typeof node === 'boolean' || isRecord(node) ? node : undefined
}

function check(
  schema: unknown,
  value: unknown,
  path: string,
  depth: number,
  refs: RefChain,
  context: Context,
  out: Collector,
): void {
  if (++context.steps > MAX_STEPS) {
    throw new Stop({ path, message: 'value is too large or complex to validate' })
  }
  if (depth > MAX_DEPTH) {
    throw new Stop({ path, message: `value is nested more than ${MAX_DEPTH} levels deep` })
  }
  if (schema === false) {
    out.add(path, depth, 'no value is allowed here', 'type')
    return
  }
  // `true` and malformed nodes accept everything rather than break validation.
  if (!isRecord(schema)) return
  const node = schema
  if (node.nullable === true && value === null) return

  if (typeof node.$ref === 'string') checkRef(node.$ref, value, path, depth, refs, context, out)

  if (node.type !== undefined && !checkType(node.type, value, path, depth, out)) return
  if (!checkLiterals(node, value, path, depth, out)) return

  if (typeof value === 'number') checkNumber(node, value, path, depth, out)
  else if (typeof value === 'string') checkString(node, value, path, depth, out)
  else if (Array.isArray(value)) checkArray(node, value, path, depth, context, out)
  else if (isPlainObject(value)) checkObject(node, value, path, depth, context, out)

  checkCombinators(node, value, path, depth, refs, context, out)
}

function checkRef(
  ref: string,
  value: unknown,
  path: string,
  depth: number,
  refs: RefChain,
  context: Context,
  out: Collector,
): void {
  const target = resolveSchemaRef(context.root, ref)
  if (target === undefined) {
    out.add(
      path,
      depth,
      ref.startsWith('#')
        ? `schema error: cannot resolve $ref ${JSON.stringify(ref)}`
        : `schema error: unsupported $ref ${JSON.stringify(ref)} (only local "#/..." references are supported)`,
    )
    return
  }
  if (typeof target !== 'object' || target === null) {
    check(target, value, path, depth, refs, context, out)
    return
  }
  for (let link = refs; link !== undefined; link = link.next) {
    if (link.node === target) {
      out.add(path, depth, `schema error: circular $ref ${JSON.stringify(ref)} never reaches a value`)
      return
    }
  }
  check(target, value, path, depth, { node: target, next: refs }, context, out)
}

function checkType(type: unknown, value: unknown, path: string, depth: number, out: Collector): boolean {
  const types = (Array.isArray(type) ? type : [type]).filter((entry) => typeof entry === 'string')
  if (types.length === 0 || types.some((entry) => matchesType(entry, value))) return true
  const received =
    types.includes('integer') && typeof value === 'number' && Number.isFinite(value)
      ? String(value)
      : typeName(value)
  out.add(path, depth, `expected ${types.join(' | ')}, received ${received}`, 'type')
  return false
}

function matchesType(type: string, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string'
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'integer':
      return Number.isInteger(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'null':
      return value === null
    case 'array':
      return Array.isArray(value)
    case 'object':
      return isPlainObject(value)
    default:
      // An unknown type name is a schema quirk, not the caller's mistake.
      return true
  }
}

function checkLiterals(
  node: SchemaNode,
  value: unknown,
  path: string,
  depth: number,
  out: Collector,
): boolean {
  const received = preview(value)
  if ('const' in node && !jsonEqual(node.const, value)) {
    const expected = literal(node.const)
    out.add(path, depth, `expected ${expected}, received ${received}`, 'literal', {
      expected: [expected],
      received,
    })
    return false
  }
  if (Array.isArray(node.enum) && !node.enum.some((option) => jsonEqual(option, value))) {
    const expected = node.enum.map(literal)
    const message =
      expected.length === 0
        ? 'no value is allowed here (empty enum)'
        : expected.length === 1
          ? `expected ${expected[0]}, received ${received}`
          : `expected one of ${joinLimited(expected)}, received ${received}`
    out.add(path, depth, message, 'literal', { expected, received })
    return false
  }
  return true
}

function checkNumber(node: SchemaNode, value: number, path: string, depth: number, out: Collector): void {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf } = node
  if (typeof minimum === 'number') {
    // Draft-04 style: `exclusiveMinimum: true` turns `minimum` exclusive.
    if (exclusiveMinimum === true ? !(value > minimum) : !(value >= minimum)) {
      out.add(path, depth, `must be ${exclusiveMinimum === true ? '>' : '>='} ${minimum}, received ${value}`)
    }
  }
  if (typeof maximum === 'number') {
    if (exclusiveMaximum === true ? !(value < maximum) : !(value <= maximum)) {
      out.add(path, depth, `must be ${exclusiveMaximum === true ? '<' : '<='} ${maximum}, received ${value}`)
    }
  }
  if (typeof exclusiveMinimum === 'number' && !(value > exclusiveMinimum)) {
    out.add(path, depth, `must be > ${exclusiveMinimum}, received ${value}`)
  }
  if (typeof exclusiveMaximum === 'number' && !(value < exclusiveMaximum)) {
    out.add(path, depth, `must be < ${exclusiveMaximum}, received ${value}`)
  }
  if (typeof multipleOf === 'number' && multipleOf > 0) {
    const quotient = value / multipleOf
    // Tolerance, so 0.3 counts as a multiple of 0.1 despite binary floating point.
    if (!Number.isFinite(quotient) || Math.abs(quotient - Math.round(quotient)) > 1e-9) {
      out.add(path, depth, `must be a multiple of ${multipleOf}, received ${value}`)
    }
  }
}

function checkString(node: SchemaNode, value: string, path: string, depth: number, out: Collector): void {
  const { minLength, maxLength, pattern } = node
  if (typeof minLength === 'number' || typeof maxLength === 'number') {
    // JSON Schema counts code points, not UTF-16 units.
    let length = 0
    for (const _ of value) length++
    if (typeof minLength === 'number' && length < minLength) {
      out.add(path, depth, `must be at least ${plural(minLength, 'character')}, received ${length}`)
    }
    if (typeof maxLength === 'number' && length > maxLength) {
      out.add(path, depth, `must be at most ${plural(maxLength, 'character')}, received ${length}`)
    }
  }
  if (typeof pattern === 'string') {
    const regex = compilePattern(node, pattern)
    if (typeof regex === 'string') {
      out.add(path, depth, regex)
    } else if (!regex.test(value)) {
      const expected =
        typeof node.format === 'string' ? `be a valid ${node.format}` : `match pattern /${pattern}/`
      out.add(path, depth, `must ${expected}, received ${preview(value)}`)
    }
  }
}

function checkArray(
  node: SchemaNode,
  value: readonly unknown[],
  path: string,
  depth: number,
  context: Context,
  out: Collector,
): void {
  const { minItems, maxItems } = node
  if (typeof minItems === 'number' && value.length < minItems) {
    out.add(path, depth, `must have at least ${plural(minItems, 'item')}, received ${value.length}`)
  }
  if (typeof maxItems === 'number' && value.length > maxItems) {
    out.add(path, depth, `must have at most ${plural(maxItems, 'item')}, received ${value.length}`)
  }

  // 2020-12 tuples are `prefixItems` + `items`; draft-07 tuples are `items: [...]` + `additionalItems`.
  const prefix = Array.isArray(node.prefixItems)
    ? (node.prefixItems as unknown[])
    : Array.isArray(node.items)
      ? (node.items as unknown[])
      : []
  const rest = Array.isArray(node.prefixItems)
    ? node.items
    : Array.isArray(node.items)
      ? node.additionalItems
      : node.items
  for (let index = 0; index < value.length && !out.dropped; index++) {
    const itemSchema = index < prefix.length ? prefix[index] : rest
    if (itemSchema === undefined) break
    if (itemSchema === false) {
      out.add(path, depth, `must have at most ${plural(prefix.length, 'item')}, received ${value.length}`)
      break
    }
    check(itemSchema, value[index], `${path}[${index}]`, depth + 1, undefined, context, out)
  }

  if ('contains' in node && node.contains !== undefined) {
    let matches = 0
    for (let index = 0; index < value.length; index++) {
      const scratch = new Collector()
      check(node.contains, value[index], `${path}[${index}]`, depth + 1, undefined, context, scratch)
      if (scratch.issues.length === 0) matches++
    }
    const min = typeof node.minContains === 'number' ? node.minContains : 1
    if (matches < min) {
      out.add(
        path,
        depth,
        min === 1
          ? 'must contain at least one item matching "contains"'
          : `must contain at least ${plural(min, 'item')} matching "contains", received ${matches}`,
      )
    }
    if (typeof node.maxContains === 'number' && matches > node.maxContains) {
      out.add(
        path,
        depth,
        `must contain at most ${plural(node.maxContains, 'item')} matching "contains", received ${matches}`,
      )
    }
  }

  if (node.uniqueItems === true) {
    const seen = new Map<string, number>()
    for (let index = 0; index < value.length; index++) {
      const key = canonicalKey(value[index], `${path}[${index}]`, depth + 1)
      const first = seen.get(key)
      if (first === undefined) seen.set(key, index)
      else out.add(`${path}[${index}]`, depth + 1, `duplicate item (same as [${first}])`)
    }
  }
}

function checkObject(
  node: SchemaNode,
  value: Record<string, unknown>,
  path: string,
  depth: number,
  context: Context,
  out: Collector,
): void {
  // A property set to `undefined` counts as absent, as it would after JSON serialization.
  const keys = Object.keys(value).filter((key) => value[key] !== undefined)
  const { minProperties, maxProperties } = node
  if (typeof minProperties === 'number' && keys.length < minProperties) {
    out.add(path, depth, `must have at least ${plural(minProperties, 'property')}, received ${keys.length}`)
  }
  if (typeof maxProperties === 'number' && keys.length > maxProperties) {
    out.add(path, depth, `must have at most ${plural(maxProperties, 'property')}, received ${keys.length}`)
  }

  const properties = isRecord(node.properties) ? node.properties : {}
  const required = new Set(
    Array.isArray(node.required) ? node.required.filter((key) => typeof key === 'string') : [],
  )
  const present = (key: string) => Object.hasOwn(value, key) && value[key] !== undefined

  // Schema order, so issues read in the order the model saw the declaration.
  for (const key of Object.keys(properties)) {
    if (out.dropped) return
    if (present(key)) {
      check(properties[key], value[key], childPath(path, key), depth + 1, undefined, context, out)
    } else if (required.has(key)) {
      out.add(childPath(path, key), depth + 1, 'missing required property')
    }
  }
  for (const key of required) {
    if (!Object.hasOwn(properties, key) && !present(key)) {
      out.add(childPath(path, key), depth + 1, 'missing required property')
    }
  }

  const patternProperties = isRecord(node.patternProperties) ? node.patternProperties : {}
  const patterns = Object.keys(patternProperties)
  const additional = node.additionalProperties
  for (const key of keys) {
    if (out.dropped) return
    const keyPath = childPath(path, key)
    if (node.propertyNames !== undefined) {
      const scratch = new Collector()
      check(node.propertyNames, key, keyPath, depth + 1, undefined, context, scratch)
      for (const issue of scratch.issues)
        out.add(keyPath, depth + 1, `invalid property name: ${issue.message}`)
    }
    let matched = Object.hasOwn(properties, key)
    for (const source of patterns) {
      const regex = compilePattern(patternProperties, source)
      if (typeof regex === 'string') {
        out.add(keyPath, depth + 1, regex)
      } else if (regex.test(key)) {
        matched = true
        check(patternProperties[source], value[key], keyPath, depth + 1, undefined, context, out)
      }
    }
    if (matched || additional === undefined || additional === true) continue
    if (additional === false) {
      const allowed = [...Object.keys(properties), ...patterns.map((source) => `/${source}/`)]
      out.add(
        keyPath,
        depth + 1,
        allowed.length === 0
          ? 'unexpected property (no properties allowed)'
          : `unexpected property (allowed: ${allowed.join(', ')})`,
      )
    } else {
      check(additional, value[key], keyPath, depth + 1, undefined, context, out)
    }
  }
}

function checkCombinators(
  node: SchemaNode,
  value: unknown,
  path: string,
  depth: number,
  refs: RefChain,
  context: Context,
  out: Collector,
): void {
  if (Array.isArray(node.allOf)) {
    for (const branch of node.allOf) check(branch, value, path, depth, refs, context, out)
  }
  if (Array.isArray(node.anyOf) && node.anyOf.length > 0) {
    const results = node.anyOf.map((branch) => run(branch, value, path, depth, refs, context))
    if (!results.some((issues) => issues.length === 0)) {
      reportUnion(node.anyOf, results, value, path, depth, context, out)
    }
  }
  if (Array.isArray(node.oneOf) && node.oneOf.length > 0) {
    const results = node.oneOf.map((branch) => run(branch, value, path, depth, refs, context))
    const matching = results.flatMap((issues, index) => (issues.length === 0 ? [index] : []))
    if (matching.length === 0) {
      reportUnion(node.oneOf, results, value, path, depth, context, out)
    } else if (matching.length > 1) {
      out.add(
        path,
        depth,
        `matches ${matching.length} oneOf alternatives (${matching.join(', ')}), expected exactly one`,
      )
    }
  }
  if ('not' in node && node.not !== undefined) {
    if (node.not === true || (isRecord(node.not) && Object.keys(node.not).length === 0)) {
      // `not: {}` is how zod says `never`.
      out.add(path, depth, 'no value is allowed here', 'type')
    } else if (run(node.not, value, path, depth, refs, context).length === 0) {
      out.add(path, depth, 'must not match the schema in "not"')
    }
  }
  if ('if' in node && node.if !== undefined) {
    const branch = run(node.if, value, path, depth, refs, context).length === 0 ? node.then : node.else
    if (branch !== undefined) check(branch, value, path, depth, refs, context, out)
  }
}

function run(
  schema: unknown,
  value: unknown,
  path: string,
  depth: number,
  refs: RefChain,
  context: Context,
): Issue[] {
  const scratch = new Collector()
  check(schema, value, path, depth, refs, context, scratch)
  return scratch.issues
}

/**
 * Reports a union no branch matched. Branches whose type or literal already fails at this value
 * are the wrong shape; when every branch is, one summary says what was expected. When every
 * remaining branch rejects the same discriminator, one merged issue lists all its accepted values.
 * Otherwise the closest branch speaks: the one whose first wrong discriminator (const or enum) is
 * deepest, then the one with the fewest issues.
 */
function reportUnion(
  branches: readonly unknown[],
  results: readonly Issue[][],
  value: unknown,
  path: string,
  depth: number,
  context: Context,
  out: Collector,
): void {
  let best: Issue[] | undefined
  let bestLiteralDepth = -1
  const discriminators: (Issue | undefined)[] = []
  for (const issues of results) {
    if (issues.some((issue) => issue.path === path && issue.kind !== 'other')) continue
    let literalDepth = Infinity
    let discriminator: Issue | undefined
    for (const issue of issues) {
      if (issue.kind === 'literal' && issue.depth < literalDepth) {
        literalDepth = issue.depth
        discriminator = issue
      }
    }
    discriminators.push(discriminator)
    if (
      best === undefined ||
      literalDepth > bestLiteralDepth ||
      (literalDepth === bestLiteralDepth && issues.length < best.length)
    ) {
      best = issues
      bestLiteralDepth = literalDepth
    }
  }
  const [first] = discriminators
  if (
    discriminators.length > 1 &&
    first?.literals !== undefined &&
    discriminators.every((issue) => issue?.path === first.path && issue.literals !== undefined)
  ) {
    const expected = [...new Set(discriminators.flatMap((issue) => issue?.literals?.expected ?? []))]
    const { received } = first.literals
    out.add(first.path, first.depth, `expected ${joinLimited(expected)}, received ${received}`, 'literal', {
      expected,
      received,
    })
    return
  }
  if (best !== undefined) {
    out.addAll(best)
    return
  }
  const expected = branches.flatMap((branch) => describe(branch, context.root, 0))
  const anyLiteral = expected.some((entry) => entry.literal)
  const received = anyLiteral && !isStructured(value) ? preview(value) : typeName(value)
  const texts = [...new Set(expected.map((entry) => entry.text))]
  out.add(path, depth, `expected ${joinLimited(texts)}, received ${received}`, 'type')
}

interface Expectation {
  readonly text: string
  readonly literal: boolean
}

/** What a schema accepts, in a word or a literal, for "expected A | B" summaries. */
function describe(schema: unknown, root: unknown, level: number): Expectation[] {
  if (schema === false) return [{ text: 'never', literal: false }]
  if (!isRecord(schema) || level > 20) return [{ text: 'unknown', literal: false }]
  const nullable = schema.nullable === true ? [{ text: 'null', literal: false }] : []
  if ('const' in schema) return [{ text: literal(schema.const), literal: true }, ...nullable]
  if (Array.isArray(schema.enum)) {
    return [...schema.enum.map((option) => ({ text: literal(option), literal: true })), ...nullable]
  }
  const { type } = schema
  if (typeof type === 'string' || Array.isArray(type)) {
    const types = (Array.isArray(type) ? type : [type]).filter((entry) => typeof entry === 'string')
    return [...types.map((text) => ({ text, literal: false })), ...nullable]
  }
  if (typeof schema.$ref === 'string') {
    return [...describe(resolveSchemaRef(root, schema.$ref), root, level + 1), ...nullable]
  }
  for (const keyword of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[keyword]
    if (Array.isArray(branches) && branches.length > 0) {
      const described =
        keyword === 'allOf'
          ? (branches
              .map((branch) => describe(branch, root, level + 1))
              .find((entries) => entries.some((entry) => entry.text !== 'unknown')) ?? [])
          : branches.flatMap((branch) => describe(branch, root, level + 1))
      if (described.length > 0) return [...described, ...nullable]
    }
  }
  const inferred =
    'properties' in schema || 'required' in schema || 'additionalProperties' in schema
      ? 'object'
      : 'items' in schema || 'prefixItems' in schema
        ? 'array'
        : 'unknown'
  return [{ text: inferred, literal: false }, ...nullable]
}

/** Patterns compiled once per schema node: `pattern` keys by the node, `patternProperties` by its map. */
const patternCache = new WeakMap<object, Map<string, RegExp | string>>()

/** The compiled pattern, or an issue message when it does not compile. */
function compilePattern(owner: object, source: string): RegExp | string {
  let bySource = patternCache.get(owner)
  if (bySource === undefined) {
    bySource = new Map()
    patternCache.set(owner, bySource)
  }
  const cached = bySource.get(source)
  if (cached !== undefined) return cached
  let compiled: RegExp | string
  try {
    // JSON Schema patterns are ECMA-262 with Unicode semantics; some generators emit escapes
    // that only the legacy (non-`u`) grammar accepts, so fall back to it before giving up.
    compiled = new RegExp(source, 'u')
  } catch {
    try {
      compiled = new RegExp(source)
    } catch (error) {
      compiled = `schema error: pattern ${JSON.stringify(source)} is not a valid regular expression (${errorMessage(error)})`
    }
  }
  bySource.set(source, compiled)
  return compiled
}

/** A key equal for JSON-equal values (object key order ignored), to find duplicates in one pass. */
function canonicalKey(value: unknown, path: string, depth: number): string {
  if (depth > MAX_DEPTH) {
    throw new Stop({ path, message: `value is nested more than ${MAX_DEPTH} levels deep` })
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, index) => canonicalKey(item, `${path}[${index}]`, depth + 1)).join(',')}]`
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalKey(value[key], childPath(path, key), depth + 1)}`).join(',')}}`
  }
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'object' && value !== null) return `<${typeName(value)}:${String(value)}>`
  return `${typeof value}:${String(value)}`
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]))
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keysA = Object.keys(a).filter((key) => a[key] !== undefined)
    const keysB = Object.keys(b).filter((key) => b[key] !== undefined)
    return (
      keysA.length === keysB.length &&
      keysA.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
    )
  }
  return false
}

function isRecord(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.prototype.toString.call(value) === '[object Object]'
  )
}

function isStructured(value: unknown): boolean {
  return typeof value === 'object' && value !== null
}

/** The kind of a received value, in JSON Schema words where they exist. */
function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : String(value)
  if (typeof value === 'object') {
    const tag = Object.prototype.toString.call(value).slice(8, -1)
    return tag === 'Object' ? 'object' : tag
  }
  return typeof value
}

/** A short rendering of a received value: the literal for primitives, the kind for the rest. */
function preview(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'bigint') return `${value}n`
  return typeName(value)
}

function literal(value: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    text = undefined
  }
  if (text === undefined) return typeName(value)
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}

/** Joins alternatives with ` | `, eliding past 20 so a huge enum keeps the message readable. */
function joinLimited(texts: readonly string[]): string {
  if (texts.length <= 20) return texts.join(' | ')
  return `${texts.slice(0, 20).join(' | ')} | … (${texts.length - 20} more)`
}

function plural(count: number, noun: string): string {
  if (count === 1) return `1 ${noun}`
  return `${count} ${noun === 'property' ? 'properties' : `${noun}s`}`
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
