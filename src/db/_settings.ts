/**
 * The database settings group (see docs/db.md): a real Postgres when DATABASE_URL (or the PG*
 * variables) is set, the embedded PGlite database otherwise, and the pool's limits, which
 * replace pg's "wait forever" defaults. It becomes the DatabaseOptions every worker's pool and
 * the database process are built from.
 */
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { duration, group, type Infer, setting } from '../config/index.js'
import { type DatabaseOptions, maskedUrl, urlProblem } from './_url.js'

const seconds = () => duration({ bareUnit: 's' })

/** The PG* variables libpq reads, folded into one URL when DATABASE_URL is unset. */
const pgVariables = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSSLMODE'] as const

export const databaseSettings = group(
  {
    url: setting(z.string().min(1), {
      env: 'DATABASE_URL',
      flag: false,
      secret: true,
      envFallback: {
        names: pgVariables,
        read(env) {
          if (env.PGHOST === undefined && env.PGDATABASE === undefined) return undefined
          const url = new URL('postgresql://localhost')
          url.hostname = env.PGHOST?.startsWith('/') ? '' : (env.PGHOST ?? 'localhost')
          if (env.PGPORT) url.port = env.PGPORT
          url.username = encodeURIComponent(env.PGUSER ?? '')
          url.password = encodeURIComponent(env.PGPASSWORD ?? '')
          url.pathname = `/${encodeURIComponent(env.PGDATABASE ?? '')}`
          if (env.PGHOST?.startsWith('/')) url.searchParams.set('host', env.PGHOST)
          if (env.PGSSLMODE) url.searchParams.set('sslmode', env.PGSSLMODE)
          return url.href
        },
      },
      shownDefault: 'none: the embedded PGlite database in --db-data-dir',
      description:
        'A Postgres server: postgresql://user:password@host:5432/name?sslmode=verify-full. Without it (and without PGHOST/PGDATABASE), shipshape runs PGlite, an embedded Postgres, in one database process beside the workers: right for one machine, wrong for several (each would have its own data). `sslmode` in the URL is honoured (require, verify-ca, verify-full; disable for none). The password is never logged or shown.',
      example: 'postgresql://app:secret@db.internal:5432/app?sslmode=verify-full',
    }),
    sslCaFile: setting(z.string().min(1), {
      shownDefault: "none: the system's certificate authorities",
      description:
        "A PEM file of the certificate authority that signed the server's certificate (managed databases publish theirs, e.g. AWS RDS's global bundle). Setting it turns on verify-full unless the URL's sslmode says otherwise.",
      example: '/etc/ssl/rds-global-bundle.pem',
    }),
    poolSize: setting(z.coerce.number().int().min(1).max(1000), {
      default: 10,
      description:
        "Connections each worker keeps open at most. Each costs the server a process (~10 MB on Postgres): pool size × workers × instances must stay under the server's max_connections (check --deploy reads it).",
    }),
    connectTimeout: setting(seconds(), {
      default: '5s',
      description:
        "How long a request waits for a connection (a new one, or one free in the pool) before it fails with 503. pg's own default waits forever, so a database that is down would hang every request until its timeout.",
    }),
    statementTimeout: setting(seconds(), {
      shownDefault: '1s under --timeout (29s with the default 30s; 30s when --timeout is 0)',
      description:
        "Postgres's statement_timeout for every connection: a statement running longer is cancelled. Below the request timeout, so a slow query fails as a query (with its SQL in the error) rather than as an anonymous request timeout, and its connection is freed. 0 turns it off.",
    }),
    idleInTransactionTimeout: setting(seconds(), {
      default: '30s',
      description:
        "Postgres's idle_in_transaction_session_timeout: a transaction left open and idle this long (a request that forgot to COMMIT, or crashed) is rolled back and its connection closed, releasing its locks. 0 turns it off.",
    }),
    maxLifetime: setting(seconds(), {
      default: '30m',
      description:
        'A pooled connection older than this is closed once idle and replaced. Managed databases and proxies (RDS Proxy, PgBouncer, cloud load balancers) drop old connections; this retires them first. 0 keeps connections forever.',
    }),
    idleTimeout: setting(seconds(), {
      default: '30s',
      description:
        'A connection idle in the pool this long is closed (the pool opens a new one when needed).',
    }),
    embedded: setting(z.boolean(), {
      default: true,
      description:
        'Without DATABASE_URL, run the embedded database: one database process beside the workers (about 100 MB, and a few seconds to create the data directory on first start). false: no database at all, for apps that use none; pool() then throws.',
    }),
    dataDir: setting(z.string().min(1), {
      default: 'data/db',
      description:
        "The embedded database's data directory, relative to the working directory; created on first start. Back it up with `shipshape db dump`. Ignored when DATABASE_URL is set.",
    }),
    instances: setting(z.coerce.number().int().min(1), {
      default: 1,
      env: 'SHIPSHAPE_INSTANCES',
      description:
        "How many machines (instances, replicas) run this app. Read by `check --deploy`: the embedded database on more than one is an error (each would have its own data), pool size × workers × instances must fit in the server's max_connections, and a memory-only cache on more than one answers with each instance's own copy.",
    }),
    busyTimeout: setting(seconds(), {
      default: '5s',
      description:
        'The embedded database has one backend: a connection inside a transaction holds it until the transaction ends, and others wait in turn, at most this long, then fail with SHIPSHAPE_E_DB_BUSY (503). Ignored with DATABASE_URL.',
    }),
    migrate: setting(z.string().min(1), {
      shownDefault: 'none',
      description:
        "The app's migration command (`npx drizzle-kit migrate`, `npx prisma migrate deploy`, `node migrate.js`), run by `shipshape db migrate` with DATABASE_URL set for it, under a Postgres advisory lock so that instances starting at once never run it twice.",
      example: 'npx drizzle-kit migrate',
    }),
    migrateOnServe: setting(z.boolean(), {
      default: false,
      description:
        '`shipshape serve` runs the migration command once the database is up and before any worker starts; a failed migration stops the start. Off by default: most deployments run it as a release step (`shipshape db migrate`).',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_DB_',
    flagPrefix: 'db-',
    description:
      'The database: a real Postgres with DATABASE_URL, else embedded PGlite; the pool every worker keeps open. See [db.md](db.md).',
    checks: [
      {
        uses: ['url'],
        problems: ({ url }) => {
          const problem = url === undefined ? undefined : urlProblem(url)
          return problem === undefined
            ? []
            : [{ key: 'url', expected: `a postgresql:// URL; ${maskedUrl(url as string)} ${problem}` }]
        },
      },
    ],
  },
)

export type DatabaseSettings = Infer<typeof databaseSettings.shape>

/**
 * What the settings become for `shipshape serve` and the db commands. `requestTimeoutMs` is the
 * server's --timeout, which the statement timeout's default stays under.
 */
export function databaseOptions(
  settings: DatabaseSettings,
  cwd: string,
  requestTimeoutMs: number,
): { database: DatabaseOptions } {
  const dataDir = resolve(cwd, settings.dataDir)
  let url = settings.url ?? ''
  if (url !== '' && settings.sslCaFile !== undefined) {
    const parsed = new URL(url)
    parsed.searchParams.set('sslrootcert', resolve(cwd, settings.sslCaFile))
    if (!parsed.searchParams.has('sslmode')) parsed.searchParams.set('sslmode', 'verify-full')
    url = parsed.href
  }
  return {
    database: {
      url,
      embedded: settings.embedded,
      dataDir,
      // Socket paths are limited to 107 bytes, so not under the data directory (which may be
      // deep): a directory named after it, the same for every command that reaches it.
      socketDir: join(
        tmpdir(),
        `shipshape-db-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`,
      ),
      poolSize: settings.poolSize,
      connectTimeoutMs: settings.connectTimeout,
      statementTimeoutMs:
        settings.statementTimeout ??
        (requestTimeoutMs > 0 ? Math.max(1000, requestTimeoutMs - 1000) : 30_000),
      idleInTransactionMs: settings.idleInTransactionTimeout,
      maxLifetimeMs: settings.maxLifetime,
      idleTimeoutMs: settings.idleTimeout,
      busyTimeoutMs: settings.busyTimeout,
      instances: settings.instances,
      migrate: settings.migrate ?? '',
      migrateOnServe: settings.migrateOnServe,
    },
  }
}
