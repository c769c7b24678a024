// Checks the contract of `prepareCodeActionQuickly` over every .js file under a directory (test262's
// `test` folder, say) and seeded variations of each: the quick reading gives up, or its script does
// not compile, or it equals `prepareCodeAction`'s result. Build first (pnpm build), then:
//   node scripts/check-quick-reading.mjs <directory> [variations per file, default 4] [seed]
// Exits 1 and prints the first cases when the contract fails.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import vm from 'node:vm'
import { codeVariations } from '../dist/code-variations.js'
import { prepareCodeAction, prepareCodeActionQuickly } from '../dist/index.js'

const [directory, variationsArgument = '4', seedArgument = '1'] = process.argv.slice(2)
if (directory === undefined) {
  console.error('usage: node scripts/check-quick-reading.mjs <directory> [variations] [seed]')
  process.exit(2)
}
const variations = Number(variationsArgument)
const seed = Number(seedArgument)
const options = { importFunction: '__airlock_import' }

function* files(path) {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name)
    if (entry.isDirectory()) yield* files(child)
    else if (entry.name.endsWith('.js') && !entry.name.includes('_FIXTURE')) yield child
  }
}

const counts = { checked: 0, 'gave up': 0, 'does not compile': 0, same: 0 }
const failures = []
function check(code, origin) {
  counts.checked++
  const quick = prepareCodeActionQuickly(code, options)
  if (quick === undefined) return void counts['gave up']++
  try {
    new vm.Script(quick.script)
  } catch (error) {
    if (error instanceof SyntaxError) return void counts['does not compile']++
    throw error
  }
  let full
  try {
    full = prepareCodeAction(code, options)
  } catch (error) {
    return void failures.push({ origin, code, problem: `the full preparation refuses it (${error.message})` })
  }
  if (full.script !== quick.script || full.declaredNames.join() !== quick.declaredNames.join()) {
    return void failures.push({
      origin,
      code,
      problem: 'the results differ',
      full: full.script,
      quick: quick.script,
    })
  }
  counts.same++
}

let fileIndex = 0
for (const path of files(directory)) {
  // test262's front matter is a comment: keep the code only.
  const code = readFileSync(path, 'utf8').replace(/\/\*---[\s\S]*?---\*\//, '')
  check(code, path)
  for (const variation of codeVariations(code, variations, seed + fileIndex++)) {
    check(variation, `${path} (a variation)`)
  }
}
console.log(counts)
if (failures.length > 0) {
  console.log(`${failures.length} cases break the contract; the first ones:`)
  for (const failure of failures.slice(0, 5)) console.log(JSON.stringify(failure, null, 1))
  process.exit(1)
}
