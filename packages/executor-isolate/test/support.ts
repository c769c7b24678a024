import { fileURLToPath } from 'node:url'

/** The directory whose node_modules holds the test packages. */
export const fixturesRoot = fileURLToPath(new URL('./fixtures/', import.meta.url))
