/**
 * The console's own tables: the audit log of every action taken in it, and the per-instance
 * server samples the primary records. Both are kept `retention` (console.retention) and the
 * samples are bounded besides, so a forgotten sampler cannot fill the disk.
 */
import { schemaOnce } from '../db/index.js'
import type { QueryPool } from '../observe/index.js'

const schema = `
BEGIN;
SELECT pg_advisory_xact_lock(7265433);
CREATE TABLE IF NOT EXISTS shipshape_console_audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  user_id text NOT NULL,
  email text NOT NULL,
  role text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  outcome text NOT NULL,
  ip text NOT NULL,
  request_id text NOT NULL
);
CREATE TABLE IF NOT EXISTS shipshape_console_samples (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  host text NOT NULL,
  workers integer NOT NULL,
  cpu_percent double precision NOT NULL,
  mem_used_bytes bigint NOT NULL,
  mem_total_bytes bigint NOT NULL,
  rss_bytes bigint NOT NULL,
  disk_free_bytes bigint NOT NULL,
  disk_size_bytes bigint NOT NULL,
  loop_lag_ms double precision NOT NULL,
  load1 double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS shipshape_console_samples_at ON shipshape_console_samples (at);
COMMIT;`

/** Samples kept at most, whatever the retention: 14 days of a minute's sample from 10 instances. */
const maxSamples = 14 * 1440 * 10

export interface AuditEntry {
  at: Date
  email: string
  role: string
  action: string
  target: string
  outcome: string
  ip: string
}

export interface ServerSample {
  at: number
  host: string
  workers: number
  cpuPercent: number
  memUsedBytes: number
  memTotalBytes: number
  rssBytes: number
  diskFreeBytes: number
  diskSizeBytes: number
  loopLagMs: number
  load1: number
}

export class ConsoleStore {
  readonly migrate: () => Promise<void>
  constructor(private readonly pool: QueryPool) {
    this.migrate = schemaOnce(pool, schema)
  }

  async audit(entry: Omit<AuditEntry, 'at'> & { userId: string; requestId: string }): Promise<void> {
    await this.migrate()
    await this.pool.query(
      `INSERT INTO shipshape_console_audit (user_id, email, role, action, target, outcome, ip, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        entry.userId,
        entry.email,
        entry.role,
        entry.action,
        entry.target,
        entry.outcome,
        entry.ip,
        entry.requestId,
      ],
    )
  }

  async auditLog(limit = 50): Promise<AuditEntry[]> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `SELECT at, email, role, action, target, outcome, ip FROM shipshape_console_audit ORDER BY id DESC LIMIT $1`,
      [limit],
    )
    return rows as unknown as AuditEntry[]
  }

  async addSample(sample: ServerSample): Promise<void> {
    await this.migrate()
    await this.pool.query(
      `INSERT INTO shipshape_console_samples (at, host, workers, cpu_percent, mem_used_bytes, mem_total_bytes,
         rss_bytes, disk_free_bytes, disk_size_bytes, loop_lag_ms, load1)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        new Date(sample.at),
        sample.host,
        sample.workers,
        sample.cpuPercent,
        Math.round(sample.memUsedBytes),
        Math.round(sample.memTotalBytes),
        Math.round(sample.rssBytes),
        Math.round(sample.diskFreeBytes),
        Math.round(sample.diskSizeBytes),
        sample.loopLagMs,
        sample.load1,
      ],
    )
  }

  /** Samples since `since`, oldest first, per host. */
  async samples(since: number): Promise<ServerSample[]> {
    await this.migrate()
    const { rows } = await this.pool.query(
      `SELECT extract(epoch FROM at) * 1000 AS at, host, workers, cpu_percent, mem_used_bytes, mem_total_bytes,
         rss_bytes, disk_free_bytes, disk_size_bytes, loop_lag_ms, load1
       FROM shipshape_console_samples WHERE at > $1 ORDER BY host, at`,
      [new Date(since)],
    )
    return rows.map((row) => ({
      at: Number(row.at),
      host: row.host as string,
      workers: Number(row.workers),
      cpuPercent: Number(row.cpu_percent),
      memUsedBytes: Number(row.mem_used_bytes),
      memTotalBytes: Number(row.mem_total_bytes),
      rssBytes: Number(row.rss_bytes),
      diskFreeBytes: Number(row.disk_free_bytes),
      diskSizeBytes: Number(row.disk_size_bytes),
      loopLagMs: Number(row.loop_lag_ms),
      load1: Number(row.load1),
    }))
  }

  /** Applies the retention to both tables, and the bound to the samples. */
  async prune(now: number, retentionMs: number): Promise<void> {
    await this.migrate()
    const cutoff = new Date(now - retentionMs)
    await this.pool.query('DELETE FROM shipshape_console_audit WHERE at < $1', [cutoff])
    await this.pool.query('DELETE FROM shipshape_console_samples WHERE at < $1', [cutoff])
    await this.pool.query(
      `DELETE FROM shipshape_console_samples WHERE id <= (SELECT id FROM shipshape_console_samples ORDER BY id DESC OFFSET $1 LIMIT 1)`,
      [maxSamples],
    )
  }
}
