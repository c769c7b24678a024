import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createLocalExecutor } from '../src/index.js'

function fixture(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'airlock-local-modules-'))
  const write = (name: string, files: Record<string, string>) => {
    const root = path.join(dir, 'node_modules', name)
    mkdirSync(path.join(root, 'lib'), { recursive: true })
    for (const [file, text] of Object.entries(files)) writeFileSync(path.join(root, file), text)
  }
  write('fixture-ok', {
    'package.json': '{ "name": "fixture-ok", "main": "index.js" }',
    'index.js':
      "const { twice } = require('./lib/twice'); exports.four = twice(2); exports.data = require('./data.json')",
    'lib/twice.js': 'module.exports = { twice: (x) => x * 2 }',
    'data.json': '{ "k": [1, 2] }',
  })
  write('fixture-fs', {
    'package.json': '{ "name": "fixture-fs" }',
    'index.js': "module.exports = require('fs')",
  })
  write('fixture-outside', {
    'package.json': '{ "name": "fixture-outside" }',
    'index.js': "module.exports = require('../fixture-ok/index.js')",
  })
  write('fixture-esm', {
    'package.json': '{ "name": "fixture-esm", "type": "module" }',
    'index.js': 'export const x = 1',
  })
  return dir
}

describe('allowlisted CommonJS packages run inside the interpreter', () => {
  const moduleDirectory = fixture()
  const allowedModules = ['fixture-ok', 'fixture-fs', 'fixture-outside', 'fixture-esm', 'acorn']

  it('loads files of the package, JSON, and real packages like acorn', async () => {
    await using session = await createLocalExecutor({ moduleDirectory }).createSession({ allowedModules })
    expect(await session.run("const m = require('fixture-ok')\n;[m.four, m.data.k]")).toMatchObject({
      value: [4, [1, 2]],
    })
    const acorn = await createLocalExecutor().createSession({ allowedModules })
    expect(
      await acorn.run(
        "import { parse } from 'acorn'\nparse('let x = 1 + 2', { ecmaVersion: 2022 }).body[0].declarations[0].init.operator",
      ),
    ).toMatchObject({ value: '+' })
    await acorn.dispose()
  })

  it('refuses Node built-ins, paths outside the package and ES module packages', async () => {
    await using session = await createLocalExecutor({ moduleDirectory }).createSession({ allowedModules })
    expect(await session.run("require('fixture-fs')")).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/built-in "fs"/) },
    })
    expect(await session.run("require('fixture-outside')")).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/Cannot find module/) },
    })
    expect(await session.run("require('fixture-esm')")).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/CommonJS packages only/) },
    })
  })
})
