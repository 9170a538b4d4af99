import { defineConfig } from 'vitest/config'

// Tests start real processes and sockets; on a 2-core machine they need room.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'examples/**/*.test.ts'],
    // Debian's Chromium for the demo's browser test, installed when missing (as the frameworks suite does).
    globalSetup: ['frameworks/_setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
})
