import { resolveSchemaRef } from './json-schema.js'
import type { JSONSchema } from './schema.js'
import type { Tool } from './tool.js'
import { identifierPattern } from './value-path.js'

export interface SchemaToTypeScriptOptions {
  /** One level of indentation in multi-line object types. Default: two spaces. */
  readonly indent?: string
}

/** Objects without JSDoc on their properties stay on one line up to this many characters. */
const INLINE_LIMIT = 80
/** Past this nesting the type is cut to `unknown`: a guard against pathological schemas. */
const MAX_LEVEL = 64

type SchemaNode = { readonly [keyword: string]: unknown }

/**
 * Binding strength of a rendered type, to parenthesize only where TypeScript needs it:
 * `(A | B)[]`, `(A | B) & C`.
 */
const Precedence = { Union: 0, Intersection: 1, Atom: 2 } as const
type Precedence = (typeof Precedence)[keyof typeof Precedence]

interface Rendered {
  readonly text: string
  readonly precedence: Precedence
  /**
   * A plain `string`, `number`, `Record<string, unknown>`... that says nothing `anyOf` / `allOf`
   * siblings would not say better, so it is dropped in their favour.
   */
  readonly bare?: boolean
}

/** `$ref` targets being expanded on the current path: meeting one again is recursion. */
type RefChain = { readonly node: object; readonly next: RefChain } | undefined

const unknownType: Rendered = { text: 'unknown', precedence: Precedence.Atom, bare: true }
const neverType: Rendered = { text: 'never', precedence: Precedence.Atom }

/**
 * Renders a JSON Schema as a TypeScript type expression for a model to read: objects with
 * `/** JSDoc *\/` on described or constrained properties, literal unions for `enum`, `T | null`
 * for nullable, tuples for `prefixItems`, `Record<string, T>` for maps. Local `$ref`s are
 * expanded inline; a recursive one becomes `unknown` where it recurs. Output is deterministic.
 *
 * @example
 * schemaToTypeScript({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] })
 * // '{ city: string }'
 */
export function schemaToTypeScript(schema: JSONSchema, options: SchemaToTypeScriptOptions = {}): string {
  // The root is on the chain from the start, so `$ref: '#'` counts as recursion like any other.
  const renderer = new Renderer(schema, options.indent ?? '  ')
  return renderer.render(schema, 0, { node: schema, next: undefined }).text
}

/**
 * Renders a tool as a `declare function` with its description as JSDoc, the way the model sees
 * it in the system prompt. The result type is `Promise<unknown>` when the tool has no `returns`.
 *
 * @example
 * toolDeclaration(weather)
 * // /**
 * //  * Current weather for a city.
 * //  *\/
 * // declare function get_weather(args: { city: string }): Promise<{ tempC: number }>
 */
export function toolDeclaration(tool: Tool): string {
  const parametersSchema = tool.parameters.jsonSchema
  const returnsSchema = tool.returns?.jsonSchema
  const lines = textLines(tool.description)
  const parametersDescription = descriptionOf(parametersSchema)
  if (parametersDescription !== undefined) lines.push(...tagLines('@param args', parametersDescription))
  const returnsDescription = returnsSchema === undefined ? undefined : descriptionOf(returnsSchema)
  if (returnsDescription !== undefined) lines.push(...tagLines('@returns', returnsDescription))

  const parameters = schemaToTypeScript(parametersSchema)
  const returns = returnsSchema === undefined ? 'unknown' : schemaToTypeScript(returnsSchema)
  // With nothing required, `name()` is a valid call: the executor passes `{}` for missing arguments.
  const required = parametersSchema.required
  const argsOptional = !Array.isArray(required) || required.length === 0 ? '?' : ''
  return `${docBlock(lines, '', true)}\ndeclare function ${tool.name}(args${argsOptional}: ${parameters}): Promise<${returns}>`
}

