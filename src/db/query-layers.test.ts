/**
 * The query layers apps bring, over the worker's pool: Drizzle's node-postgres driver and
 * Kysely's PostgresDialect, on both databases. Each takes the pg.Pool as it is.
 */

import { eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { integer, pgTable, text } from 'drizzle-orm/pg-core'
import { Kysely, PostgresDialect } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Database, openDatabase } from '../../dist/db/index.js'
import { type Target, targets } from './_test/targets.js'

const notes = pgTable('notes', { id: integer('id').primaryKey(), body: text('body').notNull() })

interface Schema {
  notes: { id: number; body: string }
}

describe.each(targets)('query layers on %s', (_name, make) => {
  let target: Target
  let db: Database

  beforeAll(async () => {
    target = await make()
    db = openDatabase(target.options)
    await db.pool.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)')
  })
  afterAll(async () => {
    await db?.close()
    await target?.remove()
  })

  it('Drizzle writes and reads through the pool, in a transaction too', async () => {
    const orm = drizzle({ client: db.pool })
    await orm.insert(notes).values({ id: 1, body: 'from drizzle' })
    await orm.transaction(async (tx) => {
      await tx.update(notes).set({ body: 'edited by drizzle' }).where(eq(notes.id, 1))
    })
    expect(await orm.select().from(notes).where(eq(notes.id, 1))).toEqual([
      { id: 1, body: 'edited by drizzle' },
    ])
  })

  it('Kysely writes and reads through the pool, and its rolled-back transaction leaves nothing', async () => {
    // Kysely ends the pool it is given on destroy(): the app keeps its pool, so no destroy here.
    const kysely = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: db.pool }) })
    await kysely.insertInto('notes').values({ id: 2, body: 'from kysely' }).execute()
    await expect(
      kysely.transaction().execute(async (tx) => {
        await tx.insertInto('notes').values({ id: 3, body: 'never kept' }).execute()
        throw new Error('changed my mind')
      }),
    ).rejects.toThrow('changed my mind')
    const rows = await kysely.selectFrom('notes').selectAll().where('id', '>=', 2).orderBy('id').execute()
    expect(rows).toEqual([{ id: 2, body: 'from kysely' }])
  })
})
