/**
 * The contract of `shipshape check --deploy`. A check is one risk a deployment can carry: an id
 * (to silence it), the subject it belongs to (one file per subject in this folder, as Django's
 * core/checks/security/ has), a severity, and `run(context)`, which returns its findings as
 * sentences (none: passed) or a Skip saying why it could not judge. A capability adds its checks
 * by writing them in a subject file here and listing them in the registry (_registry.ts); the
 * checks read the capability's settings from `context.settings`, never its private modules.
 */

import type { SiteScan } from '../scan/index.js'
import type { StorageSettings } from '../storage/index.js'

export type Severity = 'error' | 'warning' | 'info'
export const severities: readonly Severity[] = ['error', 'warning', 'info']

/**
 * The settings the checks read, as `shipshape serve` resolves them (durations in ms, paths
 * absolute). A plain object: whatever composes the settings groups hands over this subset.
 */
export interface CheckSettings {
  logLevel: string
  workers: number
  timeoutMs: number
  watchdogTimeoutMs: number
  gracefulTimeoutMs: number
  /** The Unix socket serve listens on ('' for TCP). */
  socketPath: string
  trustedProxies: readonly string[]
  allowedHosts: readonly string[]
  httpsRedirect: 'auto' | 'on' | 'off'
  hstsMaxAgeSeconds: number
  hstsIncludeSubdomains: boolean
  hstsPreload: boolean
  csp: 'enforce' | 'report-only' | 'off'
  cspDirectives: string
  /** Absolute. */
  staticRoot: string
  media: StorageSettings
  /** The cache's Redis, if any. */
  cache?: { redisUrl: string | undefined }
  /** The database: '' for the embedded one; how many connections each worker opens; how many instances run. */
  database?: { url: string; poolSize: number; connectTimeoutMs: number; instances: number }
  /** The area `auth.protect` puts behind sign-in ('' for none), and how. */
  auth?: {
    protect: string
    allowIps: readonly string[]
    behindVpn: boolean
    mfa: 'required' | 'optional'
    mfaGraceMs: number
  }
  /** The ops console: whether it is served, where, and whether its sign-in asks for MFA. */
  console?: { enabled: boolean; prefix: string; mfa: 'required' | 'optional' }
}

/** What the checks read. Built once by `shipshape check`; tests build their own. */
export interface CheckContext {
  /** The project directory: lockfile, tracked files, static root and media are looked up from here. */
  cwd: string
  env: NodeJS.ProcessEnv
  /**
   * Where secret files are mounted, read as shipshape/config reads them. Default: config's
   * (`/run/secrets`), which is where `shipshape serve` reads them.
   */
  secretsDir?: string
  /** The settings `shipshape serve` would run with; undefined when they do not resolve. */
  settings: CheckSettings | undefined
  /** Why they do not resolve. */
  settingsProblem: string | undefined
  /** The live site, when `--url` was given: `shipshape scan`'s report, and answers to extra requests. */
  site: LiveSite | undefined
  cpus: number
}

export interface LiveSite {
  scan: SiteScan
  /** Status of GET on a path of the site (redirects not followed); undefined when the request failed. */
  statusOf(path: string): Promise<number | undefined>
}

/** Why a check did not run: it needs --url, or a setting it reads is not set. */
export class Skip {
  readonly reason: string
  constructor(reason: string) {
    this.reason = reason
  }
}

/** The subjects, one file each in this folder. */
export type Subject =
  | 'server'
  | 'debug'
  | 'secrets'
  | 'https'
  | 'hosts'
  | 'cookies'
  | 'headers'
  | 'static'
  | 'media'
  | 'services'
  | 'files'
  | 'admin'
  | 'error-reporting'
  | 'cache'
  | 'supply-chain'
  | 'hosting'
  | 'hydration'

export interface DeployCheck {
  id: string
  subject: Subject
  severity: Severity
  title: string
  fix: string
  /** Runs on `shipshape check` too, not only with --deploy. */
  always?: boolean
  /** The capability whose public settings this check will read once it has landed. */
  waitsOn?: string
  /** Problems found, as sentences; none means the check passed. */
  run(context: CheckContext): string[] | Skip | Promise<string[] | Skip>
}

export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'silenced'

export interface CheckOutcome {
  id: string
  severity: Severity
  title: string
  status: CheckStatus
  findings: string[]
  fix: string
  /** Why it was skipped. */
  reason?: string
  waitsOn?: string
}

export interface DeployReport {
  /** True when no check failed at or above the fail level. */
  ready: boolean
  failLevel: Severity | 'never'
  counts: Record<Severity, number> & { passed: number; skipped: number; silenced: number }
  /** Silenced ids that name no check (probably a typo). */
  unknownSilenced: string[]
  checks: CheckOutcome[]
}

export interface RunOptions {
  deploy: boolean
  silenced: readonly string[]
  failLevel: Severity | 'never'
  checks?: readonly DeployCheck[]
}
