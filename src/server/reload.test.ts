/** `shipshape reload` against a real `shipshape serve`: it waits for the outcome and says it. */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { get, type Running, ready, runCli, startServe } from '../_test/cli.js'
import { fixture } from './_test/fixtures.js'

let server: Running | undefined

afterEach(async () => {
  await server?.stop()
  server = undefined
})

describe('shipshape reload', () => {
  it('`shipshape reload` waits for the outcome: 1 naming the app’s error when the new code fails, 0 once it serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-reload-'))
    const entry = join(dir, 'app.mjs')
    writeFileSync(entry, "export default (req, res) => res.end('old code\\n')\n")
    server = await startServe([entry, '--workers', '1'])
    await ready(server, 1)
    writeFileSync(entry, "throw new Error('the new code is broken')\n")
    const failed = await runCli(['reload', '--pidfile', server.pidfile])
    expect(failed).toMatchObject({ status: 1 })
    expect(failed.stderr).toContain('SHIPSHAPE_E_RELOAD_FAILED')
    expect(failed.stderr).toContain('a new worker could not start; the old workers keep serving')
    expect(failed.stderr).toContain('the new code is broken')
    expect((await get(`${server.url}/`)).body).toBe('old code\n')
    writeFileSync(entry, "export default (req, res) => res.end('new code\\n')\n")
    const reloaded = await runCli(['reload', '--pidfile', server.pidfile])
    expect(reloaded).toMatchObject({ status: 0 })
    expect(reloaded.stdout).toContain('Reload complete')
    expect((await get(`${server.url}/`)).body).toBe('new code\n') // at once: the new worker serves
  })

  it('exits 1 when another reload is still in progress, and 0 for that one once it completes', async () => {
    // Each worker takes 2 s to start, so the first reload is still running when the second comes.
    server = await startServe([fixture('app.ts'), '--workers', '1'], { FIXTURE_BOOT_MS: '2000' })
    await ready(server, 1)
    expect(statSync(`${server.pidfile}.reload`).mode & 0o777).toBe(0o600)
    const first = runCli(['reload', '--pidfile', server.pidfile])
    await server.waitForLog((l) => l.msg === 'reload started', 'reload started')
    const second = await runCli(['reload', '--pidfile', server.pidfile])
    expect(second).toMatchObject({ status: 1 })
    expect(second.stderr).toContain('SHIPSHAPE_E_RELOAD_FAILED')
    expect(second.stderr).toContain('another reload was in progress')
    expect(await first).toMatchObject({ status: 0 })
  })
})
