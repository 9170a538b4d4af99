/** A database of a test's own on the machine's real Postgres (127.0.0.1:5432), dropped after it. */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const admin = 'postgresql://postgres@127.0.0.1:5432/postgres'

export interface TestDatabase {
  name: string
  url: string
  /** The rows of one statement, on a connection of its own (closed after). */
  query(sql: string, values?: unknown[]): Promise<Record<string, unknown>[]>
  /** Drops it, once the connections still closing (pool.end() resolves before they all have) are gone. */
  drop(): Promise<void>
}

/** Creates `<prefix>_<random>`, so that suites running side by side never share one. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  await asAdmin((client) => client.query(`CREATE DATABASE ${name}`))
  const url = `postgresql://postgres@127.0.0.1:5432/${name}`
  return {
    name,
    url,
    async query(sql, values) {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        return (await client.query(sql, values)).rows
      } finally {
        await client.end()
      }
    },
    drop: () =>
      asAdmin(async (client) => {
        const open = async () =>
          Number(
            (await client.query('SELECT count(*) FROM pg_stat_activity WHERE datname = $1', [name])).rows[0]
              .count,
          )
        // A forced drop would fail the connections still closing, as errors nobody listens to.
        const deadline = Date.now() + 10_000
        while ((await open()) > 0 && Date.now() < deadline) await new Promise((wait) => setTimeout(wait, 20))
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      }),
  }
}

async function asAdmin(work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client(admin)
  await client.connect()
  try {
    await work(client)
  } finally {
    await client.end()
  }
}
