import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { tempDir } from '../_test/temp.js'
import { isShipshapeError } from '../errors/index.js'
import { dbPassword, declaration, loadIn, requiredEnv, thrown } from './_test/declaration.js'
import { defineConfig, group, type LoadOptions, loadConfig, resolveConfig, setting } from './index.js'

let temp: ReturnType<typeof tempDir>
afterEach(() => temp?.remove())

const load = (env: Record<string, string>, options: LoadOptions = {}) => loadIn(temp.dir, env, options)

describe('precedence: default < file < .env < environment < secret file < command line', () => {
  const sources = ['command-line', 'secret-file', 'env', 'dotenv', 'file'] as const
  // Every combination of the five sources above the default: the highest one present wins.
  const combinations = Array.from({ length: 2 ** sources.length }, (_, bits) =>
    sources.filter((_, index) => bits & (1 << index)),
  )

  it.each(
    combinations.map((present) => [present.join(' + ') || 'nothing but the default', present] as const),
  )('%s: the highest present wins', (_, list) => {
    const present = new Set<string>(list)
    temp = tempDir({
      'app.yaml': 'siteName: from-file\n',
      '.env': 'APP_SITE_NAME=from-dotenv\n',
      'secrets/APP_SITE_NAME': 'from-secret-file\n',
    })
    const env: Record<string, string> = {}
    if (present.has('env')) env.APP_SITE_NAME = 'from-env'
    // From the secrets directory: APP_SITE_NAME_FILE beside APP_SITE_NAME is an error (below).
    const result = load(env, {
      secretsDir: present.has('secret-file') ? 'secrets' : false,
      file: present.has('file') ? 'app.yaml' : undefined,
      dotenv: present.has('dotenv') ? '.env' : false,
      overrides: present.has('command-line') ? { siteName: 'from-command-line' } : {},
    })
    const winner = sources.find((source) => present.has(source)) ?? 'default'
    expect(result.problems).toEqual([])
    expect(result.origins.get('siteName')?.kind).toBe(winner)
    expect(result.values?.siteName).toBe(winner === 'default' ? 'demo' : `from-${winner}`)
  })

  it('each setting takes its own highest source, and show-able origins name the exact place', () => {
    temp = tempDir({
      'app.yaml': 'siteName: from-file\nworkers: 3\ndatabase:\n  poolSize: 4\n',
      '.env': '# dev\nAPP_RATIO=0.25\n',
    })
    const result = load({ APP_WORKERS: '5' }, { file: 'app.yaml', overrides: { 'database.poolSize': '6' } })
    expect(result.values).toMatchObject({
      siteName: 'from-file',
      workers: 5,
      ratio: 0.25,
      debug: false,
      database: { poolSize: 6 },
    })
    const labels = Object.fromEntries([...result.origins].map(([key, origin]) => [key, origin.label]))
    expect(labels).toMatchObject({
      siteName: 'app.yaml:1',
      workers: 'APP_WORKERS',
      ratio: '.env:2 (APP_RATIO)',
      debug: 'the default',
      'database.poolSize': '--set database.poolSize',
      'mail.password': 'not set',
    })
  })

  it('the file path comes from --config, else the prefix variable, else the first default location that exists', () => {
    temp = tempDir({ 'a.yaml': 'siteName: a\n', 'b.json': '{"siteName": "b"}', 'c.toml': 'siteName = "c"\n' })
    expect(load({}, { file: 'a.yaml', files: ['c.toml'] }).values?.siteName).toBe('a')
    expect(load({ APP_CONFIG: 'b.json' }, { files: ['c.toml'] }).values?.siteName).toBe('b')
    expect(load({}, { files: ['missing.yaml', 'c.toml'] }).values?.siteName).toBe('c')
    expect(load({}, { files: ['missing.yaml'] }).values?.siteName).toBe('demo')
    expect(load({}, { file: 'missing.yaml' }).problems).toMatchObject([
      { key: '(config file)', source: 'missing.yaml', found: 'does not exist' },
    ])
  })
})