/** Declarations of all `tools`, in order, separated by a blank line. */
export function toolDeclarations(tools: readonly Tool[]): string {
  return tools.map(toolDeclaration).join('\n\n')
}

class Renderer {
  constructor(
    private readonly root: unknown,
    private readonly indent: string,
  ) {}

  /** `level` is the indentation of the line the type starts on; nested lines indent from it. */
  render(schema: unknown, level: number, refs: RefChain): Rendered {
    if (schema === false) return neverType
    if (!isRecord(schema) || level > MAX_LEVEL) return unknownType

    const parts: Rendered[] = []
    if (typeof schema.$ref === 'string') parts.push(this.renderRef(schema.$ref, level, refs))
    const own = this.renderOwn(schema, level, refs)
    if (own !== undefined) parts.push(own)
    for (const keyword of ['anyOf', 'oneOf'] as const) {
      const branches = schema[keyword]
      if (Array.isArray(branches) && branches.length > 0) {
        parts.push(union(branches.map((branch) => this.render(branch, level, refs))))
      }
    }
    if (Array.isArray(schema.allOf)) {
      for (const branch of schema.allOf) parts.push(this.render(branch, level, refs))
    }
    // zod writes `never` as `not: {}`; other `not`s narrow too subtly to show in a type.
    if (schema.not === true || (isRecord(schema.not) && Object.keys(schema.not).length === 0)) {
      parts.push(neverType)
    }

    let type = intersection(parts)
    if (schema.nullable === true && type.text !== 'unknown') type = union([type, nullType])
    return type
  }

  private renderRef(ref: string, level: number, refs: RefChain): Rendered {
    const target = resolveSchemaRef(this.root, ref)
    if (target === undefined) return unknownType
    if (typeof target !== 'object' || target === null) return this.render(target, level, refs)
    for (let link = refs; link !== undefined; link = link.next) {
      if (link.node === target) return unknownType
    }
    return this.render(target, level, { node: target, next: refs })
  }

  /** The type from the node's own keywords (`const`, `enum`, `type`), or none if it has none. */
  private renderOwn(schema: SchemaNode, level: number, refs: RefChain): Rendered | undefined {
    if ('const' in schema) return literalType(schema.const)
    if (Array.isArray(schema.enum)) return union(schema.enum.map(literalType))
    let types = typesOf(schema)
    if (types.length === 0) {
      // Hand-written schemas often leave out the `type` their keywords imply.
      if (isRecord(schema.properties) || isRecord(schema.additionalProperties)) types = ['object']
      else if ('items' in schema || 'prefixItems' in schema) types = ['array']
      else return undefined
    }
    return union(
      types.map((type): Rendered => {
        switch (type) {
          case 'string':
          case 'number':
          case 'boolean':
          case 'null':
            return { text: type, precedence: Precedence.Atom, bare: true }
          case 'integer':
            return { text: 'number', precedence: Precedence.Atom, bare: true }
          case 'array':
            return this.renderArray(schema, level, refs)
          case 'object':
            return this.renderObject(schema, level, refs)
          default:
            return unknownType
        }
      }),
    )
  }

  private renderArray(schema: SchemaNode, level: number, refs: RefChain): Rendered {
    // 2020-12 tuples are `prefixItems` + `items`; draft-07 tuples are `items: [...]` + `additionalItems`.
    const prefix = Array.isArray(schema.prefixItems)
      ? (schema.prefixItems as unknown[])
      : Array.isArray(schema.items)
        ? (schema.items as unknown[])
        : undefined
    const rest = Array.isArray(schema.prefixItems)
      ? schema.items
      : Array.isArray(schema.items)
        ? schema.additionalItems
        : schema.items
    if (prefix === undefined) {
      if (rest === undefined) return { text: 'unknown[]', precedence: Precedence.Atom, bare: true }
      return {
        text: `${wrap(this.render(rest, level, refs), Precedence.Atom)}[]`,
        precedence: Precedence.Atom,
      }
    }
    const minItems = typeof schema.minItems === 'number' ? schema.minItems : undefined
    const elements = prefix.map((item, index) => {
      const element = this.render(item, level, refs)
      return minItems !== undefined && index >= minItems ? `${wrap(element, Precedence.Atom)}?` : element.text
    })
    // An absent `items` after `prefixItems` would allow more elements, but the tuple is what the
    // schema author means; only an explicit rest schema becomes `...T[]`.
    if (rest !== undefined && rest !== false) {
      elements.push(`...${wrap(this.render(rest, level, refs), Precedence.Atom)}[]`)
    }
    return { text: `[${elements.join(', ')}]`, precedence: Precedence.Atom }
  }

