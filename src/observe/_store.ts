/**
 * Issues and their events in Postgres (the embedded database or DATABASE_URL), through anything
 * with `pg.Pool`'s `query()`. Every decision several instances could race on is one statement on
 * the issue's row, so the row lock settles it: one instance creates an issue, one sees it regress
 * or unmute, one claims each notification.
 */
import type { ErrorEvent } from './_event.js'
import { countTags, issueTags, type TagCount, type TagDistribution } from './_issue-tags.js'

/** What the store needs of a pool: `pg.Pool`, a pg Client, or anything with the same query(). */
export interface QueryPool {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

export interface StoreOptions {
  /** Events kept whole per issue before sampling starts. Default 10. */
  keepFirst?: number
  /** Events kept per issue at most: the first ones, then a sample biased to the latest. Default 100. */
  maxEventsPerIssue?: number
  /** Events kept in all, oldest deleted first. Default 100,000 (a few hundred MB at most). */
  maxEvents?: number
  /** Events and issues not seen for this long are deleted. Default 30 days. */
  retentionMs?: number
}

/** Why an issue deserves a notification. */
export type Reason = 'new' | 'regression' | 'unmuted' | 'spike'

export interface Issue {
  id: string
  title: string
  culprit: string
  level: string
  status: 'unresolved' | 'resolved' | 'muted'
  firstSeen: Date
  lastSeen: Date
  count: number
  resolvedIn: string | null
}

export interface Occurrence {
  issue: string
  title: string
  culprit: string
  level: string
  release: string | undefined
  /** How many events of this issue arrived together (the tracker coalesces bursts). */
  count: number
  /** The latest of them, stored as the issue's latest event (and sampled into its events). */
  event: ErrorEvent
  /** How many of them carried each tag value (request ids left out). Counted in shipshape_issue_tags. */
  tags?: readonly TagCount[]
  at: Date
}

/** Past this size, an event is stored without its breadcrumbs, extra data and source context. */
const maxEventBytes = 64 * 1024
/** A spike: a minute holding this many times the issue's past rate per minute, and at least `spikeMinimum`. */
const spikeFactor = 10
const spikeMinimum = 50
const spikeWindowMs = 60_000

const schema = `
BEGIN;
SELECT pg_advisory_xact_lock(7265431);
CREATE TABLE IF NOT EXISTS shipshape_issues (
  id text PRIMARY KEY,
  title text NOT NULL,
  culprit text NOT NULL,
  level text NOT NULL,
  status text NOT NULL DEFAULT 'unresolved',
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  count bigint NOT NULL,
  transition text,
  resolved_in text,
  resolved_at timestamptz,
  older_releases text[] NOT NULL DEFAULT '{}',
  muted_until timestamptz,
  muted_until_count bigint,
  muted_at_count bigint,
  last_notified_at timestamptz,
  window_start timestamptz NOT NULL,
  window_count bigint NOT NULL,
  stored_events integer NOT NULL DEFAULT 0,
  latest_event jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS shipshape_issue_releases (
  issue_id text NOT NULL REFERENCES shipshape_issues ON DELETE CASCADE,
  release text NOT NULL,
  count bigint NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  PRIMARY KEY (issue_id, release)
);
CREATE TABLE IF NOT EXISTS shipshape_issue_tags (
  issue_id text NOT NULL REFERENCES shipshape_issues ON DELETE CASCADE,
  key text NOT NULL,
  value text NOT NULL,
  count bigint NOT NULL,
  last_seen timestamptz NOT NULL,
  PRIMARY KEY (issue_id, key, value)
);
CREATE INDEX IF NOT EXISTS shipshape_issue_tags_value ON shipshape_issue_tags (key, value);
CREATE TABLE IF NOT EXISTS shipshape_events (
  id bigserial PRIMARY KEY,
  issue_id text NOT NULL REFERENCES shipshape_issues ON DELETE CASCADE,
  event_id text NOT NULL UNIQUE,
  received_at timestamptz NOT NULL,
  release text,
  data jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS shipshape_events_issue ON shipshape_events (issue_id, id);
CREATE INDEX IF NOT EXISTS shipshape_events_received ON shipshape_events (received_at);
COMMIT;`

const upsert = `
INSERT INTO shipshape_issues AS i (id, title, culprit, level, first_seen, last_seen, count, window_start, window_count, latest_event)
VALUES ($1, $2, $3, $4, $5, $5, $6, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
  title = excluded.title, culprit = excluded.culprit, level = excluded.level,
  last_seen = greatest(i.last_seen, excluded.last_seen),
  count = i.count + excluded.count,
  latest_event = excluded.latest_event,
  window_start = CASE WHEN i.window_start <= excluded.last_seen - $9 * interval '1 millisecond' THEN excluded.last_seen ELSE i.window_start END,
  window_count = CASE WHEN i.window_start <= excluded.last_seen - $9 * interval '1 millisecond' THEN excluded.count ELSE i.window_count + excluded.count END,
  transition = CASE
    WHEN i.status = 'resolved' AND NOT (coalesce($8, '') = ANY (i.older_releases)) THEN 'regression'
    WHEN i.status = 'muted' AND (i.muted_until <= excluded.last_seen OR i.count + excluded.count - i.muted_at_count >= i.muted_until_count) THEN 'unmuted'
    ELSE NULL END,
  status = CASE
    WHEN i.status = 'resolved' AND NOT (coalesce($8, '') = ANY (i.older_releases)) THEN 'unresolved'
    WHEN i.status = 'muted' AND (i.muted_until <= excluded.last_seen OR i.count + excluded.count - i.muted_at_count >= i.muted_until_count) THEN 'unresolved'
    ELSE i.status END
RETURNING (xmax = 0) AS created, transition, status, count, stored_events, first_seen, window_start, window_count`

export class ErrorStore {
  private readonly keepFirst: number
  private readonly maxPerIssue: number
  private readonly maxEvents: number
  private readonly retentionMs: number
  private ready: Promise<void> | undefined
  private readonly pool: QueryPool

