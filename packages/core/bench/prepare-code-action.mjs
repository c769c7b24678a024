// Micro-benchmark of prepareCodeAction: warm median time per call on typical code actions.
//
//   cd packages/core && npx tsc -p tsconfig.build.json && node bench/prepare-code-action.mjs
//
// Options: --iterations=N (timed calls per case, default 2000), --case=NAME (run one case),
// --print (print the inputs and scripts instead of timing).
// Profile with: node --cpu-prof --cpu-prof-dir=/tmp/prof bench/prepare-code-action.mjs --case=agent-step
import { performance } from 'node:perf_hooks'
import { prepareCodeAction, stripTypeScript } from '../dist/index.js'

const options = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => {
      const [key, value = 'true'] = arg.slice(2).split('=')
      return [key, value]
    }),
)
const iterations = Number(options.iterations ?? 2000)

// (a) An agent step: a CSV built in code, parsed, grouped, sorted and reported.
const agentStep = `const rows = []
for (let i = 0; i < 200; i++) rows.push(\`r\${i},\${['north','south','east','west'][i % 4]},\${(i * 37) % 1000 / 10},\${i % 7}\`)
const csv = 'id,region,amount,qty\\n' + rows.join('\\n')
const records = csv.split('\\n').slice(1).map((line) => { const [id, region, amount, qty] = line.split(','); return { id, region, amount: parseFloat(amount), qty: Number(qty) } })
const groups = {}
records.forEach((r) => { (groups[r.region] ??= []).push(r) })
const stats = Object.entries(groups).map(([region, list]) => {
  const amounts = list.map((r) => r.amount).sort((a, b) => a - b)
  const mean = amounts.reduce((s, x) => s + x, 0) / amounts.length
  const median = amounts[Math.floor(amounts.length / 2)]
  const std = Math.sqrt(amounts.reduce((s, x) => s + (x - mean) ** 2, 0) / amounts.length)
  return { region, count: list.length, mean, median, std }
}).sort((a, b) => b.mean - a.mean)
const report = stats.map(({ region, count, mean, median, std }) => \`\${region.padEnd(6)} n=\${count} mean=\${mean.toFixed(2)} median=\${median} sd=\${std.toFixed(2)}\`).join('\\n')
console.log(report)
report.length`

// (b) A typical 40-line model step written in TypeScript.
const typedStep = `import { groupBy } from "lodash"
interface Order { id: string; customer: string; total: number; items: Array<{ sku: string; qty: number }> }
type Summary = { customer: string; orders: number; revenue: number; topSku?: string }

const raw = await get_orders({ since: "2024-01-01", limit: 500 })
const orders: Order[] = (raw as { orders: Order[] }).orders.filter((o) => o.total > 0)
if (orders.length === 0) {
  finalAnswer("No orders found")
}

function topSku(list: Order[]): string | undefined {
  const counts = new Map<string, number>()
  for (const order of list) {
    for (const item of order.items) {
      counts.set(item.sku, (counts.get(item.sku) ?? 0) + item.qty)
    }
  }
  let best: string | undefined
  let bestCount = -1
  for (const [sku, count] of counts) {
    if (count > bestCount) {
      best = sku
      bestCount = count
    }
  }
  return best
}

const byCustomer = groupBy(orders, (o: Order) => o.customer) as Record<string, Order[]>
const summaries: Summary[] = Object.entries(byCustomer).map(([customer, list]): Summary => ({
  customer,
  orders: list.length,
  revenue: list.reduce((sum: number, o) => sum + o.total, 0),
  topSku: topSku(list),
}))
summaries.sort((a, b) => b.revenue - a.revenue)
const top = summaries.slice(0, 10) satisfies Summary[]
let table = top.map((s, i) => \`\${i + 1}. \${s.customer.padEnd(20)} \${s.revenue.toFixed(2)} (\${s.orders} orders, top \${s.topSku ?? "-"})\`)
console.log(table.join("\\n"))
const total = summaries.reduce((sum, s) => sum + s.revenue, 0)
;({ customers: summaries.length, total, top: top[0]!.customer })`

// (c) A 2,000-line file: a mix of declarations, functions, classes, loops and typed code.
function largeFile(lines) {
  const out = ['import { helper } from "utils"', 'const registry = new Map()']
  for (let i = 0; out.length < lines - 6; i++) {
    switch (i % 5) {
      case 0:
        out.push(`const value${i} = helper(${i}, "item-${i}", { weight: ${i * 3} })`)
        break
      case 1:
        out.push(
          `function compute${i}(input, factor = ${i}) {`,
          `  let total = 0`,
          `  for (let j = 0; j < input.length; j++) total += input[j] * factor`,
          `  return total > ${i} ? total : -total`,
          `}`,
        )
        break
      case 2:
        out.push(
          `class Item${i} {`,
          `  constructor(name) { this.name = name; this.id = ${i} }`,
          `  describe() { return \`\${this.name}#\${this.id}\` }`,
          `}`,
        )
        break
      case 3:
        out.push(`let list${i} = [${i}, ${i + 1}, ${i + 2}].map((x) => x * 2).filter((x) => x % 3 !== 0)`)
        break
      case 4:
        out.push(
          `for (var k${i} = 0; k${i} < 3; k${i}++) {`,
          `  registry.set("k${i}-" + k${i}, compute${i - 3}(list${i - 1}, k${i}))`,
          `}`,
        )
        break
    }
  }
  while (out.length < lines - 1) out.push(`registry.set("pad${out.length}", ${out.length})`)
  out.push('registry.size')
  return out.join('\n')
}

// The colleague's case: a 20-line snippet holding a 6 KB string literal.
const withLiteral = `const template = ${JSON.stringify('lorem ipsum dolor sit amet '.repeat(230))}
${agentStep.split('\n').slice(0, 18).join('\n')}
template.length + report.length`

const cases = [
  { name: 'agent-step', code: agentStep },
  { name: 'typed-40-lines', code: typedStep },
  { name: 'file-2000-lines', code: largeFile(2000) },
  { name: '6kb-string-literal', code: withLiteral },
]

const prepareOptions = { importFunction: '__airlock_import' }

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]
}

/** Warm median of `fn` in ms: every call timed, after warm-up calls not counted. */
function measure(fn, count) {
  // Enough warm-up for the JIT to settle (and for amaro to load, on the first case).
  for (let i = 0; i < Math.max(200, count / 4); i++) fn()
  const times = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    fn()
    times[i] = performance.now() - start
  }
  return median(times)
}

const selected = options.case ? cases.filter((c) => c.name === options.case) : cases
if (selected.length === 0) throw new Error(`No case named ${options.case}`)
if (options.print) {
  // --print: show the inputs (and what they become) instead of timing them.
  for (const { name, code } of selected) {
    console.log(
      `--- ${name}\n${code}\n--- ${name} prepared\n${prepareCodeAction(code, prepareOptions).script}`,
    )
  }
  process.exit(0)
}

const rows = []
for (const { name, code } of selected) {
  // Fewer iterations for large inputs, so the run stays short.
  const count = Math.max(50, Math.round(iterations * Math.min(1, 4000 / code.length)))
  const prepare = measure(() => prepareCodeAction(code, prepareOptions), count)
  const strip = measure(() => stripTypeScript(code), count)
  rows.push({
    case: name,
    lines: code.split('\n').length,
    chars: code.length,
    'prepare ms': prepare.toFixed(4),
    'µs/line': ((prepare * 1000) / code.split('\n').length).toFixed(2),
    'stripTypeScript ms': strip.toFixed(4),
  })
}
console.table(rows)
