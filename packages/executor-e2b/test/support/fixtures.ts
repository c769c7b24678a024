import type { ImportFixture } from '@airlock/core/testing'

/**
 * A CommonJS package baked into the fake's `code-interpreter-v1` template under /home/user, as a
 * custom E2B template would bake in npm packages; CommonJS so `require` works on Node 20 too.
 */
export const fixtureTemplateFiles: Readonly<Record<string, string>> = {
  '/home/user/node_modules/airlock-e2b-fixture/package.json': JSON.stringify({
    name: 'airlock-e2b-fixture',
    version: '1.0.0',
    main: 'index.js',
  }),
  '/home/user/node_modules/airlock-e2b-fixture/index.js': 'exports.add = (a, b) => a + b\n',
}

export const importFixture: ImportFixture = {
  module: 'airlock-e2b-fixture',
  exportName: 'add',
  args: [2, 3],
  expected: 5,
}