  constructor(pool: QueryPool, options: StoreOptions = {}) {
    this.pool = pool
    this.keepFirst = options.keepFirst ?? 10
    this.maxPerIssue = Math.max(this.keepFirst + 1, options.maxEventsPerIssue ?? 100)
    this.maxEvents = options.maxEvents ?? 100_000
    this.retentionMs = options.retentionMs ?? 30 * 86_400_000
  }

  /** Creates the tables once (a lock makes concurrent instances wait for the first). */
  migrate(): Promise<void> {
    this.ready ??= this.pool.query(schema).then(() => undefined)
    return this.ready
  }

  /** Records an occurrence; resolves to the reason it deserves a notification, if any. */
  async record(occurrence: Occurrence): Promise<Reason | undefined> {
    await this.migrate()
    const { issue, at, count, release } = occurrence
    const event = storable(occurrence.event)
    const [row] = (
      await this.pool.query(upsert, [
        issue,
        occurrence.title,
        occurrence.culprit,
        occurrence.level,
        at,
        count,
        event,
        release ?? null,
        spikeWindowMs,
      ])
    ).rows as {
      created: boolean
      transition: string | null
      status: string
      count: string
      stored_events: number
      first_seen: Date
      window_start: Date
      window_count: string
    }[]
    if (!row) return undefined
    await this.pool.query(
      `INSERT INTO shipshape_issue_releases AS r (issue_id, release, count, first_seen, last_seen) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (issue_id, release) DO UPDATE SET count = r.count + excluded.count, last_seen = greatest(r.last_seen, excluded.last_seen)`,
      [issue, release ?? '', count, at],
    )
    await countTags(this.pool, issue, occurrence.tags ?? [], at)
    const total = Number(row.count)
    // The first events whole, then a sample that thins as the issue grows (the latest is always on the issue).
    if (row.stored_events < this.keepFirst || Math.random() < this.keepFirst / total) {
      await this.pool.query(
        `WITH e AS (INSERT INTO shipshape_events (issue_id, event_id, received_at, release, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING RETURNING 1)
         UPDATE shipshape_issues SET stored_events = stored_events + (SELECT count(*) FROM e) WHERE id = $1`,
        [issue, occurrence.event.event_id, at, release ?? null, event],
      )
    }
    if (row.created) return 'new'
    if (row.transition === 'regression' || row.transition === 'unmuted') return row.transition
    if (row.status !== 'unresolved') return undefined
    const windowCount = Number(row.window_count)
    const pastMinutes = (row.window_start.getTime() - row.first_seen.getTime()) / spikeWindowMs
    if (pastMinutes < 60 || windowCount < spikeMinimum) return undefined
    const pastRate = (total - windowCount) / pastMinutes
    return windowCount >= spikeFactor * Math.max(pastRate, 1) ? 'spike' : undefined
  }

  /**
   * Claims the right to notify about an issue: true for exactly one caller per interval, across
   * every instance sharing the database (the row's lock orders them).
   */
  async claimNotification(issue: string, intervalMs: number, now = new Date()): Promise<boolean> {
    const { rows } = await this.pool.query(
      `UPDATE shipshape_issues SET last_notified_at = $2
       WHERE id = $1 AND (last_notified_at IS NULL OR last_notified_at <= $2::timestamptz - $3 * interval '1 millisecond') RETURNING id`,
      [issue, now, intervalMs],
    )
    return rows.length === 1
  }

  /**
   * Marks an issue resolved. With `inRelease`, events from the releases it was already seen in
   * (older ones, still deployed somewhere) do not reopen it; any other release does.
   */
  async resolve(issue: string, inRelease?: string): Promise<void> {
    await this.pool.query(
      `UPDATE shipshape_issues SET status = 'resolved', resolved_in = $2, resolved_at = now(), older_releases =
         CASE WHEN $2::text IS NULL THEN '{}'::text[]
              ELSE coalesce((SELECT array_agg(release) FROM shipshape_issue_releases WHERE issue_id = $1 AND release <> $2), '{}') END
       WHERE id = $1`,
      [issue, inRelease ?? null],
    )
  }

