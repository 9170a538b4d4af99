/**
 * shipshape/db under `shipshape serve`: the database process supervised by the primary (first
 * up, last down, left alone by a reload), two workers sharing it, and a Postgres that is down at
 * start-up (serve starts, /readyz says 503 and recovers by itself, the password never shows).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { get, type Running, ready, runCli, startServe } from '../_test/cli.js'
import { embeddedTarget, postgresTarget, relayToPostgres, type Target, until } from './_test/targets.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
let server: Running | undefined
let target: Target | undefined
afterEach(async () => {
  await server?.stop()
  await target?.remove()
  server = undefined
  target = undefined
})

describe('shipshape serve with the embedded database', () => {
  it('starts the database process first, shares it between two workers, keeps it over a reload and stops it last', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dbcore-serve-'))
    // Its data directory made beforehand: creating one takes longer than the harness waits for serve to listen.
    const dataDir = join(cwd, 'db')
    await (await embeddedTarget({ dataDir, socketDir: join(cwd, 'init-socket') })).supervisor?.stop()
    server = await startServe(
      [app, '--workers', '2', '--db-data-dir', dataDir],
      { SHIPSHAPE_DB_EMBEDDED: 'true' },
      undefined,
      {
        cwd,
      },
    )
    await ready(server, 2)
    const started = server.logs.findIndex((line) => line.msg === 'database process ready')
    const firstWorker = server.logs.findIndex((line) => line.msg === 'worker started')
    expect(started).toBeGreaterThanOrEqual(0)
    expect(started).toBeLessThan(firstWorker)
    // Ready once each worker's pool has proved the database answers: its first probe may still run.
    await until(async () => (await get(`${server?.url}/readyz`)).status === 200, '/readyz')

    // Concurrent transfers through both workers: no transaction mixes with another.
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        get(
          `${server?.url}/transfer?from=${1 + (i % 4)}&to=${1 + ((i + 1) % 4)}&amount=${10 + (i % 7) * 20}`,
        ),
      ),
    )
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200))
    const pids = new Set(
      (await Promise.all(Array.from({ length: 10 }, () => get(`${server?.url}/pid`)))).map((r) => r.body),
    )
    expect(pids.size).toBe(2)
    expect((await get(`${server.url}/total`)).body).toBe('400')

    process.kill(server.child.pid as number, 'SIGHUP')
    await server.waitForLog((line) => line.msg.startsWith('reload complete'), 'reload complete')
    expect(server.logs.filter((line) => line.msg === 'database process ready')).toHaveLength(1)
    expect((await get(`${server.url}/total`)).body).toBe('400')

    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    const messages = server.logs.map((line) => line.msg)
    expect(messages.lastIndexOf('database process stopped')).toBeGreaterThan(
      messages.lastIndexOf('worker exited'),
    )
  })
})

describe('shipshape serve with a Postgres that is down at start-up', () => {
  it('serves, answers /readyz 503 with a log line naming the host (never the password), recovers by itself, and again after an outage mid-way', async () => {
    target = await postgresTarget()
    const database = new URL(target.options.url).pathname
    // Nothing listens on the relay's port until it opens.
    const relay = await relayToPostgres()
    const port = relay.port
    const env = { DATABASE_URL: `postgresql://postgres:hunter2-secret@127.0.0.1:${port}${database}` }
    server = await startServe([app, '--workers', '1', '--db-connect-timeout', '1s'], env)
    await ready(server, 1)
    expect((await get(`${server.url}/readyz`)).status).toBe(503)
    expect((await get(`${server.url}/total`)).status).toBe(503)
    await server.waitForLog(
      (line) => line.msg.startsWith(`database unreachable: 127.0.0.1:${port}`),
      'the outage logged',
    )

    await relay.open()
    try {
      await until(async () => (await get(`${server?.url}/readyz`)).status === 200, '/readyz recovers')
      expect((await get(`${server.url}/total`)).body).toBe('400')
      // Gone mid-way: requests get 503 (not a hang), /readyz follows, and both recover again.
      relay.cut()
      expect((await get(`${server.url}/total`)).status).toBe(503)
      await until(async () => (await get(`${server?.url}/readyz`)).status === 503, '/readyz notices')
      await relay.open()
      await until(async () => (await get(`${server?.url}/total`)).body === '400', 'requests recover')
    } finally {
      relay.cut()
    }
    const shown = await runCli(['config', 'show'], { env: { ...process.env, ...env } })
    for (const output of [JSON.stringify(server.logs), server.stderr(), shown.stdout, shown.stderr]) {
      expect(output).not.toContain('hunter2')
    }
    expect(shown.stdout).toContain('DATABASE_URL')
  })
})
