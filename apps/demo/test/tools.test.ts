import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Tool, ToolContext } from '@airlock/core'
import { describe, expect, test } from 'vitest'
import { createDemoTools } from '../src/tools.js'

const context: ToolContext = { signal: new AbortController().signal, sessionId: 's', toolCallId: 'c' }

async function setup() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'airlock-data-'))
  const outDir = path.join(dataDir, '..', `${path.basename(dataDir)}-out`)
  await writeFile(path.join(dataDir, 'people.csv'), 'name,age,note\n"Smith, Ann",41,"said ""hi"""\nBo,,x\n')
  await writeFile(path.join(dataDir, 'config.json'), '{"a":[1,2]}')
  await writeFile(path.join(dataDir, 'notes.txt'), 'not listed')
  const tools = Object.fromEntries(
    createDemoTools({ dataDir, outDir }).map((tool) => [tool.name, tool]),
  ) as Record<string, Tool>
  const call = async (name: string, args: unknown) => {
    const tool = tools[name]!
    const validation = await tool.parameters.validate(args, 'args')
    if (!validation.ok)
      throw new Error(validation.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '))
    return tool.execute(validation.value, context)
  }
  return { dataDir, outDir, call }
}

describe('demo tools', () => {
  test('list_files lists CSV and JSON files only, sorted, with sizes', async () => {
    const { call } = await setup()
    expect(await call('list_files', {})).toEqual([
      { name: 'config.json', bytes: 11 },
      { name: 'people.csv', bytes: 50 },
    ])
  })

  test('read_csv handles quoted fields and turns numbers into numbers', async () => {
    const { call } = await setup()
    expect(await call('read_csv', { file: 'people.csv' })).toEqual([
      { name: 'Smith, Ann', age: 41, note: 'said "hi"' },
      { name: 'Bo', age: '', note: 'x' },
    ])
  })

  test('read_json parses', async () => {
    const { call } = await setup()
    expect(await call('read_json', { file: 'config.json' })).toEqual({ a: [1, 2] })
  })

  test('nothing outside the data folder can be read', async () => {
    const { call } = await setup()
    await expect(call('read_csv', { file: '../secret.csv' })).rejects.toThrow(/args\.file: .*plain file name/)
    await expect(call('read_json', { file: '..' })).rejects.toThrow(/is not a file in the data folder/)
    await expect(call('read_csv', { file: 'absent.csv' })).rejects.toThrow(
      /No file "absent.csv" in the data folder/,
    )
  })

  test('write_report writes into the output folder only', async () => {
    const { call, outDir } = await setup()
    const written = (await call('write_report', { name: 'summary.md', content: '# Hi\n' })) as {
      path: string
      bytes: number
    }
    expect(written.bytes).toBe(5)
    expect(await readFile(path.join(outDir, 'summary.md'), 'utf8')).toBe('# Hi\n')
    await expect(call('write_report', { name: '../escape.md', content: 'x' })).rejects.toThrow(/args\.name/)
    await expect(call('write_report', { name: 'run.sh', content: 'x' })).rejects.toThrow(/\.md or \.txt/)
  })
})
