/**
 * Probe results, heartbeat pings, silences, request-counter samples, the lockfile re-check's
 * advisories and sent notifications in Postgres (the embedded
 * database or DATABASE_URL), through anything with `pg.Pool`'s query(). Several instances share
 * it: each reads the others' results (and the agents', stored by whichever worker took them), and
 * a notification is claimed by one statement on its group's row, so exactly one instance sends it.
 */
import { schemaOnce } from '../db/index.js'
import type { Delivery, QueryPool } from '../observe/index.js'
import type { Advisory } from './_advisories.js'
import type { RequestCounts, RequestSample } from './_burn.js'
import type { Check } from './_checks.js'
import type { Silence } from './_dispatch.js'
import type { ProbeResult } from './_probe.js'
import { schema } from './_schema.js'
import type { Ping } from './_state.js'

export interface Uptime {
  check: string
  /** Fractions of successful probes (every vantage point's), undefined without any. */
  day?: number
  week?: number
  month?: number
}

export interface DayUptime {
  check: string
  /** YYYY-MM-DD, UTC. */
  day: string
  up: number
  probes: number
}

export class MonitorStore {
  /** Creates the tables once; tried again after a failure. */
  readonly migrate: () => Promise<void>

  constructor(private readonly pool: QueryPool) {
    this.migrate = schemaOnce(pool, schema)
  }

  async addResults(results: readonly ProbeResult[], source: string): Promise<void> {
    if (results.length === 0) return
    await this.migrate()
    await this.pool.query(
      `INSERT INTO shipshape_monitor_results (check_name, vantage, source, at, ok, ms, error, cert_expires_at)
       SELECT r.check, r.vantage, $2, to_timestamp(r.at / 1000.0), r.ok, r.ms, r.error,
              CASE WHEN r.cert IS NULL THEN NULL ELSE to_timestamp(r.cert / 1000.0) END
       FROM jsonb_to_recordset($1::jsonb) AS r("check" text, vantage text, at double precision, ok boolean, ms integer, error text, cert double precision)`,
      [
        JSON.stringify(
          results.map((result) => ({
            check: result.check,
            vantage: result.vantage,
            at: result.at,
            ok: result.ok,
            ms: Math.round(result.ms),
            error: result.error ?? null,
            cert: result.certExpiresAt ?? null,
          })),
        ),
        source,
      ],
    )
  }

  async addPing(ping: Ping): Promise<void> {
    await this.migrate()
    await this.pool.query(
      `INSERT INTO shipshape_monitor_pings (heartbeat, kind, exit_code, at) VALUES ($1, $2, $3, $4)`,
      [ping.heartbeat, ping.kind, ping.exitCode ?? null, new Date(ping.at)],
    )
  }