describe('config files: YAML, JSON and TOML', () => {
  const bodies = {
    yaml: `siteName: Shop
debug: yes
hosts: [a.example, b.example]
timeout: 2m
maxUpload: 1GiB
features:
  beta: true
database:
  poolSize: 3
mail:
  host: smtp.example
`,
    json: `{
  "siteName": "Shop",
  "debug": true,
  "hosts": ["a.example", "b.example"],
  "timeout": "2m",
  "maxUpload": "1GiB",
  "features": { "beta": true },
  "database": { "poolSize": 3 },
  "mail": { "host": "smtp.example" }
}
`,
    toml: `siteName = "Shop"
debug = true
hosts = ["a.example", "b.example"]
timeout = "2m"
maxUpload = "1GiB"
features = { beta = true }

[database]
poolSize = 3

[mail]
host = "smtp.example"
`,
  }

  it.each(Object.entries(bodies))('%s gives the same typed values', (format, body) => {
    temp = tempDir({ [`app.${format}`]: body })
    const result = load({}, { file: `app.${format}` })
    expect(result.problems).toEqual([])
    expect(result.values).toMatchObject({
      siteName: 'Shop',
      debug: true,
      hosts: ['a.example', 'b.example'],
      timeout: 120_000,
      maxUpload: 1024 ** 3,
      features: { beta: true },
      database: { poolSize: 3 },
      mail: { host: 'smtp.example' },
    })
    expect(result.origins.get('database.poolSize')?.label).toBe(
      `app.${format}:${{ yaml: 9, json: 8, toml: 9 }[format as 'yaml']}`,
    )
  })

  const typos = {
    yaml: ['siteName: x\ndatabase:\n  pooolSize: 3\n', 3],
    json: ['{\n  "siteName": "x",\n  "database": {\n    "pooolSize": 3\n  }\n}\n', 4],
    toml: ['siteName = "x"\n\n[database]\npooolSize = 3\n', 4],
  } as const

  it.each(Object.entries(typos))(
    '%s: an unknown key is an error at file:line with a did-you-mean',
    (format, [body, line]) => {
      temp = tempDir({ [`app.${format}`]: body })
      expect(load({}, { file: `app.${format}` }).problems).toEqual([
        {
          key: 'database.pooolSize',
          source: `app.${format}:${line}`,
          expected: 'a key of database',
          found: 'an unknown key',
          hint: 'did you mean database.poolSize?',
        },
      ])
    },
  )

  it('a key written at the wrong level points to where it belongs', () => {
    temp = tempDir({ 'app.yaml': 'poolSize: 3\nhost: x\n' })
    const hints = load({}, { file: 'app.yaml' }).problems.map((problem) => problem.hint)
    expect(hints).toEqual(['did you mean database.poolSize?', 'did you mean mail.host?'])
  })

  it.each([
    [
      'app.yaml',
      'siteName: x\ndatabase:\n  url: postgres://u:hunter2hunter2@db\n   poolSize: 3\n',
      'not valid YAML',
    ],
    ['app.json', `{"database": {"url": "postgres://u:${dbPassword}@db" "poolSize": 3}}`, 'not valid JSON'],
    ['app.toml', `[database]\nurl = "postgres://u:${dbPassword}@db\n`, 'not valid TOML'],
  ])('%s: a syntax error gives file:line and the reason, never the text around it', (name, body, reason) => {
    temp = tempDir({ [name]: body })
    const [problem] = load({}, { file: name }).problems
    expect(problem?.source).toMatch(new RegExp(`^${name.replace('.', '\\.')}:\\d+$`))
    expect(problem?.found).toContain(reason)
    expect(JSON.stringify(problem)).not.toContain(dbPassword)
  })

  it('a scalar where a section belongs, and a wrong type in a file, name the file line', () => {
    temp = tempDir({ 'app.yaml': 'database: 3\nworkers: many\nhosts: {a: 1}\n' })
    expect(load({}, { file: 'app.yaml' }).problems).toEqual([
      { key: 'database', source: 'app.yaml:1', expected: 'a section of settings (a mapping)', found: '3' },
      { key: 'workers', source: 'app.yaml:2', expected: 'a whole number of 1 or more', found: '"many"' },
      {
        key: 'hosts',
        source: 'app.yaml:3',
        expected: 'a list (comma-separated or a JSON array) of strings',
        found: '{ a: 1 }',
      },
    ])
  })

  it('an empty key in a file means unset, as in a sample not filled in', () => {
    temp = tempDir({ 'app.yaml': 'siteName:\ndatabase:\n  url:\n' })
    const result = load({}, { file: 'app.yaml' })
    expect(result.values?.siteName).toBe('demo')
    expect(result.values?.database.url).toBe(requiredEnv.APP_DATABASE__URL)
  })
})

