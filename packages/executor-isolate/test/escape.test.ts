import { defineTool, type RunOutcome } from '@airlock/core'
import { afterEach, describe, expect, it } from 'vitest'
import { isolationModes } from './support.js'

// An escape is judged on the host: the payload sets markers on the host's globalThis and
// process.env if it ever runs there (see research/sandbox-attacks.md, section 2).
const payload =
  "globalThis.__ESCAPED__ = true; if (typeof process === 'object' && process) process.env.__ESCAPED__ = '1'; return 'ran'"

const get_state = defineTool({
  name: 'get_state',
  description: 'Returns host data.',
  parameters: { type: 'object' },
  execute: () => ({ list: [1], when: new Date(0), map: new Map([['k', { v: 1 }]]) }),
})
const fail = defineTool({
  name: 'fail',
  description: 'Throws a host error.',
  parameters: { type: 'object' },
  execute: () => {
    throw new TypeError('host failure')
  },
})

const { each } = isolationModes()

function valueOf(outcome: RunOutcome): unknown {
  expect(outcome).toMatchObject({ type: 'value' })
  return (outcome as Extract<RunOutcome, { type: 'value' }>).value
}

for (const [mode, executor] of each) {
  describe(`escape attempts (${mode})`, () => {
    // Checked after every case: a marker on the host means the payload ran there.
    afterEach(({ task }) => {
      if (
        (globalThis as Record<string, unknown>).__ESCAPED__ !== undefined ||
        process.env.__ESCAPED__ !== undefined
      ) {
        throw new Error(`${task.name}: the payload ran in the host`)
      }
    })

    it('only standard built-ins and the session globals are reachable; the bootstrap arguments are not', async () => {
      await using session = await executor.createSession({ tools: [get_state] })
      const names = valueOf(
        await session.run(
          "const fresh = new Set(['globalThis', 'console', 'finalAnswer', 'require', '__airlock_import', 'get_state'])\n" +
            'Object.getOwnPropertyNames(globalThis).filter((name) => fresh.has(name) || !/^[A-Z]/.test(name) && !["undefined", "NaN", "Infinity", "eval", "isFinite", "isNaN", "parseFloat", "parseInt", "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent", "escape", "unescape"].includes(name)).sort()',
        ),
      )
      expect(names).toEqual([
        '__airlock_import',
        'console',
        'finalAnswer',
        'fresh',
        'get_state',
        'globalThis',
        'require',
      ])
      const ivmNames = [
        'Reference',
        'ExternalCopy',
        'Callback',
        'Context',
        'Isolate',
        'Script',
        'Module',
        'WebAssembly',
      ]
      expect(
        valueOf(
          await session.run(
            `Object.getOwnPropertyNames(globalThis).filter((name) => ${JSON.stringify(ivmNames)}.includes(name))`,
          ),
        ),
      ).toEqual([])
      expect(
        valueOf(
          await session.run(
            '[typeof $0, typeof $1, typeof $2, typeof ivm, typeof process, typeof require.cache]',
          ),
        ),
      ).toEqual(Array(6).fill('undefined'))
    })

    it('constructor chains of tool results, errors and globals lead to the isolate, never the host', async () => {
      await using session = await executor.createSession({ tools: [get_state, fail] })
      const code = [
        `const payload = ${JSON.stringify(payload)}`,
        'const state = await get_state({})',
        'let caught',
        'try { await fail({}) } catch (error) { caught = error }',
        'const roots = [state, state.list, state.when, state.map, state.map.get("k"), caught, console.log, get_state, finalAnswer, require, console]',
        'roots.map((root) => root.constructor.constructor(payload)())',
      ].join('\n')
      expect(valueOf(await session.run(code))).toEqual(Array(11).fill('ran'))
      // It ran in the isolate: the isolate's globalThis got the marker, the host's did not.
      expect(valueOf(await session.run('globalThis.__ESCAPED__'))).toBe(true)
    })

    it('tool errors are isolate errors with only a message, no host stack', async () => {
      await using session = await executor.createSession({ tools: [fail] })
      const seen = valueOf(
        await session.run(
          'let seen\ntry { await fail({}) } catch (error) {\n  seen = [error instanceof Error, error.name, error.message, /node_modules|\\/work\\//.test(String(error.stack))]\n}\nseen',
        ),
      )
      expect(seen).toEqual([true, 'TypeError', 'host failure', false])
    })

    it('Error.prepareStackTrace sees no host frames, references or functions of the bridge', async () => {
      await using session = await executor.createSession({ tools: [get_state] })
      const code = [
        'const found = []',
        'Error.prepareStackTrace = (error, frames) => {',
        '  for (const frame of frames) {',
        '    for (const value of [frame.getThis(), frame.getFunction()]) {',
        "      if (value && (typeof value.applySync === 'function' || typeof value.derefInto === 'function' || typeof value.copyInto === 'function')) found.push(String(frame))",
        '    }',
        '    const file = frame.getScriptNameOrSourceURL() ?? ""',
        '    if (file !== "<isolated-vm>" && !file.startsWith("airlock-run-")) found.push(file)',
        '  }',
        "  return 'stack'",
        '}',
        'try { await get_state({ bad: Symbol() }) } catch (error) { error.stack }',
        'try { await require("fs") } catch (error) { error.stack }',
        'try { console.log({ get x() { throw new Error("from getter") } }); null.x } catch (error) { error.stack }',
        'found',
      ].join('\n')
      expect(valueOf(await session.run(code))).toEqual([])
    })

    it('the replaced Proxy behaves like Proxy and every proxy is refused without running traps', async () => {
      await using session = await executor.createSession()
      expect(
        valueOf(
          await session.run(
            [
              'let trapped = false',
              'const handler = { get(t, k) { trapped = true; return Reflect.get(t, k) }, ownKeys(t) { trapped = true; return Reflect.ownKeys(t) } }',
              'const { proxy, revoke } = Proxy.revocable({ a: 1 }, handler)',
              'let notNew',
              'try { Proxy({}, {}) } catch (error) { notNew = error instanceof TypeError }',
              'let refused',
              'try { finalAnswer({ inner: Reflect.construct(Proxy, [{}, handler]) }) } catch (error) { refused = error.message }',
              ';[typeof Proxy, Proxy.name, Proxy.length, Proxy.prototype, notNew, new Proxy({ b: 2 }, {}).b, proxy.a, /prox/i.test(refused), trapped]',
            ].join('\n'),
          ),
        ),
      ).toEqual(['function', 'Proxy', 2, undefined, true, 2, 1, true, true])
    })

    it('values reaching the host are host-realm plain data', async () => {
      await using session = await executor.createSession()
      const value = valueOf(
        await session.run(
          '({ list: [1], map: new Map([[1, 2]]), when: new Date(0), nested: { deep: true } })',
        ),
      ) as Record<string, unknown>
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
      expect(value.list).toBeInstanceOf(Array)
      expect(value.map).toBeInstanceOf(Map)
      expect(value.when).toBeInstanceOf(Date)
      expect(Object.getPrototypeOf(value.nested)).toBe(Object.prototype)
    })

    it('prototype pollution stays inside the session', async () => {
      await using session = await executor.createSession({ tools: [get_state] })
      await session.run(
        "Object.prototype.polluted = 'yes'\nArray.prototype.push = () => 0\nJSON.parse = () => 'hijacked'",
      )
      expect(
        valueOf(await session.run('const s = await get_state({})\n;[s.list.length, s.polluted]')),
      ).toEqual([1, 'yes'])
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(JSON.parse('1')).toBe(1)
    })
  })
}
