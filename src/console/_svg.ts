/**
 * Charts as inline SVG: drawn on the server, so they need no script, no CDN and nothing the
 * strict CSP would refuse (styles come from the page's nonced stylesheet, none inline).
 */
import { escapeHtml } from '../http/index.js'

function path(given: readonly number[], width: number, height: number, max: number): string {
  if (given.length === 0) return ''
  // One point draws nothing: it is drawn as a level line across.
  const values = given.length === 1 ? [given[0] as number, given[0] as number] : given
  const step = values.length > 1 ? width / (values.length - 1) : 0
  return values
    .map((value, i) => {
      const x = (i * step).toFixed(1)
      const y = (height - 1 - (max > 0 ? (value / max) * (height - 2) : 0)).toFixed(1)
      return `${i === 0 ? 'M' : 'L'}${x} ${y}`
    })
    .join(' ')
}

/** A small line of counts per bucket (an issue's events over 24 h), labelled for screen readers. */
export function sparkline(values: readonly number[], label: string): string {
  const max = Math.max(0, ...values)
  return `<svg class="spark" viewBox="0 0 120 24" role="img" aria-label="${escapeHtml(label)}"><path d="${path(values, 120, 24, max)}"/></svg>`
}

/** A line chart of `values` over time, with an optional objective line and the maximum labelled. */
export function lineChart(
  values: readonly number[],
  label: string,
  options: { objective?: number; format?: (value: number) => string } = {},
): string {
  const format = options.format ?? ((value: number) => value.toFixed(1))
  const max = Math.max(0, options.objective ?? 0, ...values) * 1.1
  const objective =
    options.objective === undefined
      ? ''
      : `<path class="objective" d="${path([options.objective, options.objective], 400, 120, max)}"/>`
  const peak = values.length > 0 ? Math.max(...values) : 0
  return `<svg class="chart" viewBox="0 0 400 120" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(`${label}: ${values.length} points, at most ${format(peak)}`)}">
${objective}<path d="${path(values, 400, 120, max)}"/><text x="4" y="12" font-size="10" fill="#666">${escapeHtml(`${label} · max ${format(peak)}`)}</text></svg>`
}
