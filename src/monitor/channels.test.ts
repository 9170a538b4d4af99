/**
 * The channels against a real HTTP receiver: Slack's pacing (one message a second per webhook)
 * and splitting at its block limits, and PagerDuty's events for a firing and a resolved alert.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deliver, slackNotifier } from '../observe/index.js'
import { pagerdutyNotifier } from './_channels.js'
import type { Dispatch } from './_dispatch.js'

const received: { at: number; body: Record<string, unknown> }[] = []
let url = ''
const server = createServer(async (req, res) => {
  let text = ''
  for await (const chunk of req) text += chunk
  received.push({ at: performance.now(), body: JSON.parse(text) })
  res.end('ok')
})

beforeAll(async () => {
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
})
afterAll(() => {
  server.close()
})

describe('channels', () => {
  it('Slack: long text split into sections and messages within its limits, one message a second', async () => {
    received.length = 0
    const slack = slackNotifier(url)
    const line = `${'x'.repeat(99)}\n`
    const long = line.repeat(1600) // 160,000 characters: 54 sections of at most 3,000
    await Promise.all([
      slack.send({ title: 'many', text: long }),
      slack.send({ title: 'short', text: 'one line' }),
    ])
    expect(received.map(({ body }) => body.text)).toEqual(['many', 'many (continued)', 'short'])
    const blocks = received.map(({ body }) => body.blocks as { text?: { text: string } }[])
    expect(blocks.map((list) => list.length)).toEqual([50, 5, 2])
    for (const list of blocks)
      for (const block of list) expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000)
    // Cut at line ends, nothing lost.
    const sections = blocks.flat().filter((block) => block.text?.text.startsWith('x'))
    expect(sections.map((block) => block.text?.text).join('\n')).toBe(long)
    const gaps = received.slice(1).map((entry, i) => entry.at - (received[i] as { at: number }).at)
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950) // a second from each answer, less the receiver's own timing
  })

  it('PagerDuty: a trigger per firing alert and a resolve, under the same dedup_key', async () => {
    received.length = 0
    const alert = {
      labels: { alertname: 'SiteDown', severity: 'page', check: 'home' },
      summary: 'home is down',
      startsAt: Date.UTC(2026, 0, 1),
      fingerprint: 'alertname=SiteDown,check=home,severity=page',
    }
    const dispatch = (status: 'firing' | 'resolved'): Dispatch => ({
      groupKey: 'g',
      groupLabels: { alertname: 'SiteDown', severity: 'page' },
      channels: ['pagerduty'],
      status,
      alerts: [{ ...alert, status }],
      hash: status,
      quiet: false,
    })
    const counts = { sent: {}, failed: {} }
    const logger = pino({ level: 'silent' })
    for (const status of ['firing', 'resolved'] as const) {
      const notifier = pagerdutyNotifier({ key: 'routing-key', url }, dispatch(status), 'server-a')
      await deliver([notifier], { title: '', text: '' }, logger, counts)
    }
    expect(received.map(({ body }) => body.event_action)).toEqual(['trigger', 'resolve'])
    expect(received[0]?.body).toMatchObject({
      routing_key: 'routing-key',
      payload: {
        summary: 'home is down',
        source: 'server-a',
        severity: 'critical',
        custom_details: alert.labels,
      },
    })
    expect(received[0]?.body.dedup_key).toMatch(/^[0-9a-f]{32}$/)
    expect(received[1]?.body.dedup_key).toBe(received[0]?.body.dedup_key)
    expect(counts.sent).toEqual({ pagerduty: 2 })
  })
})
