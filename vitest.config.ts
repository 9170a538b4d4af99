import { defineConfig } from 'vitest/config'

// Tests start real processes and sockets; on a 2-core machine they need room.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
})
