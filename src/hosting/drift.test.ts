/**
 * The deploy-files check: init's files pass it, and each way they drift into losing requests on
 * a deploy is named (docs/hosting.md lists them).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../_test/cli.js'
import { app, initDefaults, project, removeProjects } from './_test/projects.js'
import { deployFileDrift, initProject } from './index.js'

afterAll(removeProjects)

describe('drift, as check --deploy reads it', () => {
  it('passes on what init writes, and names each drift: npm in CMD, shell form, no USER, no User=, MemoryDenyWriteExecute, stop timeouts at or below the graceful timeout, Kamal on /up', () => {
    const dir = project({ 'app.js': app }, { main: 'app.js', name: 'drift' })
    initProject({ ...initDefaults, cwd: dir.dir })
    expect(deployFileDrift(dir.dir, 30_000)).toEqual([])
    const edit = (file: string, from: RegExp | string, to: string) =>
      writeFileSync(join(dir.dir, file), readFileSync(join(dir.dir, file), 'utf8').replace(from, to))
    edit('Dockerfile', /^CMD .*$/m, 'CMD ["npm", "start"]')
    edit('Dockerfile', /^USER node\n/m, '')
    edit('deploy/drift.service', /^User=drift\n/m, '')
    edit('deploy/drift.service', /^NoNewPrivileges=yes$/m, 'NoNewPrivileges=yes\nMemoryDenyWriteExecute=yes')
    edit('Procfile', /^web: .*$/m, 'web: npx shipshape serve app.js')
    edit('fly.toml', /^kill_timeout = \d+$/m, 'kill_timeout = 10')
    edit('deploy/kubernetes.yaml', /terminationGracePeriodSeconds: \d+/, 'terminationGracePeriodSeconds: 33')
    edit('config/deploy.yml', /^ {4}path: \/livez$/m, '    path: /up')
    const findings = deployFileDrift(dir.dir, 30_000).map((finding) =>
      finding.split(':').slice(0, 2).join(':'),
    )
    expect(findings).toEqual([
      'Dockerfile: CMD runs the server through a package manager (["npm", "start"])',
      'Dockerfile: the server runs as root (no USER in the last stage)',
      'Procfile: web',
      "Procfile: the graceful timeout (30 s) is not below Heroku's 30 s between SIGTERM and SIGKILL",
      'deploy/drift.service: no User=',
      "deploy/drift.service: MemoryDenyWriteExecute=yes stops Node.js at start-up (V8's JIT writes code it then runs)",
      "deploy/kubernetes.yaml: Deployment drift's terminationGracePeriodSeconds is 33 s, not above the graceful timeout (30 s + 5 s)",
      'fly.toml: kill_timeout is 10 s, not above the graceful timeout (30 s)',
      'config/deploy.yml: kamal-proxy checks /up, which shipshape does not answer',
    ])
    edit('Dockerfile', /^CMD .*$/m, 'CMD node app.js')
    expect(deployFileDrift(dir.dir, 30_000)[0]).toMatch(/CMD is in shell form/)
    // A longer graceful timeout than the unit allows.
    expect(deployFileDrift(dir.dir, 60_000).join('\n')).toMatch(
      /TimeoutStopSec is 45 s, not above the graceful timeout \(60 s\)/,
    )
  })

  it('is the deploy-files check of check --deploy', async () => {
    const dir = project({ 'app.js': app }, { main: 'app.js', name: 'drift' })
    initProject({ ...initDefaults, cwd: dir.dir })
    writeFileSync(join(dir.dir, 'Procfile'), 'web: npm start\n')
    const run = await runCli(['check', '--deploy', '--json'], { cwd: dir.dir })
    const outcome = JSON.parse(run.stdout).checks.find((check: { id: string }) => check.id === 'deploy-files')
    expect(outcome.status).toBe('failed')
    expect(outcome.findings).toEqual([
      expect.stringMatching(/^Procfile: web: goes through a package manager/),
      expect.stringMatching(/^Procfile: the graceful timeout \(30 s\) is not below Heroku's 30 s/),
    ])
  })
})
