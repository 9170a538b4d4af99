/** The Grafana dashboard in docs/ uses only metric names the primary serves. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { sampleMachine } from './_machine.js'
import { MetricsAggregator, sampleProcess } from './index.js'

describe('the Grafana dashboard', () => {
  it('queries exactly the metrics the primary renders', async () => {
    const dashboard = JSON.parse(
      readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
    )
    const exprs: string[] = dashboard.panels.flatMap((panel: { targets: { expr: string }[] }) =>
      panel.targets.map((target) => target.expr),
    )
    const used = new Set(
      exprs.flatMap((expr) => expr.match(/\b(?:http|shipshape|nodejs|process|node)_[A-Za-z0-9_]+/g) ?? []),
    )
    const aggregator = new MetricsAggregator()
    aggregator.receive(1, {
      http: {
        series: [
          { method: 'GET', route: '/', status: 200, count: 1, sum: 0.1, buckets: new Array(13).fill(0) },
        ],
        timeouts: 0,
        inflight: 0,
        webSockets: { open: 0, closed: 0, bytesIn: 0, bytesOut: 0 },
      },
      process: sampleProcess(),
    })
    const text = await aggregator.render(false, sampleProcess(), await sampleMachine({ data: process.cwd() }))
    const served = new Set([...text.matchAll(/^([a-zA-Z_:][\w:]*?)(?:\{| )/gm)].map((match) => match[1]))
    expect(used.size).toBeGreaterThan(15)
    expect([...used].filter((name) => !served.has(name))).toEqual([])
  })
})
