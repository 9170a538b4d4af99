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
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
    },
  }
}