  /** Mutes an issue until a date, for a number of further events, or (neither) for good. */
  async mute(issue: string, until: { date?: Date; count?: number } = {}): Promise<void> {
    await this.pool.query(
      `UPDATE shipshape_issues SET status = 'muted', muted_until = $2, muted_until_count = $3, muted_at_count = count WHERE id = $1`,
      [issue, until.date ?? null, until.count ?? null],
    )
  }

  /** Ends a mute now (the ops console's unmute): the issue is open again, and notifies on its next event. */
  async unmute(issue: string): Promise<void> {
    await this.pool.query(
      `UPDATE shipshape_issues SET status = 'unresolved', muted_until = NULL, muted_until_count = NULL WHERE id = $1 AND status = 'muted'`,
      [issue],
    )
  }

  async issue(
    id: string,
  ): Promise<(Issue & { releases: Record<string, number>; events: number }) | undefined> {
    const { rows } = await this.pool.query(
      `SELECT id, title, culprit, level, status, first_seen, last_seen, count, resolved_in,
         (SELECT count(*) FROM shipshape_events WHERE issue_id = $1) AS events,
         (SELECT coalesce(json_object_agg(release, count), '{}') FROM shipshape_issue_releases WHERE issue_id = $1) AS releases
       FROM shipshape_issues WHERE id = $1`,
      [id],
    )
    const row = rows[0]
    if (!row) return undefined
    return {
      ...issueOf(row),
      events: Number(row.events),
      releases: mapValues(row.releases as Record<string, string>),
    }
  }

  /** Issue `id`'s tags: per key its events in all and its `perKey` most frequent values, keys by name. */
  tags(id: string, perKey = 10): Promise<TagDistribution> {
    return issueTags(this.pool, id, perKey)
  }

  /** Issues, most recently seen first. */
  async issues(limit = 100): Promise<Issue[]> {
    const { rows } = await this.pool.query(
      `SELECT id, title, culprit, level, status, first_seen, last_seen, count, resolved_in FROM shipshape_issues ORDER BY last_seen DESC LIMIT $1`,
      [limit],
    )
    return rows.map(issueOf)
  }

  /** The stored events of an issue, oldest first. */
  async events(issue: string): Promise<ErrorEvent[]> {
    const { rows } = await this.pool.query(
      `SELECT data FROM shipshape_events WHERE issue_id = $1 ORDER BY id`,
      [issue],
    )
    return rows.map((row) => row.data as ErrorEvent)
  }

  /** Applies retention: old events and issues, then the per-issue and total bounds. */
  async prune(now = new Date()): Promise<void> {
    await this.migrate()
    const cutoff = new Date(now.getTime() - this.retentionMs)
    await this.pool.query(`DELETE FROM shipshape_events WHERE received_at < $1`, [cutoff])
    await this.pool.query(`DELETE FROM shipshape_issues WHERE last_seen < $1`, [cutoff])
    // Per issue: the first keepFirst events and the latest of the rest, up to maxPerIssue.
    await this.pool.query(
      `DELETE FROM shipshape_events WHERE id IN (
         SELECT id FROM (SELECT id, row_number() OVER w AS n, count(*) OVER (PARTITION BY issue_id) AS total
                         FROM shipshape_events WINDOW w AS (PARTITION BY issue_id ORDER BY id)) ranked
         WHERE n > $1 AND n <= total - ($2 - $1))`,
      [this.keepFirst, this.maxPerIssue],
    )
    await this.pool.query(
      `DELETE FROM shipshape_events WHERE id IN (SELECT id FROM shipshape_events ORDER BY id DESC OFFSET $1)`,
      [this.maxEvents],
    )
    await this.pool.query(
      `UPDATE shipshape_issues i SET stored_events = (SELECT count(*) FROM shipshape_events e WHERE e.issue_id = i.id)`,
    )
  }
}

/** The event as stored: whole when small, else without what makes it large. */
function storable(event: ErrorEvent): string {
  const text = JSON.stringify(event)
  if (text.length <= maxEventBytes) return text
  const { breadcrumbs: _b, extra: _e, ...rest } = event
  const frames = rest.exception?.values[0]?.stacktrace?.frames
  for (const frame of frames ?? []) {
    delete frame.pre_context
    delete frame.post_context
  }
  return JSON.stringify({ ...rest, extra: { truncated: true } })
}

function issueOf(row: Record<string, unknown>): Issue {
  return {
    id: row.id as string,
    title: row.title as string,
    culprit: row.culprit as string,
    level: row.level as string,
    status: row.status as Issue['status'],
    firstSeen: row.first_seen as Date,
    lastSeen: row.last_seen as Date,
    count: Number(row.count),
    resolvedIn: row.resolved_in as string | null,
  }
}

function mapValues(record: Record<string, string | number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, Number(value)]))
}
