import { createIsolateExecutor } from './dist/index.js'
import { prepareRun } from '@airlock/core'
const ex = createIsolateExecutor({ isolation: 'in-process' })
const s = await ex.createSession()
for (const code of [
  '['.repeat(100000) + ']'.repeat(100000),
  'x = ' + '('.repeat(50000) + '1' + ')'.repeat(50000),
  'const ' + '['.repeat(20000) + 'a' + ']'.repeat(20000) + ' = 1 +',
  '('.repeat(100000) + ': number' + ')'.repeat(100000),
]) {
  try {
    const r = prepareRun(code, { importFunction: '__airlock_import', maxValueBytes: 1000 })
    console.log('prepareRun', 'error' in r ? r.error.message.slice(0, 80) : 'ok')
  } catch (e) {
    console.log('prepareRun threw', e.constructor.name)
  }
  const o = await s.run(code)
  console.log(o.type, o.type === 'error' ? o.error.name + ': ' + o.error.message.slice(0, 100) : '')
}
await s.dispose()
