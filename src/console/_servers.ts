/** Servers: CPU, memory, disk and event-loop lag of each instance over time, from the primary's samples. */
import { bytes, card, esc, ms, page, when } from './_layout.js'
import { ConsoleStore, type ServerSample } from './_store.js'
import { lineChart } from './_svg.js'
import { dayMs, type View } from './_view.js'

/** Points drawn per chart at most: a day of minutes is folded into 5-minute means. */
const maxPoints = 300

function folded(values: readonly number[]): number[] {
  if (values.length <= maxPoints) return [...values]
  const size = Math.ceil(values.length / maxPoints)
  const out: number[] = []
  for (let i = 0; i < values.length; i += size) {
    const part = values.slice(i, i + size)
    out.push(part.reduce((sum, value) => sum + value, 0) / part.length)
  }
  return out
}

export async function serversPage(view: View): Promise<string> {
  const { now, host } = view
  const samples = await new ConsoleStore(view.pool).samples(now - dayMs)
  const byHost = new Map<string, ServerSample[]>()
  for (const sample of samples) byHost.set(sample.host, [...(byHost.get(sample.host) ?? []), sample])
  const sections = [...byHost].map(([name, own]) => {
    const last = own.at(-1) as ServerSample
    const chart = (label: string, pick: (s: ServerSample) => number, format: (v: number) => string) =>
      lineChart(folded(own.map(pick)), label, { format })
    return `<h2>${esc(name)}</h2>
<p class="muted">${own.length} samples in 24 h, the last ${when(last.at, now)}; ${last.workers} workers.</p>
<div class="cards">
${card('CPU', `${last.cpuPercent.toFixed(1)}%`, `load ${last.load1.toFixed(2)}`)}
${card('Memory used', bytes(last.memUsedBytes), `of ${bytes(last.memTotalBytes)}; workers ${bytes(last.rssBytes)}`)}
${card('Disk free (data)', bytes(last.diskFreeBytes), `of ${bytes(last.diskSizeBytes)}`, last.diskSizeBytes > 0 && last.diskFreeBytes / last.diskSizeBytes < 0.1 ? 'bad' : '')}
${card('Event-loop lag (p99, worst worker)', ms(last.loopLagMs), '', last.loopLagMs > 100 ? 'warn' : 'ok')}
</div>
${chart(
  'CPU (%)',
  (s) => s.cpuPercent,
  (v) => `${v.toFixed(1)}%`,
)}
${chart('Memory used', (s) => s.memUsedBytes, bytes)}
${chart('Disk free', (s) => s.diskFreeBytes, bytes)}
${chart('Event-loop lag (ms)', (s) => s.loopLagMs, ms)}`
  })
  const empty =
    host.console.sampleIntervalMs > 0
      ? `<p class="muted">No sample yet: the primary records one every ${ms(host.console.sampleIntervalMs)}.</p>`
      : '<p class="muted">Sampling is off (console.sampleInterval is 0).</p>'
  return page(view, 'Servers', sections.join('\n') || empty)
}
