/** The primary's sums of the capabilities' families: over workers, past workers' counters kept, their gauges gone. */
import { describe, expect, it } from 'vitest'
import type { MetricFamily } from './index.js'
import { MetricsAggregator, sampleProcess } from './index.js'

const http = {
  series: [],
  timeouts: 0,
  inflight: 0,
  webSockets: { open: 0, closed: 0, bytesIn: 0, bytesOut: 0 },
}
const families = (hits: number, bytes: number, observed: number[]): MetricFamily[] => [
  {
    name: 'demo_hits_total',
    type: 'counter',
    help: 'Hits.',
    samples: [{ labels: 'cache="a"', value: hits }],
  },
  { name: 'demo_bytes', type: 'gauge', help: 'Bytes.', samples: [{ labels: '', value: bytes }] },
  {
    name: 'demo_seconds',
    type: 'histogram',
    help: 'Time.',
    bounds: [0.1, 1],
    samples: [{ labels: 'op="get"', value: observed.reduce((a, b) => a + b), buckets: observed, sum: 2 }],
  },
]

describe('contributed families', () => {
  it('sums workers, keeps an exited worker’s counters and histograms, drops its gauges', async () => {
    const aggregator = new MetricsAggregator()
    aggregator.receive(1, { http, families: families(3, 100, [1, 2, 0]) })
    aggregator.receive(2, { http, families: families(4, 50, [0, 1, 1]) })
    let text = await aggregator.render(false, sampleProcess())
    expect(text).toContain('# TYPE demo_hits_total counter\ndemo_hits_total{cache="a"} 7\n')
    expect(text).toContain('demo_bytes 150\n')
    expect(text).toContain(
      [
        'demo_seconds_bucket{op="get",le="0.1"} 1',
        'demo_seconds_bucket{op="get",le="1"} 4',
        'demo_seconds_bucket{op="get",le="+Inf"} 5',
        'demo_seconds_sum{op="get"} 4',
        'demo_seconds_count{op="get"} 5',
      ].join('\n'),
    )
    aggregator.exited(1)
    // A later beat that leaves a family out means it did not change.
    aggregator.receive(2, { http, families: [] })
    text = await aggregator.render(false, sampleProcess())
    expect(text).toContain('demo_hits_total{cache="a"} 7\n')
    expect(text).toContain('demo_bytes 50\n')
    expect(text).toContain('demo_seconds_count{op="get"} 5\n')
    const open = await aggregator.render(true, sampleProcess())
    expect(open).toContain('# TYPE demo_hits counter\ndemo_hits_total{cache="a"} 7\n')
  })
})
