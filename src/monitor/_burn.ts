/**
 * Error-budget burn from the request counters the primary already sums: the SRE workbook's
 * multi-window, multi-burn-rate alerts. Burn rate is the error ratio over a window divided by the
 * budget (1 − objective); an alert needs both its long and its short window over the factor, so
 * it fires fast on a real outage and stops soon after it ends. Pure: counts and time are given.
 * With a database the counts are every instance's (MonitorStore.requestCounts); without one, this
 * instance's samples kept here are the site's.
 */

export interface RequestCounts {
  /** Requests answered (a counter: never goes back). */
  total: number
  /** Of them, answered with a 5xx. */
  errors: number
}

export interface RequestSample extends RequestCounts {
  at: number
}

export interface BurnWindow {
  severity: 'page' | 'chat'
  factor: number
  longMs: number
  shortMs: number
}

/** The workbook's presets: page at 14.4× (1 h, 5 min) or 6× (6 h, 30 min), ticket at 1× (3 d, 6 h). */
export const workbookWindows = [
  { severity: 'page', factor: 14.4, long: '1h', short: '5m' },
  { severity: 'page', factor: 6, long: '6h', short: '30m' },
  { severity: 'chat', factor: 1, long: '3d', short: '6h' },
] as const

/**
 * How often the counters are sampled: a tenth of the shortest window, between 1 s and 30 s. With
 * the presets, 30 s: 8,640 samples over 3 days per instance (about 200 KB in memory or rows).
 */
export function sampleEveryMs(windows: readonly BurnWindow[]): number {
  const shortest = Math.min(...windows.map((window) => window.shortMs))
  return Math.min(30_000, Math.max(1000, Math.round(shortest / 10)))
}

/**
 * Windows with fewer requests than this are not judged: at 3 requests, one error is a 33 % error
 * ratio, and would page. The cost: a site with very little traffic gets no burn alerts.
 */
const minRequests = 100

export interface Burning {
  window: BurnWindow
  long: number
  short: number
}

export class BurnRate {
  private readonly samples: RequestSample[] = []

  constructor(
    private readonly objective: number,
    readonly windows: readonly BurnWindow[],
  ) {}

  /** Every window length, long and short, that counts are needed for. */
  lengths(): number[] {
    return [...new Set(this.windows.flatMap((window) => [window.longMs, window.shortMs]))]
  }

  /** Keeps this instance's own sample (the history used without a database). */
  add(sample: RequestSample): void {
    const last = this.samples.at(-1)
    // A restart of the counters (a new primary) starts the history again.
    if (last && (sample.total < last.total || sample.errors < last.errors)) this.samples.length = 0
    this.samples.push(sample)
    const keep = sample.at - Math.max(...this.lengths()) - sampleEveryMs(this.windows)
    while ((this.samples[0]?.at ?? Number.POSITIVE_INFINITY) < keep) this.samples.shift()
  }

  /** The kept samples' counts over the last `ms`: from the oldest inside it (else the oldest kept) to the newest. */
  counts(ms: number, now: number): RequestCounts {
    const last = this.samples.at(-1)
    const first = this.samples.find((sample) => sample.at >= now - ms) ?? this.samples[0]
    if (!first || !last) return { total: 0, errors: 0 }
    return { total: last.total - first.total, errors: last.errors - first.errors }
  }

  /** The burn rate of some counts, or undefined with too little traffic to judge. */
  rate(counts: RequestCounts): number | undefined {
    if (counts.total < minRequests) return undefined
    return counts.errors / counts.total / (1 - this.objective)
  }

  /** The windows burning now, each with its rates over the long and the short window. */
  burning(now: number, countsOver = (ms: number) => this.counts(ms, now)): Burning[] {
    const out: Burning[] = []
    for (const window of this.windows) {
      const long = this.rate(countsOver(window.longMs))
      const short = this.rate(countsOver(window.shortMs))
      if (long !== undefined && short !== undefined && long >= window.factor && short >= window.factor)
        out.push({ window, long, short })
    }
    return out
  }
}

/** A window's length as its label shows it: 1h, 30m, 3d, 6s. */
export function lengthLabel(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  return `${ms / 1000}s`
}
