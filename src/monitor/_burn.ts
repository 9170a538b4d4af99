/**
 * Error-budget burn from the request counters the primary already sums: the SRE workbook's
 * multi-window, multi-burn-rate alerts. Burn rate is the error ratio over a window divided by the
 * budget (1 − objective); an alert needs both its long and its short window over the factor, so
 * it fires fast on a real outage and stops soon after it ends. Pure: samples and time are given.
 */

export interface RequestSample {
  at: number
  /** Requests answered so far (a counter: never goes back). */
  total: number
  /** Of them, answered with a 5xx. */
  errors: number
}

export interface BurnWindow {
  severity: 'page' | 'chat'
  factor: number
  longMs: number
  shortMs: number
}

const minute = 60_000
const hour = 60 * minute

/** The workbook's presets: page at 14.4× (1 h, 5 min) or 6× (6 h, 30 min), ticket at 1× (3 d, 6 h). */
export const burnWindows: readonly BurnWindow[] = [
  { severity: 'page', factor: 14.4, longMs: hour, shortMs: 5 * minute },
  { severity: 'page', factor: 6, longMs: 6 * hour, shortMs: 30 * minute },
  { severity: 'chat', factor: 1, longMs: 3 * 24 * hour, shortMs: 6 * hour },
]

/** How often the counters are sampled, and so how many samples 3 days keep (8,640: about 200 KB). */
export const sampleEveryMs = 30_000

/**
 * Windows with fewer requests than this are not judged: at 3 requests, one error is a 33 % error
 * ratio, and would page. The cost: a site with very little traffic gets no burn alerts.
 */
const minRequests = 100

export class BurnRate {
  private readonly samples: RequestSample[] = []

  constructor(
    private readonly objective: number,
    private readonly windows: readonly BurnWindow[] = burnWindows,
  ) {}

  add(sample: RequestSample): void {
    const last = this.samples.at(-1)
    // A restart of the counters (a new primary) starts the history again.
    if (last && (sample.total < last.total || sample.errors < last.errors)) this.samples.length = 0
    this.samples.push(sample)
    const keep = sample.at - Math.max(...this.windows.map((window) => window.longMs)) - sampleEveryMs
    while ((this.samples[0]?.at ?? Number.POSITIVE_INFINITY) < keep) this.samples.shift()
  }

  /** The burn rate over the last `ms`, or undefined with too little traffic to judge. */
  rate(ms: number, now: number): number | undefined {
    const last = this.samples.at(-1)
    if (!last) return undefined
    // The oldest sample inside the window, else the oldest there is (the history is shorter).
    const first = this.samples.find((sample) => sample.at >= now - ms) ?? this.samples[0]
    if (!first || first === last) return undefined
    const total = last.total - first.total
    if (total < minRequests) return undefined
    return (last.errors - first.errors) / total / (1 - this.objective)
  }

  /** The windows burning now: each with its rates over the long and the short window. */
  burning(now: number): { window: BurnWindow; long: number; short: number }[] {
    const out: { window: BurnWindow; long: number; short: number }[] = []
    for (const window of this.windows) {
      const long = this.rate(window.longMs, now)
      const short = this.rate(window.shortMs, now)
      if (long !== undefined && short !== undefined && long >= window.factor && short >= window.factor)
        out.push({ window, long, short })
    }
    return out
  }
}
