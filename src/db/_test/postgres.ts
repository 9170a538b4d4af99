/** A database of its own on the machine's real Postgres for each suite, dropped afterwards. */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const server = { host: '127.0.0.1', port: 5432, user: 'postgres' }

export async function freshDatabase(): Promise<{
  name: string
  pool: () => pg.Pool
  drop: () => Promise<void>
}> {
  const name = `dbapm_${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ ...server, database: 'postgres' })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const pools: pg.Pool[] = []
  return {
    name,
    pool: () => {
      const pool = new pg.Pool({ ...server, database: name, max: 4 })
      pools.push(pool)
      return pool
    },
    drop: async () => {
      await Promise.all(pools.map((pool) => pool.end().catch(() => {})))
      const client = new pg.Client({ ...server, database: 'postgres' })
      await client.connect()
      // pool.end() resolves before its connections have all closed: wait for them (a forced
      // drop would fail the ones still closing, as errors nobody listens to).
      const deadline = Date.now() + 10_000
      const open = async () =>
        Number(
          (await client.query('SELECT count(*) FROM pg_stat_activity WHERE datname = $1', [name])).rows[0]
            .count,
        )
      while ((await open()) > 0 && Date.now() < deadline) await new Promise((wait) => setTimeout(wait, 20))
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
    },
  }
}
