/**
 * The auth events as a metric: every attempt, lockout and unlock that has an audit line is also
 * counted, by action and outcome, so a dashboard or an alert sees a brute-force run (many
 * `sign-in` `failure`s, then `refused-locked`s) without reading logs. Counted in plain numbers
 * per process, as the cache's are; the heartbeat carries them and the primary sums every worker's.
 */
import { contributeMetrics } from '../observe/index.js'

const counts = new Map<string, { action: string; outcome: string; value: number }>()

/** One more event of `action` (sign-in, mfa, lockout, unlock, …) ending in `outcome`. */
export function countAuthEvent(action: string, outcome: string): void {
  const key = `${action}\n${outcome}`
  const entry = counts.get(key)
  if (entry) entry.value++
  else counts.set(key, { action, outcome, value: 1 })
}

contributeMetrics({
  name: 'shipshape_auth_events_total',
  help: 'Attempts at protected areas (sign-in, mfa, recovery, enrol, sign-out), lockouts and unlocks, by outcome.',
  type: 'counter',
  collect: () =>
    [...counts.values()].map(({ action, outcome, value }) => ({ labels: { action, outcome }, value })),
})
