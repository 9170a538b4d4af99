import { parseArgs } from 'node:util'
import { parseDuration } from '../config/index.js'
import { ShipshapeError } from '../errors/index.js'
import { startAgent } from '../monitor/index.js'
import { checksOf } from '../monitor/settings.js'
import { createLogger } from '../observe/index.js'
import { loadSettingsOnly } from '../server/index.js'
import type { Command } from '../types.js'

export const command: Command = {
  help: `Usage: shipshape monitor <app-url> [--token <token>] [--vantage <name>] [--config <file>]
       shipshape monitor silence add <app-url> --match <label=value>… (--for <duration> | --until <date> | --until-resolved) [--comment <text>]
       shipshape monitor silence list <app-url>
       shipshape monitor silence expire <app-url> <id>

Without "silence": runs as an agent. It probes the checks of the config file's monitor section
(the same file the app reads, or a copy) from this machine, and reports each result to the app
at <app-url>/_shipshape/monitor/report. The app counts the site down only when enough vantage
points agree (monitor.quorum), so one agent's bad network pages nobody. While the app cannot be
reached, results are kept (10,000 at most, the oldest dropped first) and sent once it can.

"silence" adds, lists or ends silences through the app's monitor API: an alert whose labels
match (alertname, check, severity, vantage, heartbeat, a check's own labels) is not notified
while the silence runs. --until-resolved mutes it until it resolves.

Options:
  --token <token>
      A token from the app's monitor.tokens.
      env SHIPSHAPE_MONITOR_TOKENS (the first one); default none (refused with 401)
  --vantage <name>
      This agent's name in results and alerts.
      env SHIPSHAPE_MONITOR_VANTAGE; default agent-<host name>
  --config <file>
      The config file holding monitor.checks.
      env SHIPSHAPE_CONFIG; default the first of shipshape.{yaml,yml,json,toml} that exists
  --match <label=value>
      For silence add, repeatable: every label must match.
  --for <duration>, --until <ISO date>, --until-resolved
      For silence add: how long the silence runs.
  --comment <text>
      For silence add: why, for the others.
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        token: { type: 'string' },
        vantage: { type: 'string' },
        config: { type: 'string' },
        match: { type: 'string', multiple: true },
        for: { type: 'string' },
        until: { type: 'string' },
        'until-resolved': { type: 'boolean' },
        comment: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    })
    const settings = loadSettingsOnly(['monitor.checks', 'monitor.tokens'], { configFile: values.config })
    const token = values.token ?? (settings['monitor.tokens'] as string[])[0] ?? ''
    if (positionals[0] === 'silence') return silence(positionals.slice(1), values, token)
    const [app, ...rest] = positionals
    if (app === undefined || rest.length > 0 || !/^https?:\/\//.test(app))
      throw new ShipshapeError(
        'SHIPSHAPE_E_USAGE',
        'shipshape monitor takes the app’s URL, such as https://example.com',
      )
    const checks = checksOf(settings['monitor.checks'] as Parameters<typeof checksOf>[0], app)
    if (checks.length === 0)
      throw new ShipshapeError('SHIPSHAPE_E_USAGE', 'no checks to run: the config file has no monitor.checks')
    const { hostname } = await import('node:os')
    const vantage = values.vantage ?? process.env.SHIPSHAPE_MONITOR_VANTAGE ?? `agent-${hostname()}`
    const logger = createLogger({ buffered: false })
    const agent = startAgent({ app, token, vantage, checks, logger })
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve)
      process.once('SIGINT', resolve)
    })
    await agent.stop()
    logger.info({ pending: agent.pending(), dropped: agent.dropped() }, 'monitor agent stopped')
    return 0
  },
}

async function silence(
  positionals: string[],
  values: { match?: string[]; for?: string; until?: string; 'until-resolved'?: boolean; comment?: string },
  token: string,
): Promise<number> {
  const [action, app, id, ...rest] = positionals
  const usage = (why: string) => new ShipshapeError('SHIPSHAPE_E_USAGE', `shipshape monitor silence: ${why}`)
  if (app === undefined || !/^https?:\/\//.test(app)) throw usage('give the app’s URL after the action')
  const base = new URL('/_shipshape/monitor/silences', app).href
  const call = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    })
    const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>
    if (!response.ok) throw new Error(`the app answered ${response.status}: ${String(answer.detail ?? '')}`)
    return answer
  }
  if (action === 'list' && id === undefined) {
    const { silences } = (await call('GET', base)) as { silences: Record<string, unknown>[] }
    for (const entry of silences) {
      const until =
        entry.until === null || Number(entry.until) > 9e12
          ? 'resolved'
          : new Date(Number(entry.until)).toISOString()
      process.stdout.write(
        `${entry.id}  ${JSON.stringify(entry.match)}  until ${until}  ${entry.comment ?? ''}\n`,
      )
    }
    if (silences.length === 0) process.stdout.write('No silences.\n')
    return 0
  }
  if (action === 'expire' && id !== undefined && rest.length === 0) {
    await call('DELETE', `${base}/${encodeURIComponent(id)}`)
    process.stdout.write(`Silence ${id} expired.\n`)
    return 0
  }
  if (action !== 'add' || id !== undefined) throw usage('the actions are add, list and expire <id>')
  const match: Record<string, string> = {}
  for (const pair of values.match ?? []) {
    const at = pair.indexOf('=')
    if (at < 1) throw usage(`--match ${pair}: expected label=value`)
    match[pair.slice(0, at)] = pair.slice(at + 1)
  }
  if (Object.keys(match).length === 0) throw usage('add needs at least one --match label=value')
  const forMs = values.for === undefined ? undefined : parseDuration(values.for)
  if (values.for !== undefined && forMs === undefined)
    throw usage(`--for ${values.for}: expected a duration such as 2h`)
  const ends = [forMs, values.until, values['until-resolved']].filter((value) => value !== undefined)
  if (ends.length !== 1) throw usage('add needs one of --for, --until and --until-resolved')
  const created = await call('POST', base, {
    match,
    ...(forMs === undefined ? {} : { forMs }),
    ...(values.until === undefined ? {} : { until: values.until }),
    ...(values['until-resolved'] ? { untilResolved: true } : {}),
    comment: values.comment ?? '',
  })
  process.stdout.write(`Silence ${created.id} added.\n`)
  return 0
}