  private renderObject(schema: SchemaNode, level: number, refs: RefChain): Rendered {
    const properties = isRecord(schema.properties) ? schema.properties : undefined
    const keys = properties === undefined ? [] : Object.keys(properties)
    const required = new Set(Array.isArray(schema.required) ? schema.required : [])

    const { additionalProperties } = schema
    const valueSchemas = [
      ...(additionalProperties === undefined || additionalProperties === false ? [] : [additionalProperties]),
      ...(isRecord(schema.patternProperties) ? Object.values(schema.patternProperties) : []),
    ]
    // Values of `Record<string, T>` start on the object's line, index signatures one level in.
    const valuesAt = (valueLevel: number) =>
      valueSchemas.length === 0
        ? undefined
        : union(valueSchemas.map((value) => this.render(value, valueLevel, refs)))

    if (keys.length === 0) {
      const extra = valuesAt(level)
      const names = propertyNameLiterals(schema.propertyNames)
      const value = (extra ?? unknownType).text
      if (names !== undefined) {
        const record = `Record<${names.map((name) => JSON.stringify(name)).join(' | ')}, ${value}>`
        const total = names.every((name) => required.has(name))
        return { text: total ? record : `Partial<${record}>`, precedence: Precedence.Atom }
      }
      // `properties: {}` (zod's `z.object({})`) and `additionalProperties: false` mean no keys.
      if (extra === undefined && (properties !== undefined || additionalProperties === false)) {
        return { text: '{}', precedence: Precedence.Atom }
      }
      return { text: `Record<string, ${value}>`, precedence: Precedence.Atom, bare: extra === undefined }
    }

    const inner = this.indent.repeat(level + 1)
    const members = keys.map((key) => {
      const property = properties![key]
      const optional = required.has(key) ? '' : '?'
      return {
        doc: this.propertyDoc(property),
        head: `${identifierPattern.test(key) ? key : JSON.stringify(key)}${optional}`,
        type: this.render(property, level + 1, refs).text,
      }
    })
    // A loose object's `additionalProperties: {}` adds nothing a reader would miss.
    const extra = valuesAt(level + 1)
    if (extra !== undefined && extra.text !== 'unknown') {
      members.push({ doc: [], head: '[key: string]', type: extra.text })
    }

    const inline = `{ ${members.map((member) => `${member.head}: ${member.type}`).join('; ')} }`
    if (
      members.every((member) => member.doc.length === 0) &&
      !inline.includes('\n') &&
      inline.length <= INLINE_LIMIT
    ) {
      return { text: inline, precedence: Precedence.Atom }
    }
    const lines = members.map((member) => {
      const doc = member.doc.length === 0 ? '' : `${docBlock(member.doc, inner, false)}\n`
      return `${doc}${inner}${member.head}: ${member.type}`
    })
    return { text: `{\n${lines.join('\n')}\n${this.indent.repeat(level)}}`, precedence: Precedence.Atom }
  }

