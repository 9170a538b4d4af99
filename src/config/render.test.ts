import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../_test/temp.js'
import { shipshapeConfig } from '../server/index.js'
import { declaration, requiredEnv } from './_test/declaration.js'
import {
  type Declaration,
  docsMarkdown,
  type Entry,
  formatBytes,
  formatDuration,
  requiredMarker,
  resolveConfig,
  sample,
  sampleFormats,
  showJson,
  showText,
} from './index.js'

let temp: ReturnType<typeof tempDir>
afterEach(() => temp?.remove())

/** A required setting's example, written the way each format writes values. */
function filled(format: string, entry: Entry): string {
  const example = entry.setting.options.example
  if (format === 'env') return Array.isArray(example) ? example.join(',') : String(example)
  if (format === 'toml') return JSON.stringify(example)
  return JSON.stringify(example)
}

/** Fills each required setting the sample left empty with its declared example. */
function fillRequired(declaration: Declaration, format: string, text: string): string {
  let out = text
  for (const entry of declaration.entries.filter((candidate) => candidate.setting.options.required)) {
    const name = entry.path[entry.path.length - 1] as string
    const value = filled(format, entry)
    const patterns: Record<string, [RegExp, string]> = {
      env: [new RegExp(`^${entry.env}=$`, 'm'), `${entry.env}=${value}`],
      yaml: [new RegExp(`^(\\s*)${name}:$`, 'm'), `$1${name}: ${value}`],
      toml: [new RegExp(`^# ${name} =$`, 'm'), `${name} = ${value}`],
      json: [new RegExp(`^(\\s*)"${name}": null`, 'm'), `$1"${name}": ${value}`],
    }
    const [pattern, replacement] = patterns[format] as [RegExp, string]
    expect(out, `${format} sample leaves ${entry.key} to fill in`).toMatch(pattern)
    out = out.replace(pattern, replacement)
  }
  return out
}

function loadSample(
  declaration: Declaration,
  format: string,
  text: string,
  env: Record<string, string> = {},
) {
  temp = tempDir({ [`sample.${format}`]: text })
  return resolveConfig(declaration, {
    cwd: temp.dir,
    env,
    secretsDir: false,
    ...(format === 'env' ? { dotenv: 'sample.env' } : { file: `sample.${format}`, dotenv: false }),
  })
}

describe('samples', () => {
  it.each(sampleFormats)('%s: filled in, the sample loads to exactly the defaults', (format) => {
    const text = fillRequired(declaration, format, sample(declaration, format))
    const fromSample = loadSample(declaration, format, text)
    expect(fromSample.problems).toEqual([])
    temp.remove()
    const fromDefaults = resolveConfig(declaration, {
      env: { APP_DATABASE__URL: 'postgres://app:pw@db.internal:5432/app' },
      dotenv: false,
      secretsDir: false,
    })
    expect(JSON.parse(JSON.stringify(fromSample.values))).toEqual(
      JSON.parse(JSON.stringify(fromDefaults.values)),
    )
    expect(fromSample.values).toMatchObject({ database: { url: 'postgres://app:pw@db.internal:5432/app' } })
    const kinds = new Set([...fromSample.origins.values()].map((origin) => origin.kind))
    expect(kinds.has('default')).toBe(false)
  })

  it.each(sampleFormats)('%s: not filled in, the sample names each required setting', (format) => {
    const result = loadSample(declaration, format, sample(declaration, format))
    expect(result.problems.map((problem) => problem.key)).toEqual(['database.url'])
  })

  it.each(sampleFormats)("%s: shipshape's own sample loads without error", (format) => {
    const result = loadSample(shipshapeConfig, format, sample(shipshapeConfig, format))
    expect(result.problems).toEqual([])
    expect(result.values).toMatchObject({ server: { timeout: 30_000 } })
  })

  it.each(sampleFormats)('%s: marks required settings and never writes a secret', (format) => {
    const secretDefault = resolveConfig(declaration, { env: requiredEnv, dotenv: false, secretsDir: false })
    expect(secretDefault.problems).toEqual([])
    const text = sample(declaration, format)
    if (format !== 'json') expect(text).toContain(requiredMarker)
    expect(text).not.toContain('change-me-please')
    expect(text).not.toContain('postgres://app:pw')
  })
})

describe('docs', () => {
  it('a table per section with key, variable, type, default, required, secret and description', () => {
    const markdown = docsMarkdown(declaration, 'Reference')
    expect(markdown).toContain(
      '| Key | Environment variable | Type | Default | Required | Secret | Description |',
    )
    expect(markdown).toContain('| `timeout` | `APP_TIMEOUT` | duration | `5s` | no | no | Request timeout. |')
    expect(markdown).toContain(
      '| `database.url` | `APP_DATABASE__URL` | URL | none (required) | yes | yes | Database URL with its password. |',
    )
    expect(markdown).toContain('## mail\n\nOutgoing mail.')
    expect(markdown).toContain(
      '| `mail.password` | `SMTP_PASSWORD` | string | none | no | yes | SMTP password. |',
    )
    expect(markdown).not.toContain('change-me-please')
    expect(markdown).toContain('Example: `a.example`')
  })
})

describe('show', () => {
  it('prints each value with its source; secrets masked in text and JSON', () => {
    temp = tempDir({ 'app.yaml': 'timeout: 90s\nmaxUpload: 16KiB\n' })
    const result = resolveConfig(declaration, {
      cwd: temp.dir,
      file: 'app.yaml',
      env: { ...requiredEnv, SMTP_PASSWORD: 'mail-password-3' },
      secretsDir: false,
    })
    const text = showText(declaration, result)
    expect(text).toMatch(/^timeout +90s +app\.yaml:1$/m)
    expect(text).toMatch(/^maxUpload +16KiB +app\.yaml:2$/m)
    expect(text).toMatch(/^database\.url +\[secret\] +APP_DATABASE__URL$/m)
    expect(text).toMatch(/^mail\.password +\[secret\] +SMTP_PASSWORD$/m)
    const json = showJson(declaration, result)
    for (const output of [text, json, inspect(JSON.parse(json), { depth: 5 })]) {
      expect(output).not.toContain('hunter2')
      expect(output).not.toContain('mail-password-3')
    }
    expect(JSON.parse(json).settings).toContainEqual({
      key: 'mail.password',
      value: '[secret]',
      source: 'SMTP_PASSWORD',
      env: 'SMTP_PASSWORD',
    })
  })

  it('durations and sizes print in the largest unit that is exact, and read back the same', () => {
    expect([
      formatDuration(30_000),
      formatDuration(120_000),
      formatDuration(1500),
      formatDuration(0),
    ]).toEqual(['30s', '2m', '1500ms', '0ms'])
    expect([formatBytes(10_000_000), formatBytes(16_384), formatBytes(1024 ** 3), formatBytes(7)]).toEqual([
      '10MB',
      '16KiB',
      '1GiB',
      '7',
    ])
  })
})
