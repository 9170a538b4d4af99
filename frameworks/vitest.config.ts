import { defineConfig } from 'vitest/config'

// Real framework builds and a real browser: each file installs and builds its fixture once (cached).
export default defineConfig({
  test: {
    include: ['frameworks/*.test.ts'],
    globalSetup: ['frameworks/_setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
  },
})