  /** JSDoc lines for a property: description, then constraints, `@default`, `@deprecated`. */
  private propertyDoc(property: unknown): string[] {
    const sources = this.annotationSources(property)
    const description = sources.map(descriptionOf).find((text) => text !== undefined)
    const lines = description === undefined ? [] : textLines(description)
    const constraints = dedupe(sources.flatMap(constraintsOf))
    if (constraints.length > 0) lines.push(constraints.join(', '))
    const withDefault = sources.find((source) => 'default' in source)
    if (withDefault !== undefined) {
      const text = jsonText(withDefault.default)
      if (text !== undefined) lines.push(`@default ${text}`)
    }
    if (sources.some((source) => source.deprecated === true)) lines.push('@deprecated')
    return lines
  }

  /**
   * The nodes that describe a property: itself, what its `$ref` points to, and the one non-null
   * branch of a nullable union, since zod puts `.describe()` and checks on whichever it wraps.
   */
  private annotationSources(property: unknown): SchemaNode[] {
    const sources: SchemaNode[] = []
    const visit = (node: unknown, hops: number) => {
      if (!isRecord(node) || hops > 4 || sources.includes(node)) return
      sources.push(node)
      if (typeof node.$ref === 'string') visit(resolveSchemaRef(this.root, node.$ref), hops + 1)
      for (const keyword of ['anyOf', 'oneOf'] as const) {
        const branches = node[keyword]
        if (!Array.isArray(branches)) continue
        const nonNull = branches.filter((branch) => !(isRecord(branch) && branch.type === 'null'))
        if (nonNull.length === 1 && branches.length === 2) visit(nonNull[0], hops + 1)
      }
    }
    visit(property, 0)
    return sources
  }
}

const nullType: Rendered = { text: 'null', precedence: Precedence.Atom, bare: true }

function union(members: readonly Rendered[]): Rendered {
  const unique = dedupeRendered(members.filter((member) => member.text !== 'never'))
  if (unique.length === 0) return neverType
  if (unique.some((member) => member.text === 'unknown')) return unknownType
  if (unique.length === 1) return unique[0]!
  return {
    text: unique.map((member) => member.text).join(' | '),
    precedence: Precedence.Union,
    bare: unique.every((member) => member.bare === true),
  }
}

function intersection(parts: readonly Rendered[]): Rendered {
  let useful = dedupeRendered(parts.filter((part) => part.text !== 'unknown'))
  if (useful.some((part) => part.text === 'never')) return neverType
  // `{ type: 'string', anyOf: [{ const: 'a' }, { const: 'b' }] }` reads best as `"a" | "b"`.
  if (useful.some((part) => part.bare !== true)) useful = useful.filter((part) => part.bare !== true)
  if (useful.length === 0) return unknownType
  if (useful.length === 1) return useful[0]!
  return {
    text: useful.map((part) => wrap(part, Precedence.Intersection)).join(' & '),
    precedence: Precedence.Intersection,
  }
}

/** Parenthesizes `type` when it binds more loosely than its position needs. */
function wrap(type: Rendered, needed: Precedence): string {
  return type.precedence < needed ? `(${type.text})` : type.text
}

function dedupeRendered(items: readonly Rendered[]): Rendered[] {
  const seen = new Set<string>()
  return items.filter((item) => {
    if (seen.has(item.text)) return false
    seen.add(item.text)
    return true
  })
}

function dedupe(items: readonly string[]): string[] {
  return [...new Set(items)]
}

function literalType(value: unknown): Rendered {
  const text = jsonText(value)
  return text === undefined ? unknownType : { text, precedence: Precedence.Atom }
}

function typesOf(schema: SchemaNode): string[] {
  const { type } = schema
  return (Array.isArray(type) ? type : [type]).filter((entry): entry is string => typeof entry === 'string')
}

function propertyNameLiterals(schema: unknown): string[] | undefined {
  if (!isRecord(schema)) return undefined
  const values = 'const' in schema ? [schema.const] : Array.isArray(schema.enum) ? schema.enum : undefined
  if (values === undefined || values.length === 0) return undefined
  return values.every((value) => typeof value === 'string') ? (values as string[]) : undefined
}

