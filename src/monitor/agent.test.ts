/** The agent's buffer, while the app cannot be reached: bounded, the oldest results dropped first. */
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { sleep } from '../_test/cli.js'
import { startAgent } from './_agent.js'
import { checkSchema, checksOf } from './_checks.js'

describe('the agent', () => {
  it('keeps at most its bound of results while the app is unreachable', async () => {
    const checks = checksOf([
      checkSchema.parse({ name: 'a', tcp: '127.0.0.1:1', interval: '50ms', timeout: '20ms' }),
      checkSchema.parse({ name: 'b', tcp: '127.0.0.1:1', interval: '50ms', timeout: '20ms' }),
    ])
    const agent = startAgent({
      app: 'http://127.0.0.1:1', // nothing listens: every report fails
      token: 'a-token-of-sixteen-chars',
      vantage: 'lonely',
      checks,
      bufferLimit: 5,
      logger: pino({ level: 'silent' }),
    })
    await sleep(1000)
    await agent.stop()
    expect(agent.pending()).toBe(5)
    expect(agent.dropped()).toBeGreaterThan(10)
  })
})
