// Workloads: each is the body of a function that returns a checksum depending on all of its work,
// so a peer that skips or miscomputes anything is caught by comparing with native V8.
// `N` is replaced by the size before running.

export const workloads = {
  fib: {
    size: 19,
    body: `
      function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }
      return fib(N)`,
  },
  loop: {
    size: 3e5,
    body: `
      let sum = 0
      for (let i = 0; i < N; i++) sum = (sum + i * i) % 1000003
      return sum`,
  },
  array: {
    size: 2e4,
    body: `
      const values = []
      for (let i = 0; i < N; i++) values.push((i * 7919) % 1009)
      return values.map((v) => v * 3).filter((v) => v % 2 === 0).reduce((total, v) => (total + v) % 1000003, 0)`,
  },
  objects: {
    size: 1e4,
    body: `
      let seed = 42
      const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648)
      const items = []
      for (let i = 0; i < N; i++) items.push({ a: next() % 100, b: next() % 1000, c: i })
      for (const item of items) item.c = item.a * 3 + item.b
      items.sort((x, y) => x.a - y.a || x.b - y.b)
      let check = 0
      for (let i = 0; i < items.length; i++) check = (check * 31 + items[i].c + i) % 1000003
      return check`,
  },
  strings: {
    size: 1e4,
    body: `
      let text = ''
      for (let i = 0; i < N; i++) text += \`item-\${i % 97}:\${(i * 13) % 101};\`
      const joined = text.split(';').join('|')
      let hash = 0
      for (let i = 0; i < joined.length; i++) hash = (hash * 31 + joined.charCodeAt(i)) % 1000003
      return hash`,
  },
  closures: {
    size: 1e5,
    body: `
      const makeCounter = (start) => { let count = start; return () => ++count }
      let counter = makeCounter(0)
      let total = 0
      for (let i = 0; i < N; i++) {
        if (i % 10 === 0) counter = makeCounter(i)
        total = (total + counter()) % 1000003
      }
      return total`,
  },
  json: {
    size: 1e3,
    body: `
      const records = []
      for (let i = 0; i < N; i++) records.push({ id: i, name: 'user' + i, tags: ['a', 'b', String(i % 7)], nested: { score: i % 13, ok: i % 2 === 0 } })
      const copy = JSON.parse(JSON.stringify(records))
      let check = 0
      for (const record of copy) check = (check + record.id * 3 + record.tags.length + record.nested.score + (record.nested.ok ? 1 : 0) + record.name.length) % 1000003
      return check`,
  },
  agent: {
    size: 200,
    body: `
      const regions = ['north', 'south', 'east', 'west']
      const lines = ['id,region,amount,qty,date']
      for (let i = 0; i < N; i++) {
        lines.push(\`r\${i},\${regions[i % 4]},\${((i * 37) % 1000) / 10},\${(i % 7) + 1},2026-\${String((i % 12) + 1).padStart(2, '0')}-15\`)
      }
      const csv = lines.join('\\n')
      const [header, ...body] = csv.split(/\\r?\\n/)
      const columns = header.split(',')
      const records = []
      body.forEach((line) => {
        const cells = line.split(',')
        const record = {}
        columns.forEach((column, index) => { record[column] = cells[index] })
        record.amount = parseFloat(record.amount)
        record.qty = Number(record.qty)
        records.push(record)
      })
      const groups = {}
      for (const record of records) (groups[record.region] ??= []).push(record)
      const stats = Object.entries(groups)
        .map(([region, list]) => {
          const amounts = list.map((r) => r.amount * r.qty).sort((a, b) => a - b)
          const mean = amounts.reduce((sum, x) => sum + x, 0) / amounts.length
          const median = amounts.length % 2 ? amounts[(amounts.length - 1) / 2] : (amounts[amounts.length / 2 - 1] + amounts[amounts.length / 2]) / 2
          const std = Math.sqrt(amounts.reduce((sum, x) => sum + (x - mean) ** 2, 0) / amounts.length)
          const months = new Set(list.map((r) => r.date.slice(0, 7))).size
          return { region, count: list.length, mean, median, std, months }
        })
        .sort((a, b) => b.mean - a.mean || a.region.localeCompare(b.region))
      const best = stats[0]
      const report = [
        \`Regions by mean order value (\${records.length} orders)\`,
        ...stats.map(({ region, count, mean, median, std, months }) =>
          \`- \${region.padEnd(6)} n=\${count} mean=\${mean.toFixed(2)} median=\${median.toFixed(2)} sd=\${std.toFixed(2)} months=\${months}\`),
        \`Best: \${best.region} (\${((best.mean / stats[stats.length - 1].mean - 1) * 100).toFixed(1)}% above the lowest)\`,
      ].join('\\n')
      return report`,
  },
}

/** The source of a workload as a self-contained expression: an immediately called function. */
export function workloadSource(name, size = workloads[name].size) {
  return `(function () {${workloads[name].body.replace(/\bN\b/g, String(size))}\n})()`
}
