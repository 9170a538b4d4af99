/**
 * What `shipshape db` does: migrate (the app's command, once, under a lock), shell, dump and
 * restore, on a Postgres server or the embedded database. Apart from shipshape/db's index: only
 * the db command loads it.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline/promises'
import pg from 'pg'
import { ShipshapeError } from '../errors/index.js'
import type { Logger } from '../observe/index.js'
import { type DatabaseOptions, socketName } from './_url.js'
import { superviseDatabase } from './supervisor.js'

/** The advisory lock key `db migrate` holds: any fixed 64-bit number, the same for every instance. */
const migrateLock = '7406208341729853519'

/** How a client reaches the database: a URL without the password, and the password apart (for PGPASSWORD). */
function connection(options: DatabaseOptions): { url: string; password: string } {
  if (options.url === '')
    return { url: `postgresql://postgres@/postgres?host=${options.socketDir}`, password: '' }
  const url = new URL(options.url)
  const password = decodeURIComponent(url.password)
  url.password = ''
  return { url: url.href, password }
}

/** True when a database process serves the embedded database now (a `shipshape serve` runs). */
function served(options: DatabaseOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(join(options.socketDir, socketName))
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
}

/** Runs `work` with the database reachable: the embedded one is started for it if no serve runs. */
export async function reachable<T>(
  options: DatabaseOptions,
  logger: Logger,
  work: () => Promise<T>,
): Promise<T> {
  if (options.url === '' && !options.embedded) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_DB_NO_POOL',
      'no DATABASE_URL is set and the embedded database is off (--db-embedded false)',
    )
  }
  if (options.url !== '' || (await served(options))) return work()
  const database = await superviseDatabase(options, logger)
  try {
    return await work()
  } finally {
    await database.stop()
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, shell = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, ...env }, shell })
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

/**
 * Runs the migration command once. Several instances starting at once (a deploy's release step
 * on each machine) take a Postgres advisory lock: the first runs the command, the others wait
 * for it to finish and then skip it. The embedded database has one backend for every
 * connection, so there the lock is a file in its data directory instead.
 */
export async function migrate(options: DatabaseOptions, logger: Logger): Promise<'ran' | 'skipped'> {
  if (options.migrate === '') {
    throw new ShipshapeError(
      'SHIPSHAPE_E_DB_MIGRATE',
      'no migration command is set (database.migrate, SHIPSHAPE_DB_MIGRATE)',
    )
  }
  const { url, password } = connection(options)
  const command = async () => {
    logger.info({ command: options.migrate }, 'running the migration command')
    const env = {
      DATABASE_URL: options.url === '' ? url : options.url,
      ...(password ? { PGPASSWORD: password } : {}),
    }
    const code = await run(options.migrate, [], env, true)
    if (code !== 0)
      throw new ShipshapeError('SHIPSHAPE_E_DB_MIGRATE', `${options.migrate} exited with code ${code}`)
  }
  return reachable(options, logger, async () => {
    if (options.url === '') return withLockFile(join(options.dataDir, '.migrate.lock'), command)
    const client = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: options.connectTimeoutMs,
    })
    await client.connect()
    try {
      const { rows } = await client.query('SELECT pg_try_advisory_lock($1::bigint) AS got', [migrateLock])
      if (!rows[0].got) {
        logger.info('another instance is running the migrations; waiting for it, then skipping them')
        await client.query('SELECT pg_advisory_lock($1::bigint)', [migrateLock])
        return 'skipped'
      }
      await command()
      return 'ran'
    } finally {
      await client.query('SELECT pg_advisory_unlock_all()').catch(() => {})
      await client.end()
    }
  })
}

/** The embedded database's lock: a file naming its holder's pid; a dead holder's file is taken over. */
async function withLockFile(path: string, work: () => Promise<void>): Promise<'ran' | 'skipped'> {
  let waited = false
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' })
      break
    } catch {
      const holder = Number(readFileSync(path, 'utf8'))
      if (!alive(holder)) rmSync(path, { force: true })
      else {
        waited = true
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
  }
  try {
    if (waited) return 'skipped'
    await work()
    return 'ran'
  } finally {
    rmSync(path, { force: true })
  }
}

