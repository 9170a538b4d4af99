import { pool } from 'shipshape/db'

export interface Entry {
  name: string
  message: string
  at: string
}

export interface EntryInput {
  name?: unknown
  message?: unknown
}

/** Field-by-field problems with a submitted entry; empty when it is valid. */
export function validate(input: EntryInput): Record<string, string> {
  const problems: Record<string, string> = {}
  const name = typeof input.name === 'string' ? input.name.trim() : ''
  const message = typeof input.message === 'string' ? input.message.trim() : ''
  if (!name) problems.name = 'Please give your name.'
  else if (name.length > 60) problems.name = 'Names are at most 60 characters.'
  if (!message) problems.message = 'Please write a message.'
  else if (message.length > 500) problems.message = 'Messages are at most 500 characters.'
  return problems
}

/**
 * Entries live in the database: the embedded one by default (a database process beside the
 * workers, data in ./data/db), the Postgres of DATABASE_URL when it is set. Every worker reads
 * and writes the same table through its pool.
 */
export class Guestbook {
  #ready: Promise<unknown> | undefined

  /** The table is made on first use, not at import: a worker starts even while the database is down. */
  #schema(): Promise<unknown> {
    this.#ready ??= pool()
      .query(
        `CREATE TABLE IF NOT EXISTS guestbook (
           id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
           name text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
           message text NOT NULL CHECK (length(message) BETWEEN 1 AND 500),
           at timestamptz NOT NULL DEFAULT now()
         )`,
      )
      .catch((error: unknown) => {
        this.#ready = undefined
        throw error
      })
    return this.#ready
  }

  /**
   * Entries whose message contains `text`: a scan of the whole table, slowed ON PURPOSE by a
   * pg_sleep standing for a big table without an index, so the APM reports a slow query (and a
   * slow request) on the console's Database and Endpoints pages.
   */
  async search(text: string): Promise<Entry[]> {
    await this.#schema()
    const { rows } = await pool().query(
      `SELECT name, message, at FROM guestbook, pg_sleep(0.6)
       WHERE position(lower($1) in lower(message)) > 0 ORDER BY id DESC LIMIT 20`,
      [text.slice(0, 100)],
    )
    return rows.map(toEntry)
  }

  async add(input: EntryInput): Promise<Entry> {
    await this.#schema()
    const { rows } = await pool().query(
      'INSERT INTO guestbook (name, message) VALUES ($1, $2) RETURNING name, message, at',
      [String(input.name).trim(), String(input.message).trim()],
    )
    return toEntry(rows[0])
  }

  async recent(limit = 20): Promise<Entry[]> {
    await this.#schema()
    const { rows } = await pool().query('SELECT name, message, at FROM guestbook ORDER BY id DESC LIMIT $1', [
      limit,
    ])
    return rows.map(toEntry)
  }

  /**
   * Who signed, with how many messages each: written as an N+1 ON PURPOSE, one query for the
   * names and then one per name, so that the APM has one to report (a warning "N+1 queries"
   * naming this file's line, on every visit to /guestbook/signers). The fix is one query:
   * `SELECT name, count(*)::int AS messages FROM guestbook GROUP BY name ORDER BY name LIMIT 20`.
   */
  async signers(): Promise<{ name: string; messages: number }[]> {
    await this.#schema()
    const { rows } = await pool().query('SELECT DISTINCT name FROM guestbook ORDER BY name LIMIT 20')
    const signers = []
    for (const { name } of rows) {
      const counted = await pool().query('SELECT count(*)::int AS n FROM guestbook WHERE name = $1', [name])
      signers.push({ name: name as string, messages: counted.rows[0].n as number })
    }
    return signers
  }

  async count(): Promise<number> {
    await this.#schema()
    const { rows } = await pool().query('SELECT count(*)::int AS n FROM guestbook')
    return rows[0].n
  }
}

function toEntry(row: { name: string; message: string; at: Date }): Entry {
  return { name: row.name, message: row.message, at: row.at.toISOString() }
}