  /** The newest ids, where reading others' results starts (older ones were alerted on before). */
  async cursors(): Promise<{ results: number; pings: number }> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `SELECT (SELECT coalesce(max(id), 0) FROM shipshape_monitor_results) AS results,
              (SELECT coalesce(max(id), 0) FROM shipshape_monitor_pings) AS pings`,
    )
    return { results: Number(rows[0]?.results ?? 0), pings: Number(rows[0]?.pings ?? 0) }
  }

  /** One sample of an instance's request counters (its primary's sums, which never go back). */
  async addRequestSample(source: string, sample: RequestSample): Promise<void> {
    await this.migrate()
    await this.pool.query(
      `INSERT INTO shipshape_monitor_requests (source, at, total, errors) VALUES ($1, $2, $3, $4)`,
      [source, new Date(sample.at), sample.total, sample.errors],
    )
  }

  /**
   * The whole site's requests and 5xx answers over each of the last `lengths` ms: each instance's
   * (source's) newest sample less its oldest inside the window, summed. An instance that restarted
   * is a new source, so its counters starting again at 0 take nothing away.
   */
  async requestCounts(now: number, lengths: readonly number[]): Promise<Map<number, RequestCounts>> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `SELECT w.ms, coalesce(sum(d.total), 0) AS total, coalesce(sum(d.errors), 0) AS errors
       FROM unnest($2::bigint[]) AS w(ms)
       LEFT JOIN LATERAL (
         SELECT max(total) - min(total) AS total, max(errors) - min(errors) AS errors
         FROM shipshape_monitor_requests
         WHERE at >= $1::timestamptz - w.ms * interval '1 millisecond' GROUP BY source
       ) AS d ON true
       GROUP BY w.ms`,
      [new Date(now), lengths],
    )
    return new Map(
      rows.map((row) => [Number(row.ms), { total: Number(row.total), errors: Number(row.errors) }]),
    )
  }

  /**
   * Records a lockfile re-check's findings; returns the keys of those first seen after the first
   * check of any instance (the first check's are the baseline, never new).
   */
  async recordAdvisories(found: readonly Advisory[], now: number): Promise<Set<string>> {
    await this.migrate()
    const keys = found.map((advisory) => advisory.key)
    // One statement: its parts share one snapshot, so "first" is read before this run is recorded.
    const { rows } = await this.pool.query(
      `WITH first AS (SELECT NOT EXISTS (SELECT 1 FROM shipshape_monitor_audits) AS baseline),
       run AS (INSERT INTO shipshape_monitor_audits (at, findings) VALUES ($1, $3)),
       added AS (
         INSERT INTO shipshape_monitor_advisories (key, first_seen_at, baseline)
         SELECT key, $1, (SELECT baseline FROM first) FROM unnest($2::text[]) AS key
         ON CONFLICT (key) DO NOTHING RETURNING key, baseline
       )
       SELECT key FROM added WHERE NOT baseline
       UNION SELECT key FROM shipshape_monitor_advisories WHERE key = ANY($2) AND NOT baseline`,
      [new Date(now), keys, keys.length],
    )
    return new Set(rows.map((row) => row.key as string))
  }

  /** Results stored after `cursor` by anyone but `source`, oldest first, at most `limit`. */
  async resultsAfter(
    cursor: number,
    source: string,
    limit = 5000,
  ): Promise<{ results: ProbeResult[]; cursor: number }> {
    const { rows } = await this.pool.query(
      `SELECT id, check_name, vantage, source, extract(epoch FROM at) * 1000 AS at, ok, ms, error,
              extract(epoch FROM cert_expires_at) * 1000 AS cert
       FROM shipshape_monitor_results WHERE id > $1 ORDER BY id LIMIT $2`,
      [cursor, limit],
    )
    const last = rows.at(-1)
    return {
      cursor: last ? Number(last.id) : cursor,
      results: rows.filter((row) => row.source !== source).map(resultOf),
    }
  }

  async pingsAfter(cursor: number): Promise<{ pings: Ping[]; cursor: number }> {
    const { rows } = await this.pool.query(
      `SELECT id, heartbeat, kind, exit_code, extract(epoch FROM at) * 1000 AS at FROM shipshape_monitor_pings WHERE id > $1 ORDER BY id LIMIT 5000`,
      [cursor],
    )
    const last = rows.at(-1)
    return {
      cursor: last ? Number(last.id) : cursor,
      pings: rows.map(pingOf),
    }
  }

  /** The last success of each heartbeat, for a primary that starts after the ping. */
  async lastPings(): Promise<Ping[]> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `SELECT DISTINCT ON (heartbeat, kind) heartbeat, kind, exit_code, extract(epoch FROM at) * 1000 AS at
       FROM shipshape_monitor_pings ORDER BY heartbeat, kind, at DESC`,
    )
    return rows.map(pingOf)
  }

  /** Uptime of every check over 24 h, 7 d and 30 d, counting every vantage point's probes. */
  async uptime(now: number): Promise<Uptime[]> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `SELECT check_name,
         avg(ok::int) FILTER (WHERE at > $1::timestamptz - interval '1 day') AS day,
         avg(ok::int) FILTER (WHERE at > $1::timestamptz - interval '7 days') AS week,
         avg(ok::int) AS month
       FROM shipshape_monitor_results WHERE at > $1::timestamptz - interval '30 days' GROUP BY check_name`,
      [new Date(now)],
    )
    const fraction = (value: unknown) => (value === null || value === undefined ? undefined : Number(value))
    return rows.map((row) => ({
      check: row.check_name as string,
      day: fraction(row.day),
      week: fraction(row.week),
      month: fraction(row.month),
    }))
  }

  /**
   * Each check's days (UTC) over the last `days`, oldest first: the fraction of successful probes
   * (every vantage point's) and how many there were. Days without a probe are left out.
   */
  async history(now: number, days: number): Promise<DayUptime[]> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `SELECT check_name, floor(extract(epoch FROM at) / 86400) AS day, avg(ok::int) AS up, count(*) AS probes
       FROM shipshape_monitor_results
       WHERE at >= to_timestamp((floor(extract(epoch FROM $1::timestamptz) / 86400) - $2 + 1) * 86400)
       GROUP BY check_name, day ORDER BY check_name, day`,
      [new Date(now), days],
    )
    return rows.map((row) => ({
      check: row.check_name as string,
      day: new Date(Number(row.day) * 86_400_000).toISOString().slice(0, 10),
      up: Number(row.up),
      probes: Number(row.probes),
    }))
  }

  /** Each check's latest result from each vantage point (the status page, the API). */
  async latest(): Promise<ProbeResult[]> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `SELECT DISTINCT ON (check_name, vantage) check_name, vantage, extract(epoch FROM at) * 1000 AS at, ok, ms, error
       FROM shipshape_monitor_results WHERE at > now() - interval '1 day' ORDER BY check_name, vantage, at DESC`,
    )
    return rows.map(resultOf)
  }

  /** Checks added through the API, as the probes run them (validated when they were added). */
  async apiChecks(): Promise<Check[]> {
    await this.migrate()
    const { rows } = await this.pool.query(`SELECT definition FROM shipshape_monitor_checks ORDER BY name`)
    return rows.map((row) => row.definition as Check)
  }

  async putCheck(check: Check): Promise<void> {
    await this.migrate()
    await this.pool.query(
      `INSERT INTO shipshape_monitor_checks (name, definition) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = now()`,
      [check.name, JSON.stringify(check)],
    )
  }

  /** False when no check of that name was added through the API. */
  async deleteCheck(name: string): Promise<boolean> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `DELETE FROM shipshape_monitor_checks WHERE name = $1 RETURNING name`,
      [name],
    )
    return rows.length === 1
  }

  async silences(now: number): Promise<Silence[]> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `SELECT id, match, extract(epoch FROM starts_at) * 1000 AS starts, extract(epoch FROM ends_at) * 1000 AS ends, comment, until_resolved
       FROM shipshape_monitor_silences WHERE ends_at > $1 ORDER BY starts_at`,
      [new Date(now)],
    )
    return rows.map((row) => ({
      id: row.id as string,
      match: row.match as Record<string, string>,
      from: Number(row.starts),
      until: Number(row.ends),
      comment: row.comment as string,
      ...(row.until_resolved ? { untilResolved: true } : {}),
    }))
  }

  async addSilence(silence: Silence): Promise<void> {
    await this.migrate()
    await this.pool.query(
      `INSERT INTO shipshape_monitor_silences (id, match, starts_at, ends_at, comment, until_resolved) VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        silence.id,
        JSON.stringify(silence.match),
        new Date(silence.from),
        // "Until resolved" has no end of its own: the year 9999 stands for none.
        new Date(Number.isFinite(silence.until) ? silence.until : Date.UTC(9999, 0)),
        silence.comment,
        silence.untilResolved === true,
      ],
    )
  }

  /** Ends a silence now; false when there was none with that id still running. */
  async expireSilence(id: string, now: number): Promise<boolean> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `UPDATE shipshape_monitor_silences SET ends_at = $2 WHERE id = $1 AND ends_at > $2 RETURNING id`,
      [id, new Date(now)],
    )
    return rows.length === 1
  }

  /**
   * Claims a group's notification: true for one caller among the instances sharing the database.
   * The same content is sent again only after `repeatMs`; changed content after `intervalMs`
   * (less a little, for two instances' clocks and ticks), except the first notification of a new
   * incident after the group's last one ended (a hash whose firing part, before `|`, is empty):
   * that one is a new group, which waits its group_wait and not a group_interval, and would
   * otherwise be lost when an outage comes back within group_interval of its resolve.
   */
  async claim(
    groupKey: string,
    hash: string,
    now: number,
    intervalMs: number,
    repeatMs: number,
  ): Promise<boolean> {
    const { rows } = await this.pool.query(
      `INSERT INTO shipshape_monitor_sent AS s (group_key, hash, sent_at) VALUES ($1, $2, $3)
       ON CONFLICT (group_key) DO UPDATE SET hash = excluded.hash, sent_at = excluded.sent_at
       WHERE (s.hash <> excluded.hash AND (s.sent_at <= excluded.sent_at - $4 * interval '1 millisecond'
                OR (starts_with(s.hash, '|') AND NOT starts_with(excluded.hash, '|'))))
          OR s.sent_at <= excluded.sent_at - $5 * interval '1 millisecond'
       RETURNING group_key`,
      [groupKey, hash, new Date(now), Math.round(intervalMs * 0.8), Math.round(repeatMs * 0.8)],
    )
    return rows.length === 1
  }

  /** One row per channel a notification went to, with whether it arrived: the console's history. */
  async addNotifications(
    at: number,
    notification: { groupKey: string; status: string; title: string },
    deliveries: readonly Delivery[],
  ): Promise<void> {
    if (deliveries.length === 0) return
    await this.migrate()
    await this.pool.query(
      `INSERT INTO shipshape_monitor_notifications (at, group_key, status, title, channel, ok, error)
       SELECT $1, $2, $3, $4, d.channel, d.ok, d.error FROM jsonb_to_recordset($5::jsonb) AS d(channel text, ok boolean, error text)`,
      [
        new Date(at),
        notification.groupKey,
        notification.status,
        notification.title.slice(0, 500),
        JSON.stringify(deliveries.map((d) => ({ ...d, error: d.error?.slice(0, 500) ?? null }))),
      ],
    )
  }

  /** The latest notifications, newest first. */
  async notifications(limit = 50): Promise<(Delivery & { at: number; title: string; status: string })[]> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `SELECT extract(epoch FROM at) * 1000 AS at, title, status, channel, ok, error
       FROM shipshape_monitor_notifications ORDER BY id DESC LIMIT $1`,
      [limit],
    )
    return rows.map((row) => ({
      at: Number(row.at),
      title: row.title as string,
      status: row.status as string,
      channel: row.channel as string,
      ok: row.ok as boolean,
      ...(row.error ? { error: row.error as string } : {}),
    }))
  }

  /** Deletes what is older than `retentionMs`, and request samples older than the longest burn window. */
  async prune(now: number, retentionMs: number, requestsMs: number): Promise<void> {
    await this.migrate()
    const cutoff = new Date(now - retentionMs)
    const requestsCutoff = new Date(now - requestsMs)
    await this.pool.query(`DELETE FROM shipshape_monitor_requests WHERE at < $1`, [requestsCutoff])
    await this.pool.query(`DELETE FROM shipshape_monitor_results WHERE at < $1`, [cutoff])
    await this.pool.query(`DELETE FROM shipshape_monitor_pings WHERE at < $1`, [cutoff])
    await this.pool.query(`DELETE FROM shipshape_monitor_silences WHERE ends_at < $1`, [cutoff])
    await this.pool.query(`DELETE FROM shipshape_monitor_notifications WHERE at < $1`, [cutoff])
  }
}

function resultOf(row: Record<string, unknown>): ProbeResult {
  return {
    check: row.check_name as string,
    vantage: row.vantage as string,
    at: Number(row.at),
    ok: row.ok as boolean,
    ms: Number(row.ms),
    ...(row.error ? { error: row.error as string } : {}),
    ...(row.cert ? { certExpiresAt: Number(row.cert) } : {}),
  }
}

function pingOf(row: Record<string, unknown>): Ping {
  return {
    heartbeat: row.heartbeat as string,
    kind: row.kind as Ping['kind'],
    at: Number(row.at),
    ...(row.exit_code === null ? {} : { exitCode: Number(row.exit_code) }),
  }
}
