import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    typecheck: { enabled: false },
    // isolated-vm needs --no-node-snapshot, which worker threads refuse: test files run in forks.
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
  },
})
