/**
 * The demo's deploy files (Procfile, Dockerfile, the systemd unit, Kubernetes, fly.toml, Kamal,
 * the CI workflow, .env.example) are `shipshape init`'s, run in examples/demo, and committed: this
 * keeps them in step with init. When it fails, init has changed: run `shipshape init --force` in
 * examples/demo (after `npm run build`), read the diff and commit it.
 */
import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/_test/cli.js'

const demo = new URL('.', import.meta.url).pathname

describe('the demo’s deploy files', () => {
  it('are what shipshape init writes for the demo now, and check --deploy finds no drift in them', async () => {
    const init = await runCli(['init', '--dry-run'], { cwd: demo })
    expect(init.stderr).toBe('')
    expect(init.status).toBe(0)
    const [summary, diff, ...files] = init.stdout.trim().split('\n')
    expect(summary).toBe(
      'shipshape init: shipshape-demo, npm (package-lock.json), Node 24, app dist/app.js (package.json main)',
    )
    expect(diff).toBe('Nothing to write.')
    // shipshape.yaml is the demo's own (its checks, its ingest key): kept; every other file byte for byte.
    expect(files.map((line) => line.trim().split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'kept shipshape.yaml',
      'unchanged .env.example',
      'unchanged Procfile',
      'unchanged Dockerfile',
      'unchanged .dockerignore',
      'unchanged deploy/shipshape-demo.service',
      'unchanged deploy/kubernetes.yaml',
      'unchanged fly.toml',
      'unchanged config/deploy.yml',
      'unchanged .github/workflows/ci.yml',
    ])

    const check = await runCli(['check', '--deploy', '--json'], { cwd: demo })
    const deployFiles = JSON.parse(check.stdout).checks.find(
      (outcome: { id: string }) => outcome.id === 'deploy-files',
    )
    expect(deployFiles).toMatchObject({ status: 'passed' })
    expect(deployFiles.findings ?? []).toEqual([])
  })
})
