import { readFileSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../_test/cli.js'
import { tempDir } from '../_test/temp.js'
import { shipshapeReference } from './config.js'

const root = new URL('../..', import.meta.url).pathname
const reference = new URL('../../docs/config-reference.md', import.meta.url)

let temp: ReturnType<typeof tempDir>
afterEach(() => temp?.remove())

/** Runs the built `shipshape` in the temp directory with only the given variables (plus PATH). */
const shipshape = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd: temp.dir, env: { PATH: process.env.PATH ?? '', ...env } })

/** An app's declaration, as a user writes it, importing the built shipshape/config. */
const appModule = `
import { z } from '${root}node_modules/zod/index.js'
import { defineConfig, setting, duration } from '${root}dist/config/index.js'
export const declaration = defineConfig({
  siteName: setting(z.string(), { default: 'Shop', description: 'Shown in titles.' }),
  timeout: setting(duration(), { default: '5s', description: 'Request timeout.' }),
  database: {
    url: setting(z.url(), { required: true, secret: true, description: 'Database URL.', example: 'postgres://u:p@db/app' }),
  },
}, { envPrefix: 'SHOP_' })
`

describe('shipshape config', () => {
  it('docs/config-reference.md is up to date', () => {
    if (process.env.UPDATE_DOCS) writeFileSync(reference, shipshapeReference())
    expect(
      readFileSync(reference, 'utf8'),
      'docs/config-reference.md is stale: run `npm run docs` (or `npx shipshape config docs > docs/config-reference.md`)',
    ).toBe(shipshapeReference())
  })

  it('check: exit code 0 when valid, 1 listing every problem with its source', async () => {
    temp = tempDir({ 'shipshape.yaml': 'server:\n  workers: 2\n  timout: 5s\n' })
    const bad = await shipshape(['config', 'check'], { SHIPSHAPE_MAX_BODY_SIZE: '12abc' })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain(
      'server.timout from shipshape.yaml:3: expected a key of server, found an unknown key (did you mean server.timeout?)',
    )
    expect(bad.stderr).toContain('server.maxBodySize from SHIPSHAPE_MAX_BODY_SIZE: expected a size')
    temp.write('shipshape.yaml', 'server:\n  workers: 2\n  timeout: 5s\n')
    const good = await shipshape(['config', 'check'])
    expect(good).toMatchObject({ status: 0, stdout: expect.stringContaining('The settings are valid') })
  })

  it('show: every value with its source; --set and --config apply', async () => {
    temp = tempDir({ 'custom.toml': '[server]\nkeepAlive = "90s"\n' })
    const { status, stdout } = await shipshape(
      ['config', 'show', '--config', 'custom.toml', '--set', 'server.workers=3'],
      { SHIPSHAPE_TIMEOUT: '5s', PORT: '9000' },
    )
    expect(status).toBe(0)
    expect(stdout).toMatch(/^server\.keepAlive +90s +custom\.toml:2$/m)
    expect(stdout).toMatch(/^server\.workers +3 +--set server\.workers$/m)
    expect(stdout).toMatch(/^server\.timeout +5s +SHIPSHAPE_TIMEOUT$/m)
    expect(stdout).toMatch(/^server\.bind +0\.0\.0\.0:9000 +PORT$/m)
    expect(stdout).toMatch(/^server\.logLevel +info +the default$/m)
  })

  it.each(['env', 'yaml', 'json', 'toml'])(
    "sample --format %s: shipshape's own sample passes check as it is",
    async (format) => {
      temp = tempDir()
      const { stdout } = await shipshape(['config', 'sample', '--format', format])
      temp.write(format === 'env' ? '.env' : `sample.${format}`, stdout)
      const check = await shipshape([
        'config',
        'check',
        ...(format === 'env' ? [] : ['--config', `sample.${format}`]),
      ])
      expect(check.stderr).toBe('')
      expect(check.status).toBe(0)
    },
  )

  it("--module: an app's settings; show masks its secret, check names what is missing, docs and sample work", async () => {
    temp = tempDir({ 'settings.mjs': appModule })
    const missing = await shipshape(['config', 'check', '--module', 'settings.mjs'])
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain('database.url is not set: expected a value: set SHOP_DATABASE__URL')
    const partial = await shipshape(['config', 'show', '--module', 'settings.mjs'], { SHOP_TIMEOUT: 'soon' })
    expect(partial.status).toBe(1)
    expect(partial.stdout).toMatch(/^siteName +Shop +the default$/m)
    expect(partial.stdout).toMatch(/^timeout +\(invalid\) +SHOP_TIMEOUT$/m)
    expect(partial.stderr).toContain('timeout from SHOP_TIMEOUT: expected a duration')
    const secret = 'postgres://u:s3cret-pw@db/app'
    const shown = await shipshape(['config', 'show', '--module', 'settings.mjs'], {
      SHOP_DATABASE__URL: secret,
    })
    expect(shown.status).toBe(0)
    expect(shown.stdout).toMatch(/^database\.url +\[secret\] +SHOP_DATABASE__URL$/m)
    const json = await shipshape(['config', 'show', '--format', 'json', '--module', 'settings.mjs'], {
      SHOP_DATABASE__URL: secret,
    })
    for (const output of [shown.stdout, shown.stderr, json.stdout]) expect(output).not.toContain('s3cret')
    const docs = await shipshape(['config', 'docs', '--module', 'settings.mjs'])
    expect(docs.stdout).toContain('| `database.url` | `SHOP_DATABASE__URL` | URL |')
    const sample = await shipshape(['config', 'sample', '--format', 'env', '--module', 'settings.mjs'])
    expect(sample.stdout).toMatch(/^SHOP_DATABASE__URL=$/m)
    const typo = await shipshape(['config', 'check', '--module', 'settings.mjs'], {
      SHOP_DATABASE__URL: secret,
      SHOP_SITE_NAM: 'x',
    })
    expect(typo.stderr).toContain(
      'SHOP_SITE_NAM from the environment: expected a variable that names a setting, found an unknown variable (did you mean SHOP_SITE_NAME?)',
    )
  })

  it('rejects an unknown action, format or --set key, pointing at its own --help', async () => {
    temp = tempDir()
    expect((await shipshape(['config', 'shwo'])).status).toBe(2)
    const format = (await shipshape(['config', 'sample', '--format', 'ini'])).stderr
    expect(format).toContain('--format: expected env, yaml, json, toml')
    expect(format).toContain('`shipshape config --help` lists the options')
    expect((await shipshape(['config', 'check', '--set', 'server.nope=1'])).stderr).toContain(
      'server.nope from --set server.nope: expected a known key',
    )
  })
})
