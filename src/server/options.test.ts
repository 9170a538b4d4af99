/** `shipshape serve`'s options on shipshape/config: same flags, variables, defaults and shape; plus a config file. */
import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { get, ready, runCli, startServe } from '../_test/cli.js'
import { tempDir } from '../_test/temp.js'
import { isShipshapeError } from '../errors/index.js'
import { fixture } from './_test/fixtures.js'
import { loadServeOptions, loadSettingsOnly, shipshapeConfig } from './index.js'

let temp: ReturnType<typeof tempDir>
afterEach(() => temp?.remove())

function resolveIn(
  files: Record<string, string>,
  flags: Record<string, string>,
  env: Record<string, string>,
  configFile?: string,
) {
  temp = tempDir(files)
  return loadServeOptions('app.js', flags, env, { cwd: temp.dir, configFile })
}

function failure(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(isShipshapeError(error) && error.code).toBe('SHIPSHAPE_E_BAD_OPTION')
    return (error as Error).message
  }
  throw new Error('expected a failure')
}

describe('serve options', () => {
  it('keep every variable name; a bare number of seconds still works, 0 lifts the body limit', () => {
    const options = resolveIn(
      {},
      {},
      {
        SHIPSHAPE_KIND: 'express',
        SHIPSHAPE_BIND: '[::1]:9001',
        SHIPSHAPE_WORKERS: '3',
        SHIPSHAPE_TIMEOUT: '5',
        SHIPSHAPE_GRACEFUL_TIMEOUT: '10s',
        SHIPSHAPE_KEEP_ALIVE: '65s',
        SHIPSHAPE_HEADERS_TIMEOUT: '2s',
        SHIPSHAPE_BODY_TIMEOUT: '1m',
        SHIPSHAPE_MAX_HEADER_SIZE: '8KiB',
        SHIPSHAPE_MAX_BODY_SIZE: '0',
        SHIPSHAPE_MAX_REQUESTS: '1000',
        SHIPSHAPE_MAX_REQUESTS_JITTER: '50',
        SHIPSHAPE_TRUSTED_PROXIES: 'loopback, 10.0.0.0/8',
        SHIPSHAPE_ACCESS_LOG: 'off',
        LOG_LEVEL: 'warn',
        SHIPSHAPE_LIVEZ_PATH: '/health/live',
        SHIPSHAPE_READYZ_PATH: '/health/ready',
        SHIPSHAPE_PIDFILE: '/tmp/x.pid',
        SHIPSHAPE_STATIC_URL: 'https://cdn.example.com/assets',
        SHIPSHAPE_STATIC_MAX_AGE: '5m',
        SHIPSHAPE_STATIC_ALLOW_ORIGIN: '*',
      },
    )
    expect(options).toMatchObject({
      kind: 'express',
      host: '::1',
      port: 9001,
      workers: 3,
      timeoutMs: 5000,
      gracefulTimeoutMs: 10_000,
      keepAliveMs: 65_000,
      headersTimeoutMs: 2000,
      bodyTimeoutMs: 60_000,
      maxHeaderBytes: 8192,
      maxBodyBytes: Number.POSITIVE_INFINITY,
      maxRequests: 1000,
      maxRequestsJitter: 50,
      trustedProxies: ['loopback', '10.0.0.0/8'],
      accessLog: false,
      logLevel: 'warn',
      livezPath: '/health/live',
      readyzPath: '/health/ready',
      pidfile: '/tmp/x.pid',
      staticUrl: 'https://cdn.example.com/assets/',
      staticMaxAgeMs: 300_000,
      staticAllowOrigin: '*',
    })
  })

  it('know collectstatic’s variable too: SHIPSHAPE_STATIC_SOURCES is no unknown variable to serve', () => {
    temp = tempDir()
    const warnings: unknown[] = []
    loadServeOptions(
      'app.js',
      {},
      { SHIPSHAPE_STATIC_SOURCES: 'assets,vendor', SHIPSHAPE_STATIC_NOPE: '1' },
      { cwd: temp.dir, onWarning: (warning) => warnings.push(warning) },
    )
    expect(JSON.stringify(warnings)).not.toContain('SHIPSHAPE_STATIC_SOURCES')
    expect(JSON.stringify(warnings)).toContain('SHIPSHAPE_STATIC_NOPE')
  })

  it('read PORT and HOST as platforms set them, below SHIPSHAPE_BIND and --bind', () => {
    expect(resolveIn({}, {}, { PORT: '5000' })).toMatchObject({ host: '0.0.0.0', port: 5000 })
    expect(resolveIn({}, {}, { PORT: '5000', HOST: '::' })).toMatchObject({ host: '::', port: 5000 })
    expect(resolveIn({}, {}, { PORT: '5000', SHIPSHAPE_BIND: '127.0.0.1:1' })).toMatchObject({ port: 1 })
    expect(resolveIn({}, { bind: ':2' }, { SHIPSHAPE_BIND: '127.0.0.1:1' })).toMatchObject({
      host: '0.0.0.0',
      port: 2,
      socketPath: '',
    })
    expect(resolveIn({}, { bind: 'unix:run/app.sock' }, { PORT: '5000' })).toMatchObject({
      socketPath: resolve(temp.dir, 'run/app.sock'),
    })
  })

  it('read a config file: server and static sections, below the environment and flags', () => {
    const yaml =
      'server:\n  workers: 4\n  timeout: 10s\n  keepAlive: 80s\n  app: from-file.js\nstatic:\n  maxAge: 2m\n'
    const options = resolveIn({ 'shipshape.yaml': yaml }, { timeout: '3s' }, { SHIPSHAPE_KEEP_ALIVE: '90s' })
    expect(options).toMatchObject({
      app: 'app.js',
      workers: 4,
      timeoutMs: 3000,
      keepAliveMs: 90_000,
      staticMaxAgeMs: 120_000,
    })
    temp.remove()
    temp = tempDir({ 'conf/serve.toml': '[server]\napp = "from-file.js"\nmax-requests = 5\n' })
    expect(
      failure(() => loadServeOptions(undefined, {}, {}, { cwd: temp.dir, configFile: 'conf/serve.toml' })),
    ).toContain(
      'server.max-requests from conf/serve.toml:3: expected a key of server, found an unknown key (did you mean server.maxRequests?)',
    )
    temp.write('conf/serve.toml', '[server]\napp = "from-file.js"\nmaxRequests = 5\n')
    expect(
      loadServeOptions(undefined, {}, { SHIPSHAPE_CONFIG: 'conf/serve.toml' }, { cwd: temp.dir }),
    ).toMatchObject({
      app: 'from-file.js',
      maxRequests: 5,
    })
  })

  it('take flags by flag name or its camelCase', () => {
    expect(
      resolveIn({}, { 'max-body-size': '1KB', maxHeaderSize: '1KiB', 'livez-path': '/l' }, {}),
    ).toMatchObject({
      maxBodyBytes: 1000,
      maxHeaderBytes: 1024,
      livezPath: '/l',
    })
  })

  it('report every problem at once, naming flag, variable or file line', () => {
    const message = failure(() =>
      resolveIn(
        { 'shipshape.json': '{\n  "server": {\n    "kind": "rails"\n  }\n}\n' },
        { timeout: 'soon', workers: '0' },
        { SHIPSHAPE_MAX_BODY_SIZE: '12abc', SHIPSHAPE_BIND: 'localhost', SHIPSHAPE_ACCESS_LOG: 'maybe' },
      ),
    )
    for (const expected of [
      'server.kind from shipshape.json:3: expected one of auto, node, express, connect, koa, fastify, fetch, next, react-router, found "rails"',
      'server.bind from SHIPSHAPE_BIND: expected host:port (such as 127.0.0.1:8000, 0.0.0.0:80 or [::]:8000) or unix:PATH, found "localhost"',
      'server.workers from --workers: expected a whole number of 1 or more, found "0"',
      'server.timeout from --timeout: expected a duration such as 500ms, 5s or 2m, found "soon"',
      'server.maxBodySize from SHIPSHAPE_MAX_BODY_SIZE: expected a size such as 512KB, 10MB or 1GiB, found "12abc"',
      'server.accessLog from SHIPSHAPE_ACCESS_LOG: expected true or false (also yes/no, on/off, 1/0), found "maybe"',
    ]) {
      expect(message).toContain(expected)
    }
  })

  it('refuse sessions in Redis without a Redis, before any worker starts', () => {
    expect(failure(() => resolveIn({}, {}, { SHIPSHAPE_AUTH_SESSIONS: 'redis' }))).toContain(
      'auth.sessions from SHIPSHAPE_AUTH_SESSIONS: expected REDIS_URL (cache.redisUrl) to be set',
    )
    const inRedis = resolveIn(
      {},
      {},
      { SHIPSHAPE_AUTH_SESSIONS: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' },
    )
    expect(inRedis.auth.sessions).toBe('redis')
  })

  it('need an app, check timeouts against each other, and a chosen static root must exist', () => {
    temp = tempDir()
    expect(failure(() => loadServeOptions(undefined, {}, {}, { cwd: temp.dir }))).toContain(
      'server.app is not set: expected a value: set SHIPSHAPE_APP, or server.app in the config file',
    )
    expect(failure(() => resolveIn({}, { 'headers-timeout': '2m', 'body-timeout': '1m' }, {}))).toContain(
      'server.headersTimeout from --headers-timeout: expected no longer than server.bodyTimeout (60000 ms), found 120000',
    )
    expect(failure(() => resolveIn({}, { 'static-root': 'nowhere' }, {}))).toContain(
      'static.root from --static-root: expected an existing directory (run `shipshape collectstatic` first)',
    )
  })

  it('a command needing one setting reads it from every source, stopped only by its own problems', () => {
    temp = tempDir({ 'shipshape.toml': '[server]\npidfile = "run/app.pid"\nworkers = 0\n' })
    const options = { cwd: temp.dir, env: { SHIPSHAPE_TIMEOUT: 'soon' } }
    expect(loadSettingsOnly(['server.pidfile'], options)).toEqual({ 'server.pidfile': 'run/app.pid' })
    expect(loadSettingsOnly(['server.pidfile'], { ...options, flags: { pidfile: 'x.pid' } })).toEqual({
      'server.pidfile': 'x.pid',
    })
    expect(() => loadSettingsOnly(['server.workers'], options)).toThrow(
      'server.workers from shipshape.toml:3: expected a whole number of 1 or more, found 0',
    )
  })

  it('shipshape serve --help lists the flag of every setting that has one, with its variable and default', async () => {
    const { status, stdout } = await runCli(['serve', '--help'])
    expect(status).toBe(0)
    const flagged = shipshapeConfig.entries.filter((entry) => entry.flag)
    expect(flagged.map((entry) => entry.section)).toEqual(
      expect.arrayContaining(['server', 'security', 'static', 'media']),
    )
    const lines = stdout.split('\n')
    for (const entry of flagged) {
      const at = lines.findIndex((line) => line.startsWith(`  --${entry.flag} <`))
      expect(at, `--${entry.flag} is listed`).toBeGreaterThan(-1)
      expect(lines[at + 2], `--${entry.flag}'s variable and default`).toMatch(
        new RegExp(`^ {6}env ${entry.env}\\b.*; default `),
      )
    }
  })

  it('stay out of workers: what a worker imports loads no settings declaration and no zod', () => {
    // zod v4 sets this global when it loads; importing the primary's side must set it, or the check proves nothing.
    const loadsZod = (modules: string[]) => {
      const urls = modules.map((name) => new URL(`../../dist/${name}`, import.meta.url).href)
      const script = `for (const url of ${JSON.stringify(urls)}) await import(url); process.stdout.write(String('__zod_globalConfig' in globalThis))`
      return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    }
    expect(loadsZod(['server/_stack.js', 'server/_protocol.js', 'http/index.js', 'observe/index.js'])).toBe(
      'false',
    )
    expect(loadsZod(['server/index.js'])).toBe('true')
  })

  it('shipshape serve --config runs the app the file names, with the settings it gives', async () => {
    temp = tempDir({
      'serve.yaml': `server:\n  app: ${fixture('app.ts')}\n  workers: 1\n  readyzPath: /ready-from-file\n`,
    })
    const server = await startServe(['--config', `${temp.dir}/serve.yaml`])
    try {
      await ready(server, 1)
      expect((await get(`${server.url}/ready-from-file`)).status).toBe(200)
    } finally {
      await server.stop()
    }
  })
})
