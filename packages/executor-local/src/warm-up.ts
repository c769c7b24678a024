import type { Interpreter } from './interpreter.js'

/**
 * Code of ours, run once in a spare realm before a session takes it. V8 compiles and optimizes
 * the realm's own functions (the trampolines sandbox callbacks go through, the literal builders,
 * the guarded built-ins) per realm, so they start cold in every new one, and the first run of a
 * session paid for that. This exercises what code actions commonly do: callbacks through array
 * methods, object literals, strings, JSON, Map and Set.
 *
 * It leaves nothing behind that sandbox code could see: no global or top-level declaration, no
 * regular expression (whose legacy statics, `RegExp.$1`, would keep its last match), nothing
 * kept after it returns.
 */
const WARM_UP_SOURCE = `(() => {
  'use strict'
  let total = 0
  for (let round = 0; round < 10; round++) {
    const items = []
    for (let i = 0; i < 12; i++) items.push({ id: i, name: 'item' + i, score: (i * 7) % 5, tags: ['a', 'b'] })
    const byScore = {}
    items.forEach((item) => {
      ;(byScore[item.score] ??= []).push(item)
    })
    const rows = Object.entries(byScore).map(([score, list]) => ({
      score: Number(score),
      count: list.length,
      names: list.map((item) => item.name).join(','),
    }))
    rows.sort((a, b) => b.count - a.count || a.score - b.score)
    const kept = items
      .filter(function (item) {
        return item.score > 1
      })
      .map(({ id, ...rest }) => rest.name.length + id)
    total += kept.reduce((sum, x) => sum + x, 0) + rows.length
    total += items.some((item) => item.id === 3) ? 1 : 0
    total += items.find((item) => item.score === 4)?.id ?? 0
    const text = rows.map((row) => \`\${String(row.score).padStart(3)} \${row.count.toFixed(1)}\`).join('\\n')
    total += text.split('\\n').length + text.slice(0, 5).trim().length
    const parsed = JSON.parse(JSON.stringify(rows[0]))
    total += parsed.count + Object.keys(parsed).length + Math.max(...kept.slice(0, 3))
    const counts = new Map()
    for (const item of items) counts.set(item.score, (counts.get(item.score) ?? 0) + 1)
    total += new Set(items.map((item) => item.score)).size + counts.size
  }
  return total
})()`

/** What `WARM_UP_SOURCE` returns (a check that it ran to the end). */
const WARM_UP_RESULT = 1170

/** Runs the warm-up in `interpreter`'s realm; throws if it did not complete as expected. */
export function warmUp(interpreter: Interpreter): void {
  const result = interpreter.compile(WARM_UP_SOURCE, { mode: 'script', topLevelAwait: false }).run()
  if (result !== WARM_UP_RESULT) throw new Error(`The realm warm-up returned ${String(result)}.`)
}
