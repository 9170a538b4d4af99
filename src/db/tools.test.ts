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
