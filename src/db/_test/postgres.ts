/** A database of its own on the machine's real Postgres for each suite, dropped afterwards. */
import pg from 'pg'
import { createTestDatabase } from '../../_test/postgres.js'

export async function freshDatabase(): Promise<{
  name: string
  pool: () => pg.Pool
  drop: () => Promise<void>
}> {
  const database = await createTestDatabase('dbapm')
  const pools: pg.Pool[] = []
  return {
    name: database.name,
    pool: () => {
      const pool = new pg.Pool({ connectionString: database.url, max: 4 })
      pools.push(pool)
      return pool
    },
    drop: async () => {
      await Promise.all(pools.map((pool) => pool.end().catch(() => {})))
      await database.drop()
    },
  }
}
