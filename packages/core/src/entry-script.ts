/**
 * The source of a script (for `node -e`, or a worker started with `eval: true`) that imports the
 * module `entry` and calls its export `start`. It runs as CommonJS or as a module alike: a worker
 * inherits `--input-type=module` from its process.
 *
 * When `entry` is a TypeScript source, as when a package runs its own tests from `src`, Node
 * strips the types, and a resolve hook maps the sources' `.js` import specifiers to `.ts` files.
 */
export function entryScript(entry: URL, start: string): string {
  const href = JSON.stringify(entry.href)
  const hook = `
const { registerHooks } = process.getBuiltinModule('node:module')
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context)
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(specifier.slice(0, -3) + '.ts', context)
      throw error
    }
  },
})`
  return `${entry.pathname.endsWith('.ts') ? hook : ''}
import(${href}).then((module) => module[${JSON.stringify(start)}]())
`
}
