/** A database of its own on the real Postgres (127.0.0.1:5432), created for a suite and dropped after. */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

const admin = 'postgres://postgres@127.0.0.1:5432/postgres'

export async function ownDatabase(): Promise<{ url: string; pool: pg.Pool; drop(): Promise<void> }> {
  const name = `observe_${randomBytes(6).toString('hex')}`
  const client = new pg.Client(admin)
  await client.connect()
  await client.query(`CREATE DATABASE ${name}`)
  await client.end()
  const url = `postgres://postgres@127.0.0.1:5432/${name}`
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  return {
    url,
    pool,
    async drop() {
      await pool.end()
      const dropper = new pg.Client(admin)
      await dropper.connect()
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await dropper.end()
    },
  }
}
