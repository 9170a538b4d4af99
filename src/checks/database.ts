/** Checks on the database a deployment uses: the embedded one's limits, and the server's connection budget. */
import pg from 'pg'
import { needsSettings } from './_shared.js'
import { type DeployCheck, Skip } from './types.js'

export const embeddedDatabaseInstances: DeployCheck = {
  id: 'embedded-database-instances',
  subject: 'services',
  severity: 'error',
  title: 'The embedded database runs on one instance only',
  fix: 'Set DATABASE_URL to a Postgres server every instance reaches, or run one instance (SHIPSHAPE_INSTANCES=1).',
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    const database = settings.database
    if (database === undefined || database.url !== '' || database.instances <= 1) return []
    return [
      `SHIPSHAPE_INSTANCES is ${database.instances} without DATABASE_URL: each instance would keep its own embedded database on its own disk, so users would see different data from one request to the next`,
    ]
  },
}

export const databaseConnections: DeployCheck = {
  id: 'database-connections',
  subject: 'services',
  severity: 'warning',
  title: "The pools fit in the database server's max_connections",
  fix: 'Lower --db-pool-size or --workers, or raise max_connections on the server (or put PgBouncer in front): past the limit, new connections are refused and requests fail with 503.',
  run: async (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    const database = settings.database
    if (database === undefined || database.url === '') return []
    const client = new pg.Client({
      connectionString: database.url,
      connectionTimeoutMillis: Math.min(database.connectTimeoutMs, 5000),
    })
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (error) {
      return new Skip(
        `the database could not be reached to read max_connections (${(error as Error).message})`,
      )
    }
    try {
      const { rows } = await client.query(
        "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int AS usable",
      )
      const usable = rows[0].usable as number
      const wanted = database.poolSize * settings.workers * database.instances
      return wanted > usable
        ? [
            `${database.poolSize} connections × ${settings.workers} workers × ${database.instances} instances = ${wanted}, over the ${usable} the server accepts (max_connections less the superuser reserve)`,
          ]
        : []
    } finally {
      await client.end()
    }
  },
}
