import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test starts the CLI as a process, and the isolate executor its sandbox processes.
    testTimeout: 60_000,
  },
})
