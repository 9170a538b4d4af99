/**
 * shipshape's own settings: every capability's settings group, composed into one declaration, and
 * the three ways a command loads it. Each group is declared with shipshape/config in its own
 * folder (`<capability>/_settings.ts`: the settings, the group's own rules as data, and the options
 * it becomes); --help, docs/config-reference.md and `shipshape config` come from them.
 *
 * A capability added later declares its group in its own folder and adds it here: one line in
 * `shipshapeConfig` and, if workers need its options, one in `serveOptionsOf`. Nothing else: the
 * flags, --help, the config file section, the docs and the workers' options type follow.
 *
 * Precedence, lowest first: default < config file (shipshape.yaml|json|toml, or --config) < .env
 * < environment < secret file < command-line flag.
 */
import { authOptions, authSettings } from '../auth/settings.js'
import { cacheOptions, cacheSettings } from '../cache/settings.js'
import { checksSettings } from '../checks/settings.js'
import {
  configError,
  defineConfig,
  type Entry,
  type Infer,
  type Problem,
  type Resolution,
  resolveConfig,
} from '../config/index.js'
import { consoleOptions, consoleSettings } from '../console/settings.js'
import { apmOptions, apmSettings, databaseOptions, databaseSettings } from '../db/settings.js'
import { auditSettings } from '../hosting/settings.js'
import { monitorOptions, monitorSettings } from '../monitor/settings.js'
import { observeOptions, observeSettings } from '../observe/settings.js'
import { securityOptions, securitySettings } from '../security/settings.js'
import { missingStaticRoot, staticOptions, staticSettings } from '../static/settings.js'
import { mediaOptions, mediaSettings } from '../storage/settings.js'
import { shipshapeSources } from '../types.js'
import { serverOptions, serverSettings } from './_settings.js'

/** Every shipshape setting, by section: the key of each group is its section in the config file. */
export const shipshapeConfig = defineConfig(
  {
    server: serverSettings,
    security: securitySettings,
    static: staticSettings,
    media: mediaSettings,
    checks: checksSettings,
    cache: cacheSettings,
    audit: auditSettings,
    database: databaseSettings,
    apm: apmSettings,
    observe: observeSettings,
    auth: authSettings,
    monitor: monitorSettings,
    console: consoleSettings,
  },
  { envPrefix: shipshapeSources.envPrefix },
)

export type ShipshapeSettings = Infer<typeof shipshapeConfig.shape>

/** What every worker receives (as JSON, so plain values only): each group's options, side by side. */
function serveOptionsOf(settings: ShipshapeSettings, cwd: string) {
  return {
    ...serverOptions(settings.server, cwd),
    ...securityOptions(settings.security),
    ...staticOptions(settings.static, cwd),
    ...mediaOptions(settings.media, cwd),
    ...cacheOptions(settings.cache),
    ...databaseOptions(settings.database, cwd, settings.server.timeout),
    ...apmOptions(settings.apm),
    ...observeOptions(settings.observe, cwd),
    ...authOptions(settings.auth),
    ...monitorOptions(settings.monitor),
    ...consoleOptions(settings.console),
  }
}

/** The options of `shipshape serve`'s primary and workers: typed from what each group makes of its settings. */
export type ServeOptions = ReturnType<typeof serveOptionsOf>

export interface ShipshapeLoadOptions {
  /** Flag values keyed by flag name without `--` (`timeout`, `static-root`) or its camelCase (`maxBodySize`). */
  flags?: Readonly<Record<string, string>>
  /** The config file given by --config. */
  configFile?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Keys that must be set for this command (`server.app` for serve). */
  require?: readonly string[]
  /** The app module given as an argument. */
  app?: string
  /** Values by dotted key, as `shipshape config --set server.timeout=5s` gives them. */
  set?: Readonly<Record<string, string>>
}

/**
 * Every setting from every source (shipshapeSources, flags), with every problem and warning, and
 * throws nothing: for `shipshape config` and `check`, which show the problems themselves.
 */
export function resolveShipshapeSettings(options: ShipshapeLoadOptions = {}): Resolution<ShipshapeSettings> {
  const overrides: Record<string, string | { value: string; source: string }> = {}
  for (const [key, value] of Object.entries(options.set ?? {}))
    overrides[key] = { value, source: `--set ${key}` }
  const flags: Record<string, string> = {}
  for (const [name, value] of Object.entries(options.flags ?? {}))
    flags[name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = value
  for (const entry of shipshapeConfig.entries) {
    const value = entry.flag ? flags[entry.flag] : undefined
    if (value !== undefined) overrides[entry.key] = value
  }
  if (options.app !== undefined) overrides['server.app'] = { value: options.app, source: 'the app argument' }
  return resolveConfig(shipshapeConfig, {
    ...shipshapeSources,
    env: options.env ?? process.env,
    cwd: options.cwd,
    file: options.configFile,
    overrides,
    require: options.require,
  })
}

/**
 * Only the settings a command needs (`reload` its pidfile), from every source: their own problems
 * stop the command, other settings' problems do not.
 */
export function loadSettingsOnly(
  keys: readonly string[],
  options: ShipshapeLoadOptions = {},
): Record<string, unknown> {
  const resolution = resolveShipshapeSettings(options)
  const own = resolution.problems.filter(
    (problem) => keys.includes(problem.key) || problem.key === '(config file)',
  )
  if (own.length > 0) throw configError(own, 'SHIPSHAPE_E_BAD_OPTION')
  return Object.fromEntries(keys.map((key) => [key, resolution.settled.get(key)]))
}

/**
 * The options `shipshape serve` runs with. Every problem is reported at once, naming the flag,
 * variable or file line it came from, before anything starts: throws SHIPSHAPE_E_BAD_OPTION.
 */
export function loadServeOptions(
  app: string | undefined,
  flags: Readonly<Record<string, string>> = {},
  env: NodeJS.ProcessEnv = process.env,
  options: { configFile?: string; cwd?: string; onWarning?: (problem: Problem) => void } = {},
): ServeOptions {
  const cwd = options.cwd ?? process.cwd()
  const resolution = resolveShipshapeSettings({ ...options, flags, env, app, require: ['server.app'] })
  for (const warning of resolution.warnings) options.onWarning?.(warning)
  const problems = [...resolution.problems]
  const root = resolution.settled.get('static.root')
  if (typeof root === 'string') {
    for (const problem of missingStaticRoot(root, cwd)) {
      const key = `static.${problem.key}`
      const source = resolution.origins.get(key)?.label ?? 'the default'
      problems.push({ key, source, expected: problem.expected, found: JSON.stringify(root) })
    }
  }
  // auth's sessions in Redis need the cache group's REDIS_URL: said before a worker starts, not by each one's crash.
  if (
    resolution.settled.get('auth.sessions') === 'redis' &&
    resolution.settled.get('cache.redisUrl') === undefined
  )
    problems.push({
      key: 'auth.sessions',
      source: resolution.origins.get('auth.sessions')?.label ?? 'the default',
      expected: 'REDIS_URL (cache.redisUrl) to be set: sessions in Redis need a Redis',
      found: '"redis"',
    })
  if (resolution.values === undefined || problems.length > 0)
    throw configError(problems, 'SHIPSHAPE_E_BAD_OPTION')
  return serveOptionsOf(resolution.values, cwd)
}

/** The setting behind a flag, for commands that read one or two settings (`reload`, `collectstatic`). */
export function settingForFlag(flag: string): Entry {
  const entry = shipshapeConfig.entries.find((candidate) => candidate.flag === flag)
  if (!entry) throw new Error(`no shipshape setting has the flag --${flag}`)
  return entry
}
