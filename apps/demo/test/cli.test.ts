import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { runCli } from './cli.js'

const executors = ['local', 'isolate'] as const

describe.each(executors)('offline replay on the %s executor', (executor) => {
  test('runs the recorded task end to end: tool calls, a recovered error, a report, a final answer', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'airlock-demo-'))
    const result = await runCli(['run', '--executor', executor, '--out', out])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('REPLAY of a recorded model session (regional-growth)')
    // Step 2 of the recording reads a column that does not exist; the error comes from really running it.
    expect(result.stdout).toMatch(
      /TypeError at line 4:\d+: Cannot read properties of undefined \(reading 'toFixed'\)/,
    )
    expect(result.stdout).toMatch(/East +325237 -> +361013 +11%/)
    expect(result.stdout).toContain('Answer: East grew fastest in 2026-Q3 (+11% over 2026-Q2)')
    expect(result.stdout).toMatch(/Summary: success in 4 steps/)
    const report = await readFile(path.join(out, 'regional-growth.md'), 'utf8')
    expect(report).toContain('| East | 325237 | 361013 | 11% |')
  })

  test('--json prints one event per line, ending with the result', async () => {
    const result = await runCli([
      'run',
      'target-shortfall',
      '--executor',
      executor,
      '--json',
      '--out',
      await mkdtemp(path.join(tmpdir(), 'airlock-demo-')),
    ])
    expect(result.code).toBe(0)
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; result?: { state: string; output: unknown } })
    expect(events[0]).toMatchObject({ type: 'step_start', step: 1 })
    expect(events.filter((event) => event.type === 'code')).toHaveLength(2)
    expect(events.at(-1)).toMatchObject({
      type: 'done',
      result: { state: 'success', output: { region: 'East', shortfallEur: 38987, attainmentPct: 90.3 } },
    })
  })

  test('exec runs a file, with the demo tools, and prints its value', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'airlock-demo-'))
    const file = path.join(folder, 'count.ts')
    await writeFile(
      file,
      "const rows: Array<{ region: string }> = await read_csv({ file: 'sales.csv' })\nconsole.log('rows', rows.length)\nnew Set(rows.map((row) => row.region)).size\n",
    )
    const result = await runCli(['exec', file, '--executor', executor])
    expect(result).toMatchObject({ code: 0, stdout: 'rows 20\n5\n' })
  })

  test('exec reports an error with its position and exits 1', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'airlock-demo-'))
    const file = path.join(folder, 'broken.js')
    await writeFile(file, 'const a = 1\nnull.b\n')
    const result = await runCli(['exec', file, '--executor', executor])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^TypeError \(line 2:\d+\): Cannot read properties of null \(reading 'b'\)/)
  })

  test('repl keeps state between inputs and reads unfinished input on', async () => {
    const result = await runCli(['repl', '--executor', executor], {
      input:
        'const x = 2\nfunction twice(n) {\n  return n * 2\n}\ntwice(x) * 10 + x\nconsole.log((await list_files()).map((f) => f.name).join())\n',
    })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('\n42\n')
    expect(result.stdout).toContain('sales.csv,targets.json')
  })
})

describe('bad input gets one clear line and a non-zero exit', () => {
  test.each([
    [
      ['run', '--executor', 'docker'],
      /^airlock: Unknown --executor "docker"; use one of local, isolate, e2b\.\n$/,
    ],
    [
      ['run', '--max-steps', 'lots'],
      /^airlock: --max-steps must be a positive whole number, got "lots"\.\n$/,
    ],
    [['fly'], /^airlock: Unknown command "fly"; use run, exec or repl/],
    [['run', '--executor', 'e2b'], /^airlock: The e2b executor needs an E2B API key: set E2B_API_KEY/],
    [
      ['run', 'What is the weather in Oslo?'],
      /^airlock: No recorded session for this task, and no OPENAI_API_KEY for a live model\./,
    ],
    [['run', '--config', 'missing.json'], /^airlock: Cannot read config .*missing\.json: ENOENT/],
    [['exec', 'missing.js'], /^airlock: Cannot read .*missing\.js: ENOENT\n$/],
    [['run', '--colour'], /^airlock: Unknown option '--colour'/],
  ])('%j', async (args, message) => {
    const result = await runCli(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  test('a config file with an unknown key names it', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'airlock-demo-'))
    await writeFile(path.join(folder, 'airlock.config.json'), JSON.stringify({ executer: 'local' }))
    const result = await runCli(['run'], { cwd: folder })
    expect(result).toMatchObject({ code: 2 })
    expect(result.stderr).toContain('has an unknown key "executer"')
  })

  test('a TypeScript config file switches the executor in one line', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'airlock-demo-'))
    await writeFile(
      path.join(folder, 'airlock.config.ts'),
      "export default { executor: 'isolate' as const, maxSteps: 1 }\n",
    )
    const result = await runCli(['run', 'target-shortfall'], { cwd: folder })
    expect(result.stdout).toContain('executor isolate')
    // One step is not enough for this recording: the run ends with max_steps, which exits 1.
    expect(result.code).toBe(1)
  })
})