function alive(pid: number): boolean {
  try {
    return pid > 0 && process.kill(pid, 0)
  } catch {
    return false
  }
}

/** psql when it is installed, else a small REPL: one statement per `;`, rows shown as a table. */
export async function shell(options: DatabaseOptions, logger: Logger): Promise<number> {
  const { url, password } = connection(options)
  return reachable(options, logger, async () => {
    if (spawnSync('psql', ['--version']).status === 0)
      return run('psql', [url], password ? { PGPASSWORD: password } : {})
    const client = new pg.Client({ connectionString: options.url || url })
    await client.connect()
    const lines = createInterface({ input: process.stdin, output: process.stdout, prompt: 'db> ' })
    process.stdout.write(
      'psql is not installed: a small SQL shell. End statements with ; and quit with Ctrl-D.\n',
    )
    let statement = ''
    lines.prompt()
    for await (const line of lines) {
      statement += `${line}\n`
      if (line.trim().endsWith(';')) {
        try {
          const result = await client.query(statement)
          for (const one of Array.isArray(result) ? result : [result]) {
            if (one.rows.length > 0) console.table(one.rows)
            else process.stdout.write(`${one.command} ${one.rowCount ?? ''}\n`)
          }
        } catch (error) {
          process.stdout.write(`ERROR: ${(error as Error).message}\n`)
        }
        statement = ''
      }
      lines.prompt()
    }
    await client.end()
    return 0
  })
}

async function refuseWhileServed(options: DatabaseOptions, what: string): Promise<void> {
  if (await served(options)) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_DB_PROCESS',
      `a running shipshape serve holds ${options.dataDir}; stop it before the ${what} (the embedded database's files are copied whole)`,
    )
  }
}

/**
 * A backup: pg_dump's custom format from a Postgres server; from the embedded database, its
 * data directory as a gzipped tarball (PGlite's dumpDataDir; the pg_dump of this machine is
 * older than PGlite's Postgres 18 and refuses it), taken while no serve runs.
 */
export async function dump(options: DatabaseOptions, file: string): Promise<void> {
  if (options.url !== '') {
    const { url, password } = connection(options)
    const code = await run('pg_dump', ['--format=custom', `--file=${file}`, url], { PGPASSWORD: password })
    if (code !== 0) throw new ShipshapeError('SHIPSHAPE_E_DB_PROCESS', `pg_dump exited with code ${code}`)
    return
  }
  await refuseWhileServed(options, 'dump')
  const { PGlite } = await import('@electric-sql/pglite')
  const db = await PGlite.create({ dataDir: options.dataDir })
  const tarball = await db.dumpDataDir('gzip')
  await db.close()
  writeFileSync(file, Buffer.from(await tarball.arrayBuffer()))
}

/** Restores what dump() wrote: pg_restore into a server; into an empty embedded data directory. */
export async function restore(options: DatabaseOptions, file: string): Promise<void> {
  if (options.url !== '') {
    const { url, password } = connection(options)
    const code = await run('pg_restore', ['--clean', '--if-exists', '--no-owner', `--dbname=${url}`, file], {
      PGPASSWORD: password,
    })
    if (code !== 0) throw new ShipshapeError('SHIPSHAPE_E_DB_PROCESS', `pg_restore exited with code ${code}`)
    return
  }
  await refuseWhileServed(options, 'restore')
  if (existsSync(options.dataDir) && readdirSync(options.dataDir).length > 0) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_DB_PROCESS',
      `${options.dataDir} is not empty; move it aside (or choose another --db-data-dir) to restore into`,
    )
  }
  const { PGlite } = await import('@electric-sql/pglite')
  const db = await PGlite.create({ dataDir: options.dataDir, loadDataDir: new Blob([readFileSync(file)]) })
  await db.close()
}