describe('errors: all at once, each with key, source, expected and found', () => {
  it('collects every problem and throws one catalogued error listing them', () => {
    temp = tempDir({ 'app.yaml': 'mode: staging\nsiteNme: x\n' })
    const error = thrown(() =>
      loadConfig(declaration, {
        cwd: temp.dir,
        file: 'app.yaml',
        secretsDir: false,
        env: {
          APP_DEBUG: 'maybe',
          APP_WORKERS: '12abc',
          APP_TIMEOUT: 'soon',
          APP_HOMEPAGE: 'nope',
          APP_SITENAME: 'x',
        },
        overrides: { maxUpload: 'big' },
      }),
    )
    expect(isShipshapeError(error) && error.code).toBe('SHIPSHAPE_E_CONFIG')
    expect(error.problems.map((problem) => [problem.key, problem.source])).toEqual([
      ['siteNme', 'app.yaml:2'],
      ['debug', 'APP_DEBUG'],
      ['workers', 'APP_WORKERS'],
      ['timeout', 'APP_TIMEOUT'],
      ['maxUpload', '--set maxUpload'],
      ['mode', 'app.yaml:1'],
      ['homepage', 'APP_HOMEPAGE'],
      ['database.url', 'not set'],
      ['APP_SITENAME', 'the environment'],
    ])
    expect(error.message).toContain(
      'workers from APP_WORKERS: expected a whole number of 1 or more, found "12abc"',
    )
    expect(error.message).toContain('mode from app.yaml:1: expected one of dev, prod, found "staging"')
    expect(error.message).toContain(
      'database.url is not set: expected a value: set APP_DATABASE__URL, or database.url in the config file, found none',
    )
    expect(error.message).toContain(
      'siteNme from app.yaml:2: expected a known key, found an unknown key (did you mean siteName?)',
    )
    expect(error.message).toContain(
      'APP_SITENAME from the environment: expected a variable that names a setting, found an unknown variable (did you mean APP_SITE_NAME?)',
    )
  })

  it('unknown prefixed variables can be warnings, or allowed by name; other variables are not ours', () => {
    temp = tempDir()
    const result = load(
      { APP_SITE_NAM: 'x', APP_INTERNAL: '1', OTHER_THING: 'y' },
      { unknownEnv: 'warn', allowEnv: ['APP_INTERNAL'] },
    )
    expect(result.problems).toEqual([])
    expect(result.warnings.map((warning) => warning.key)).toEqual(['APP_SITE_NAM'])
  })

  it('cross-setting checks run once every setting is valid', () => {
    temp = tempDir()
    const withCheck = defineConfig(
      {
        min: setting(z.int(), { default: 1, description: 'low' }),
        max: setting(z.int(), { default: 5, description: 'high' }),
      },
      {
        envPrefix: 'R_',
        checks: [{ key: 'max', test: (v) => (v.max < v.min ? `at least min (${v.min})` : undefined) }],
      },
    )
    expect(
      resolveConfig(withCheck, { env: { R_MAX: '0' }, dotenv: false, secretsDir: false }).problems,
    ).toEqual([{ key: 'max', source: 'R_MAX', expected: 'at least min (1)', found: '0' }])
  })

  it("a group's own checks report by its own keys, under its section, once the keys they use are valid", () => {
    const limits = group(
      {
        min: setting(z.int(), { default: 1, description: 'low' }),
        max: setting(z.int(), { default: 5, description: 'high' }),
        token: setting(z.string(), { secret: true, description: 't' }),
      },
      {
        checks: [
          {
            uses: ['min', 'max'],
            problems: ({ min, max }) =>
              max < min ? [{ key: 'max', expected: `at least min (${min})` }] : [],
          },
          {
            uses: ['token'],
            problems: ({ token }, { sourceOf }) =>
              token !== undefined && sourceOf('token') === 'env'
                ? [{ key: 'token', expected: 'a secret file' }]
                : [],
          },
        ],
      },
    )
    const withGroup = defineConfig({ limits }, { envPrefix: 'R_' })
    const problems = (env: Record<string, string>) =>
      resolveConfig(withGroup, { env, dotenv: false, secretsDir: false }).problems
    expect(problems({ R_LIMITS__MAX: '0', R_LIMITS__TOKEN: 'tok_live_1' })).toEqual([
      { key: 'limits.max', source: 'R_LIMITS__MAX', expected: 'at least min (1)', found: '0' },
      { key: 'limits.token', source: 'R_LIMITS__TOKEN', expected: 'a secret file', found: '[secret]' },
    ])
    // An invalid min blocks the rule that reads it, and only that one.
    expect(problems({ R_LIMITS__MIN: 'x', R_LIMITS__MAX: '0' }).map((problem) => problem.key)).toEqual([
      'limits.min',
    ])
  })

  it('two settings cannot share a variable', () => {
    expect(() =>
      defineConfig({
        a: setting(z.string(), { env: 'SAME', description: 'a' }),
        b: setting(z.string(), { env: 'SAME', description: 'b' }),
      }),
    ).toThrow(/SAME/)
  })
})