/** Integer bounds this wide are zod's `z.int()` safe-integer range, not a real constraint. */
function isMeaningfulBound(value: unknown): value is number {
  return typeof value === 'number' && Math.abs(value) < Number.MAX_SAFE_INTEGER
}

/** Constraints a caller must respect, in words: `integer, min 1, max 10`, `format: email`. */
function constraintsOf(schema: SchemaNode): string[] {
  const result: string[] = []
  if (typesOf(schema).includes('integer')) result.push('integer')
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = schema
  if (isMeaningfulBound(minimum)) {
    result.push(exclusiveMinimum === true ? `greater than ${minimum}` : `min ${minimum}`)
  }
  if (isMeaningfulBound(exclusiveMinimum)) result.push(`greater than ${exclusiveMinimum}`)
  if (isMeaningfulBound(maximum)) {
    result.push(exclusiveMaximum === true ? `less than ${maximum}` : `max ${maximum}`)
  }
  if (isMeaningfulBound(exclusiveMaximum)) result.push(`less than ${exclusiveMaximum}`)
  if (typeof schema.multipleOf === 'number') result.push(`multiple of ${schema.multipleOf}`)
  const { minLength, maxLength } = schema
  if (typeof minLength === 'number' && minLength === maxLength) {
    result.push(`length ${minLength}`)
  } else {
    if (typeof minLength === 'number' && minLength > 0) result.push(`min length ${minLength}`)
    if (typeof maxLength === 'number') result.push(`max length ${maxLength}`)
  }
  // A format names what a generated pattern only spells out (zod's email regex).
  if (typeof schema.format === 'string') result.push(`format: ${schema.format}`)
  else if (typeof schema.pattern === 'string') result.push(`pattern: /${schema.pattern}/`)
  if (typeof schema.minItems === 'number' && schema.minItems > 0 && !Array.isArray(schema.prefixItems)) {
    result.push(`min items ${schema.minItems}`)
  }
  if (typeof schema.maxItems === 'number' && !Array.isArray(schema.prefixItems)) {
    result.push(`max items ${schema.maxItems}`)
  }
  if (schema.uniqueItems === true) result.push('unique items')
  if (typeof schema.minProperties === 'number' && schema.minProperties > 0) {
    result.push(`min properties ${schema.minProperties}`)
  }
  if (typeof schema.maxProperties === 'number') result.push(`max properties ${schema.maxProperties}`)
  return result
}

function descriptionOf(schema: unknown): string | undefined {
  if (!isRecord(schema) || typeof schema.description !== 'string') return undefined
  return schema.description.trim() === '' ? undefined : schema.description
}

/** A JSON value as TypeScript/JSDoc text; `undefined` for what JSON cannot hold. */
function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}

/** Splits text into JSDoc-safe lines: `*\/` escaped, trailing blanks and blank edges dropped. */
function textLines(text: string): string[] {
  const lines = text
    .replaceAll('*/', '*\\/')
    .split(/\r\n|\r|\n/)
    .map((line) => line.trimEnd())
  while (lines.length > 0 && lines[0] === '') lines.shift()
  while (lines.length > 0 && lines.at(-1) === '') lines.pop()
  return lines
}

function tagLines(tag: string, text: string): string[] {
  const [first = '', ...rest] = textLines(text)
  return [`${tag} ${first}`, ...rest]
}

/** One line fits `/** text *\/` unless `block` is asked for (tool docs); more become a block. */
function docBlock(lines: readonly string[], indent: string, block: boolean): string {
  if (!block && lines.length === 1) return `${indent}/** ${lines[0]} */`
  const body = lines.map((line) => (line === '' ? `${indent} *` : `${indent} * ${line}`))
  return [`${indent}/**`, ...body, `${indent} */`].join('\n')
}

function isRecord(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
