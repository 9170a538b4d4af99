/** The database deploy checks, against the local Postgres for max_connections. */
import { afterEach, describe, expect, it } from 'vitest'
import { context, production, removeProjects } from './_test/context.js'
import { databaseConnections, embeddedDatabaseInstances } from './database.js'
import { Skip } from './types.js'

afterEach(removeProjects)

describe('the database checks', () => {
  it('refuse the embedded database on more than one instance', async () => {
    expect(await embeddedDatabaseInstances.run(context({ ...production, SHIPSHAPE_INSTANCES: '3' }))).toEqual(
      [expect.stringContaining('SHIPSHAPE_INSTANCES is 3 without DATABASE_URL')],
    )
    expect(await embeddedDatabaseInstances.run(context(production))).toEqual([])
    const url = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/postgres', SHIPSHAPE_INSTANCES: '3' }
    expect(await embeddedDatabaseInstances.run(context({ ...production, ...url }))).toEqual([])
  })

  it("warn when pool size × workers × instances passes the server's max_connections, read from the server", async () => {
    const env = {
      ...production,
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/postgres',
      SHIPSHAPE_WORKERS: '2',
    }
    expect(await databaseConnections.run(context(env))).toEqual([])
    const findings = await databaseConnections.run(context({ ...env, SHIPSHAPE_INSTANCES: '1000' }))
    expect(findings).toEqual([
      expect.stringMatching(/^10 connections × 2 workers × 1000 instances = 20000, over the \d+/),
    ])
    const down = await databaseConnections.run(
      context({ ...env, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/postgres' }),
    )
    expect(down).toBeInstanceOf(Skip)
  })
})
