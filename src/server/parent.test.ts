/**
 * `shipshape serve` under the real npm and npx: SIGTERM to npm or npx alone (as a platform that
 * signals its main process does) must not leave the primary and its workers serving, orphaned.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { cli, get, type Running, ready, startServe } from '../_test/cli.js'
import { eventually } from '../_test/pipeline.js'
import { tempDir } from '../_test/temp.js'
import { packageRunner } from './_parent.js'
import { fixture } from './_test/fixtures.js'

const app = fixture('app.ts')
const root = new URL('../../', import.meta.url).pathname
// The npm that runs this test (npm's own node_modules), else the one on the PATH.
const npmCli = process.env.npm_execpath?.endsWith('npm-cli.js')
  ? process.env.npm_execpath
  : '/usr/lib/node_modules/npm/bin/npm-cli.js'
const npxCli = join(dirname(npmCli), 'npx-cli.js')

/** A project that depends on shipshape (this checkout, linked) and whose script runs it without exec. */
const project = tempDir({
  'package.json': JSON.stringify({
    name: 'parent-fixture',
    private: true,
    dependencies: { shipshape: '*' },
    scripts: { serve: 'shipshape serve' },
  }),
})
mkdirSync(join(project.dir, 'node_modules/.bin'), { recursive: true })
symlinkSync(root, join(project.dir, 'node_modules/shipshape'))
// What npm links at install, as a script: the built bin.js has no exec bit (npm sets it when it installs).
writeFileSync(
  join(project.dir, 'node_modules/.bin/shipshape'),
  `#!/bin/sh\nexec node ${JSON.stringify(cli)} "$@"\n`,
  {
    mode: 0o755,
  },
)
// `#!/usr/bin/env node` must find this Node (the system one may be too old).
const env = { PATH: `${dirname(process.execPath)}:${process.env.PATH}` }

let server: Running | undefined
afterEach(async () => {
  await server?.stop()
  // npm is gone, so stop() did nothing: a primary that outlived it (the bug) is still in its group.
  try {
    if (server?.child.pid) process.kill(-server.child.pid, 'SIGKILL')
  } catch {}
  server = undefined
})
afterAll(() => project.remove())

/** Gone, or a zombie nobody has reaped yet (it serves nothing). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true
  } catch {
    return true
  }
}

async function orphanCheck(runner: string[]) {
  server = await startServe([app, '--workers', '2'], env, runner, { detached: true, cwd: project.dir })
  await ready(server, 2)
  const primary = server.logs.find((line) => typeof line.url === 'string')?.pid as number
  const workers = server.logs
    .filter((line) => line.msg === 'worker started')
    .map((line) => line.worker as number)
  expect(primary).not.toBe(server.child.pid)
  expect(workers).toHaveLength(2)
  expect((await get(`${server.url}/`)).status).toBe(200)
  server.child.kill('SIGTERM') // the package manager only, not the group
  const exit = await server.waitForLog(
    (line) => line.msg.startsWith('its parent process'),
    'parent exit noticed',
  )
  expect(exit.msg).toMatch(/shutting down as on SIGTERM/)
  await eventually(() => [primary, ...workers].every(gone), 'primary and workers gone')
  const exits = server.logs.filter((line) => line.msg === 'worker exited')
  expect(exits.map((line) => line.code)).toEqual([0, 0]) // drained, not killed
  await expect(get(`${server.url}/`)).rejects.toThrow(/ECONNREFUSED/)
  return server
}

describe('under npm and npx', () => {
  it('stops the primary and its workers when npm run (script without exec) is sent SIGTERM, and warned at start', async () => {
    const running = await orphanCheck([process.execPath, npmCli, 'run', 'serve', '--silent', '--'])
    const warning = running.logs.find((line) => line.msg.startsWith('shipshape serve runs under'))
    expect(warning).toMatchObject({ runner: 'npm' })
    expect(warning?.msg).toMatch(/exec/)
  })

  it('stops the primary and its workers when npx is sent SIGTERM', async () => {
    const running = await orphanCheck([process.execPath, npxCli, '--offline', 'shipshape', 'serve'])
    expect(running.logs.find((line) => line.msg.startsWith('shipshape serve runs under'))).toMatchObject({
      runner: 'npx',
    })
  })

  it('does not watch or warn when started directly', async () => {
    server = await startServe([app, '--workers', '1'], {
      npm_lifecycle_event: '',
      npm_execpath: '',
      npm_command: '',
      npm_config_user_agent: '',
    })
    await ready(server, 1)
    expect(server.logs.some((line) => line.msg.startsWith('shipshape serve runs under'))).toBe(false)
  })
})

describe('packageRunner', () => {
  it('names the package manager from its variables, else from the parent command', () => {
    expect(
      packageRunner({ npm_lifecycle_event: 'start', npm_config_user_agent: 'npm/11.0.0 node/v24' }, 1),
    ).toBe('npm')
    expect(
      packageRunner({ npm_lifecycle_event: 'start', npm_config_user_agent: 'pnpm/9.1.0 npm/? node/v24' }, 1),
    ).toBe('pnpm')
    expect(packageRunner({ npm_command: 'exec', npm_config_user_agent: 'npm/11.0.0' }, 1)).toBe('npx')
    expect(packageRunner({}, process.pid)).toBeUndefined() // this process is node running vitest
  })
})
