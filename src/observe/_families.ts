/**
 * Metric families a capability contributes beside the pipeline's: the cache's, the database
 * client's, and any later one's (auth, monitor). A capability declares its families once, when its
 * module loads, each with a `collect()` that reads the plain numbers its hot path bumps. A worker
 * collects them with its timed heartbeat and sends only the families whose numbers changed; the
 * primary keeps each worker's latest, sums them over workers (counters and histograms of exited
 * workers too, so they never go back) and renders them with the rest of /metrics. Nothing here
 * loads prom-client: a worker pays a few object allocations per family per heartbeat, and only
 * when the primary serves metrics.
 */

/** One series of a counter or a gauge: its labels and value. */
export interface ValueSample {
  labels?: Readonly<Record<string, string>>
  value: number
}

/** One series of a histogram: observations per bucket (not cumulative, the last one +Inf), their sum and count. */
export interface HistogramSample {
  labels?: Readonly<Record<string, string>>
  buckets: readonly number[]
  sum: number
  count: number
}

interface Described {
  /** Prometheus name; a counter's ends in `_total`. */
  name: string
  help: string
}

/**
 * A family declared by a capability. Gauges are summed over workers too: declare a gauge only
 * for an amount that adds up (bytes held, connections open), never for a ratio or a maximum.
 */
export type FamilyDefinition =
  | (Described & { type: 'counter' | 'gauge'; collect(): ValueSample[] })
  | (Described & {
      type: 'histogram'
      /** The buckets' upper bounds, in ascending order, without +Inf. */
      bounds: readonly number[]
      collect(): HistogramSample[]
    })

/** A family as a heartbeat carries it: labels rendered once, in the worker. */
export interface MetricFamily {
  name: string
  type: 'counter' | 'gauge' | 'histogram'
  help: string
  bounds?: readonly number[]
  samples: WireSample[]
}

/** `value` is the counter's or gauge's value, or the histogram's count (then with `buckets` and `sum`). */
interface WireSample {
  labels: string
  value: number
  buckets?: readonly number[]
  sum?: number
}

const definitions: FamilyDefinition[] = []
/** Each family's samples as last sent, to send only what changed. */
const lastSent = new Map<string, string>()

/** Declares a capability's metric families; call it once, when the capability's module loads. */
export function contributeMetrics(...families: FamilyDefinition[]): void {
  definitions.push(...families)
}

/** The contributed families whose samples changed since the last call (all of them with `all`). */
export function collectFamilies(all = false): MetricFamily[] {
  const changed: MetricFamily[] = []
  for (const definition of definitions) {
    const family = wireOf(definition)
    const text = JSON.stringify(family.samples)
    if (!all) {
      if (lastSent.get(family.name) === text) continue
      lastSent.set(family.name, text)
    }
    changed.push(family)
  }
  return changed
}

function wireOf(definition: FamilyDefinition): MetricFamily {
  const { name, type, help } = definition
  if (definition.type === 'histogram')
    return {
      name,
      type,
      help,
      bounds: definition.bounds,
      samples: definition.collect().map((sample) => ({
        labels: labelText(sample.labels),
        value: sample.count,
        buckets: sample.buckets,
        sum: sample.sum,
      })),
    }
  return {
    name,
    type,
    help,
    samples: definition
      .collect()
      .map((sample) => ({ labels: labelText(sample.labels), value: sample.value })),
  }
}

export const escapeLabel = (value: string) =>
  value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))

function labelText(labels: Readonly<Record<string, string>> = {}): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
    .join(',')
}

/** Families by name, each with its samples by label text: one worker's, or the sum of several. */
export type FamilySums = Map<string, { family: MetricFamily; samples: Map<string, WireSample> }>

/** Adds `family`'s samples into `into`; gauges only with `gauges` (an exited worker's gauges are gone). */
export function addFamily(into: FamilySums, family: MetricFamily, gauges = true): void {
  if (family.type === 'gauge' && !gauges) return
  let sums = into.get(family.name)
  if (sums === undefined) {
    sums = { family, samples: new Map() }
    into.set(family.name, sums)
  }
  for (const sample of family.samples) {
    const own = sums.samples.get(sample.labels)
    if (own === undefined) {
      sums.samples.set(sample.labels, {
        ...sample,
        ...(sample.buckets ? { buckets: [...sample.buckets] } : {}),
      })
      continue
    }
    own.value += sample.value
    if (own.sum !== undefined) own.sum += sample.sum ?? 0
    if (own.buckets && sample.buckets)
      own.buckets = own.buckets.map((count, i) => count + (sample.buckets?.[i] ?? 0))
  }
}

/** The summed families as Prometheus text (OpenMetrics names a counter's family without `_total`). */
export function renderFamilies(sums: FamilySums, openMetrics: boolean, out: string[]): void {
  for (const { family, samples } of sums.values()) {
    const base = openMetrics && family.type === 'counter' ? family.name.replace(/_total$/, '') : family.name
    out.push(`# HELP ${base} ${family.help}\n# TYPE ${base} ${family.type}\n`)
    for (const sample of samples.values()) {
      if (family.type !== 'histogram') {
        out.push(`${family.name}${braced(sample.labels)} ${sample.value}\n`)
        continue
      }
      const bounds = family.bounds ?? []
      const prefix = sample.labels ? `${sample.labels},` : ''
      let cumulative = 0
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += sample.buckets?.[i] ?? 0
        const le = i < bounds.length ? String(bounds[i]) : '+Inf'
        out.push(`${family.name}_bucket{${prefix}le="${le}"} ${cumulative}\n`)
      }
      out.push(`${family.name}_sum${braced(sample.labels)} ${sample.sum ?? 0}\n`)
      out.push(`${family.name}_count${braced(sample.labels)} ${sample.value}\n`)
    }
  }
}

const braced = (labels: string) => (labels ? `{${labels}}` : '')
