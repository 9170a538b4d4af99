/** A database of its own on the real Postgres, with a pool on it, created for a suite and dropped after. */
import pg from 'pg'
import { createTestDatabase } from '../../_test/postgres.js'

export async function ownDatabase(): Promise<{ url: string; pool: pg.Pool; drop(): Promise<void> }> {
  const database = await createTestDatabase('observe')
  const pool = new pg.Pool({ connectionString: database.url, max: 4 })
  return {
    url: database.url,
    pool,
    async drop() {
      await pool.end()
      await database.drop()
    },
  }
}
