// Module hooks for the DoS runner: the package's TypeScript sources import each other with `.js`
// extensions (as compiled output does); resolve those to the `.ts` files when no `.js` exists.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const url = new URL(specifier, context.parentURL)
    const typescript = new URL(`${url.href.slice(0, -3)}.ts`)
    if (!existsSync(fileURLToPath(url)) && existsSync(fileURLToPath(typescript))) {
      return nextResolve(typescript.href, context)
    }
  }
  return nextResolve(specifier, context)
}
