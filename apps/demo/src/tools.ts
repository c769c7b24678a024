import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { defineTool, type Tool } from '@airlock/core'
import { z } from 'zod'

export interface DemoToolOptions {
  /** Folder the data tools read from; nothing outside it is reachable. */
  readonly dataDir: string
  /** Folder `write_report` writes into; created on first write. */
  readonly outDir: string
}

const MAX_FILE_BYTES = 5 * 1024 * 1024
const fileName = z
  .string()
  .describe('A file name as listed by list_files, e.g. "sales.csv"')
  .regex(/^[\w.-]+$/, 'a plain file name without folders')

/** Resolves `name` inside `folder`, refusing anything that would leave it. */
function inside(folder: string, name: string): string {
  const resolved = path.resolve(folder, name)
  if (path.dirname(resolved) !== path.resolve(folder)) {
    throw new Error(`"${name}" is not a file in the data folder; call list_files() to see what is there.`)
  }
  return resolved
}

async function readDataFile(dataDir: string, name: string): Promise<string> {
  const file = inside(dataDir, name)
  const info = await stat(file).catch(() => undefined)
  if (info === undefined || !info.isFile()) {
    throw new Error(`No file "${name}" in the data folder; call list_files() to see what is there.`)
  }
  if (info.size > MAX_FILE_BYTES)
    throw new Error(`"${name}" is larger than 5 MB; the demo tools read smaller files.`)
  return readFile(file, 'utf8')
}

/** Splits one CSV line, honouring double-quoted fields with doubled quotes inside. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = []
  let field = ''
  let quoted = false
  for (let index = 0; index < line.length; index++) {
    const char = line[index]
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        field += '"'
        index++
      } else if (char === '"') quoted = false
      else field += char
    } else if (char === '"') quoted = true
    else if (char === ',') {
      fields.push(field)
      field = ''
    } else field += char
  }
  fields.push(field)
  return fields
}

function parseCsv(text: string): Record<string, string | number>[] {
  const [header, ...lines] = text.split(/\r?\n/).filter((line) => line.trim() !== '')
  if (header === undefined) return []
  const columns = splitCsvLine(header)
  return lines.map((line) => {
    const fields = splitCsvLine(line)
    const row: Record<string, string | number> = {}
    columns.forEach((column, index) => {
      const raw = fields[index] ?? ''
      row[column] = raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw
    })
    return row
  })
}

/** Tools over a local data folder, for the demo: list, read CSV and JSON, write a report. */
export function createDemoTools({ dataDir, outDir }: DemoToolOptions): Tool[] {
  return [
    defineTool({
      name: 'list_files',
      description: 'Lists the CSV and JSON files of the data folder with their sizes.',
      parameters: z.object({}),
      returns: z.array(z.object({ name: z.string(), bytes: z.number() })),
      async execute() {
        const names = (await readdir(dataDir)).filter((name) => /\.(csv|json)$/i.test(name)).sort()
        return Promise.all(
          names.map(async (name) => ({ name, bytes: (await stat(inside(dataDir, name))).size })),
        )
      },
    }),
    defineTool({
      name: 'read_csv',
      description:
        'Reads a CSV file of the data folder as an array of row objects keyed by the header; numeric fields become numbers.',
      parameters: z.object({ file: fileName }),
      returns: z.array(z.record(z.string(), z.union([z.string(), z.number()]))),
      async execute({ file }) {
        return parseCsv(await readDataFile(dataDir, file))
      },
    }),
    defineTool({
      name: 'read_json',
      description: 'Reads and parses a JSON file of the data folder.',
      parameters: z.object({ file: fileName }),
      async execute({ file }) {
        return JSON.parse(await readDataFile(dataDir, file)) as unknown
      },
    }),
    defineTool({
      name: 'write_report',
      description: 'Writes a Markdown or text report into the output folder and returns where it went.',
      parameters: z.object({
        name: z
          .string()
          .regex(/^[\w.-]+\.(md|txt)$/, 'a plain file name ending in .md or .txt')
          .describe('File name, e.g. "summary.md"'),
        content: z.string().max(200_000).describe('The whole report'),
      }),
      returns: z.object({ path: z.string(), bytes: z.number() }),
      async execute({ name, content }) {
        await mkdir(outDir, { recursive: true })
        const file = inside(outDir, name)
        await writeFile(file, content)
        return { path: path.relative(process.cwd(), file) || file, bytes: Buffer.byteLength(content) }
      },
    }),
  ]
}