describe('.env', () => {
  it('reads quotes, export and comments, below real variables; bad lines are reported by number only', () => {
    temp = tempDir({
      '.env': [
        '# comment',
        'export APP_SITE_NAME="Quoted # not a comment"',
        "APP_HOSTS='a,b' # trailing comment",
        'APP_RATIO=0.75 # comment',
        'SMTP_PASSWORD="multi',
        'line"',
        'this is not an assignment with a secret',
        'APP_WORKERS=3',
      ].join('\n'),
    })
    const result = load({ APP_WORKERS: '4' })
    expect(result.problems).toEqual([
      {
        key: '(.env line)',
        source: '.env:7',
        expected: 'NAME=value',
        found: 'a line that is not an assignment',
      },
    ])
    const values = resolveConfig(declaration, {
      cwd: temp.dir,
      env: { ...requiredEnv, APP_WORKERS: '4' },
      secretsDir: false,
      dotenv: false,
    }).values
    expect(values?.workers).toBe(4)
    temp.write(
      '.env',
      'export APP_SITE_NAME="Quoted # not a comment"\nAPP_HOSTS=\'a,b\' # c\nSMTP_PASSWORD="multi\nline\\n"\nAPP_WORKERS=3\n',
    )
    const good = load({ APP_WORKERS: '4' })
    expect(good.values).toMatchObject({
      siteName: 'Quoted # not a comment',
      hosts: ['a', 'b'],
      workers: 4,
      mail: { password: 'multi\nline\n' },
    })
  })
})

describe('types', () => {
  it('the loaded value is typed from the declaration', () => {
    const typed = defineConfig({
      name: setting(z.string(), { default: 'x', description: 'n' }),
      port: setting(z.int(), { required: true, description: 'p' }),
      optional: setting(z.string(), { description: 'o' }),
      db: group({ hosts: setting(z.array(z.string()), { default: [], description: 'h' }) }),
    })
    type Loaded = ReturnType<typeof loadConfig<typeof typed.shape>>
    expectTypeOf<Loaded['name']>().toEqualTypeOf<string>()
    expectTypeOf<Loaded['port']>().toEqualTypeOf<number>()
    expectTypeOf<Loaded['optional']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<Loaded['db']['hosts']>().toEqualTypeOf<string[]>()
  })
})
