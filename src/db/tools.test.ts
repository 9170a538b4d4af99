/** `shipshape db migrate` on both databases: two instances at once run the command once. */
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../_test/cli.js'
import { embeddedTarget, postgresTarget, type Target } from './_test/targets.js'

let target: Target | undefined
afterEach(async () => {
  await target?.remove()
  target = undefined
})

/** The socket directory `shipshape db` derives from a data directory, so the CLI finds the test's database process. */
const socketDirOf = (dataDir: string) =>
  join(tmpdir(), `shipshape-db-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`)

describe.each([
  ['postgres', () => postgresTarget()],
  [
    'embedded',
    () => {
      const dataDir = join(mkdtempSync(join(tmpdir(), 'dbcore-migrate-')), 'db')
      return embeddedTarget({ dataDir, socketDir: socketDirOf(dataDir) })
    },
  ],
] as const)('shipshape db migrate on %s', (_name, make) => {
  it('runs the migration command once when two instances start at once', async () => {
    target = await make()
    const dir = mkdtempSync(join(tmpdir(), 'dbcore-migrate-out-'))
    const out = join(dir, 'runs.txt')
    const script = join(dir, 'migrate.mjs')
    writeFileSync(
      script,
      `import { appendFileSync } from 'node:fs'
import pg from '${new URL('../../node_modules/pg/esm/index.mjs', import.meta.url).pathname}'
const client = new pg.Client(process.env.DATABASE_URL)
await client.connect()
await client.query('CREATE TABLE IF NOT EXISTS migrated (at timestamptz DEFAULT now())')
await client.query('INSERT INTO migrated DEFAULT VALUES')
await client.end()
appendFileSync(${JSON.stringify(out)}, 'ran\\n')
await new Promise((resolve) => setTimeout(resolve, 1500)) // long enough for the other instance to arrive
`,
    )
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: target.options.url,
      SHIPSHAPE_DB_DATA_DIR: target.options.dataDir || join(dir, 'unused'),
      SHIPSHAPE_DB_MIGRATE: `${JSON.stringify(process.execPath)} ${JSON.stringify(script)}`,
    }
    if (target.options.url === '') {
      delete env.DATABASE_URL
      env.SHIPSHAPE_DB_EMBEDDED = 'true'
    }
    const runs = await Promise.all([
      runCli(['db', 'migrate'], { env, cwd: dir }),
      runCli(['db', 'migrate'], { env, cwd: dir }),
    ])
    expect(runs.map((run) => run.status)).toEqual([0, 0])
    expect(readFileSync(out, 'utf8')).toBe('ran\n')
    // Besides the JSON log lines, each says what it did.
    const said = runs.map((run) =>
      run.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('{')),
    )
    expect(said.flat().sort()).toEqual(['Another instance ran the migrations; skipped.', 'Migrations ran.'])
  })
})

describe('shipshape db dump and restore', () => {
  it('copy the embedded database whole, and refuse to restore over data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbcore-dump-'))
    const dataDir = join(dir, 'db')
    target = await embeddedTarget({ dataDir, socketDir: socketDirOf(dataDir) })
    const { openDatabase } = await import('../../dist/db/index.js')
    const db = openDatabase(target.options)
    await db.pool.query("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before the dump')")
    await db.close()
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SHIPSHAPE_DB_EMBEDDED: 'true',
      SHIPSHAPE_DB_DATA_DIR: dataDir,
    }
    delete env.DATABASE_URL
    // While the database process serves the directory, its files are in use.
    expect((await runCli(['db', 'dump', join(dir, 'x.tgz')], { env, cwd: dir })).status).toBe(1)
    await target.supervisor?.stop()
    const dumped = await runCli(['db', 'dump', join(dir, 'backup.tgz')], { env, cwd: dir })
    expect(dumped.status, dumped.stderr).toBe(0)
    expect((await runCli(['db', 'restore', join(dir, 'backup.tgz')], { env, cwd: dir })).stderr).toContain(
      'is not empty',
    )
    const restoredDir = join(dir, 'restored')
    const restoreEnv = { ...env, SHIPSHAPE_DB_DATA_DIR: restoredDir }
    const restored = await runCli(['db', 'restore', join(dir, 'backup.tgz')], { env: restoreEnv, cwd: dir })
    expect(restored.status, restored.stderr).toBe(0)
    const copy = await embeddedTarget({ dataDir: restoredDir, socketDir: join(dir, 'sock2') })
    const reopened = openDatabase(copy.options)
    expect((await reopened.pool.query('SELECT v FROM kept')).rows).toEqual([{ v: 'before the dump' }])
    await reopened.close()
    await copy.remove()
  })

  it('go through pg_dump and pg_restore on Postgres', async () => {
    target = await postgresTarget()
    const { openDatabase } = await import('../../dist/db/index.js')
    const db = openDatabase(target.options)
    await db.pool.query("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before the dump')")
    const dir = mkdtempSync(join(tmpdir(), 'dbcore-pgdump-'))
    const env = { ...process.env, DATABASE_URL: target.options.url }
    expect((await runCli(['db', 'dump', join(dir, 'backup.dump')], { env, cwd: dir })).status).toBe(0)
    await db.pool.query("UPDATE kept SET v = 'changed after'")
    const restored = await runCli(['db', 'restore', join(dir, 'backup.dump')], { env, cwd: dir })
    expect(restored.status, restored.stderr).toBe(0)
    expect((await db.pool.query('SELECT v FROM kept')).rows).toEqual([{ v: 'before the dump' }])
    await db.close()
  })
})
