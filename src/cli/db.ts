import { parseArgs } from 'node:util'
import { configError } from '../config/index.js'
import { listHints } from '../db/hints.js'
import { databaseOptions } from '../db/settings.js'
import { dump, migrate, restore, shell } from '../db/tools.js'
import { ShipshapeError } from '../errors/index.js'
import { createLogger } from '../observe/index.js'
import { resolveShipshapeSettings } from '../server/index.js'
import type { Command } from '../types.js'

const actions = ['migrate', 'shell', 'dump', 'restore', 'hints'] as const

export const command: Command = {
  help: `Usage: shipshape db <migrate|shell|dump|restore|hints> [file] [--config <file>]

The database \`shipshape serve\` uses: the Postgres server of DATABASE_URL, or the embedded
database in --db-data-dir (started for the command when no serve runs). See docs/db.md.

Actions:
  migrate
      Runs the migration command (database.migrate, SHIPSHAPE_DB_MIGRATE) with DATABASE_URL set,
      once: instances starting at once take an advisory lock, and all but the first skip it.
  shell
      psql on the database when psql is installed, else a small SQL shell.
  dump <file>
      A backup: pg_dump's custom format from Postgres; from the embedded database (serve
      stopped), its data directory as a .tar.gz.
  restore <file>
      Restores a dump: pg_restore into Postgres; into an empty embedded data directory.
  hints
      The missing indexes the APM found in the plans of slow queries: each table and columns,
      the query, and the CREATE INDEX CONCURRENTLY statement to judge (see docs/db-apm.md).

Options:
  --config <file>
      The config file \`shipshape serve\` reads.
      env SHIPSHAPE_CONFIG; default the first of shipshape.{yaml,yml,json,toml} that exists
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { config: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    })
    const [action, file, ...rest] = positionals
    if (!actions.includes(action as (typeof actions)[number]) || rest.length > 0) {
      throw new ShipshapeError('SHIPSHAPE_E_USAGE', `shipshape db takes one of ${actions.join(', ')}`)
    }
    if ((action === 'dump' || action === 'restore') === (file === undefined)) {
      throw new ShipshapeError(
        'SHIPSHAPE_E_USAGE',
        `shipshape db ${action} ${file === undefined ? 'needs a file' : 'takes no file'}`,
      )
    }
    const resolution = resolveShipshapeSettings({ configFile: values.config })
    const own = resolution.problems.filter((problem) => /^(database|server)\./.test(problem.key))
    if (own.length > 0 || resolution.values === undefined) throw configError(own, 'SHIPSHAPE_E_BAD_OPTION')
    const { database } = databaseOptions(
      resolution.values.database,
      process.cwd(),
      resolution.values.server.timeout,
    )
    const logger = createLogger({ level: 'info', buffered: false })
    if (action === 'migrate') {
      const outcome = await migrate(database, logger)
      process.stdout.write(
        outcome === 'ran' ? 'Migrations ran.\n' : 'Another instance ran the migrations; skipped.\n',
      )
      return 0
    }
    if (action === 'shell') return shell(database, logger)
    if (action === 'hints') {
      process.stdout.write(await listHints(database, logger))
      return 0
    }
    if (action === 'dump') await dump(database, file as string)
    else await restore(database, file as string)
    process.stdout.write(`${action === 'dump' ? 'Dumped to' : 'Restored from'} ${file}\n`)
    return 0
  },
}
