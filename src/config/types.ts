/**
 * The contract between declaring settings (_declare.ts), loading them (_load.ts) and showing them
 * (_render.ts): what a load is given, what it returns, and the problems it reports. Kept apart so
 * that none of those modules imports another for a type.
 */

/** A problem a settings group finds in its own values, as data; the loader adds where the value came from. */
export interface SettingProblem {
  /** The setting, by its key inside the group (`tlsCert`, not `security.tlsCert`). */
  readonly key: string
  /** What a valid value is, as the error message will say it after "expected". */
  readonly expected: string
  /** What was found; default: the setting's value as loaded (masked when it is a secret). */
  readonly found?: string
}

/** A rule a group owns across its own settings. */
export interface GroupCheck<T> {
  /** The group's keys the rule reads; it runs only once each of them loaded valid. */
  readonly uses: readonly (keyof T & string)[]
  /** Every problem found, as data; none when the values are fine. */
  problems(values: T, context: { sourceOf(key: keyof T & string): SourceKind }): readonly SettingProblem[]
}

export interface Check<T> {
  /** The dotted key the problem is reported against (its source is shown). */
  key: string
  /** Other keys the test reads; it runs only when they and `key` are valid. Default: every key. */
  uses?: readonly string[]
  /** Says what is expected, or returns undefined when the values are fine. */
  test(values: T, context: { sourceOf(key: string): SourceKind }): string | undefined
}

export interface LoadOptions {
  /** The environment to read. Default: `process.env`. */
  env?: Record<string, string | undefined>
  /** Where relative paths (config file, .env, default locations) start. Default: `process.cwd()`. */
  cwd?: string
  /** The config file, as given by `--config`. It must exist. */
  file?: string
  /** The environment variable that names the config file. Default: the prefix plus `CONFIG` (`DEMO_CONFIG`). */
  fileEnv?: string
  /** Config files tried in order when neither `file` nor `fileEnv` names one; none need exist. Default: none. */
  files?: readonly string[]
  /** A .env file read if it exists, below real environment variables; `false` reads none. Default: `.env`. */
  dotenv?: string | false
  /**
   * A directory of secret files named after the variable (`DATABASE_URL`) or its lower case
   * (`database_url`), as Docker and Kubernetes mount them; `false` reads none. Default: `/run/secrets`.
   */
  secretsDir?: string | false
  /**
   * Command-line values by dotted key (`server.timeout`), strings coerced like the environment's.
   * The source shown is the setting's flag (`--timeout`), `--set <key>`, or the one given.
   */
  overrides?: Readonly<Record<string, string | { value: string; source: string }>>
  /** Keys that must be set for this use even though the declaration does not require them. */
  require?: readonly string[]
  /** What to do with an unknown variable that has the declaration's prefix. Default: `error`. */
  unknownEnv?: 'error' | 'warn'
  /** Variables with the prefix that are not settings (used by something else), so not reported. */
  allowEnv?: readonly string[]
}

export type SourceKind = 'default' | 'file' | 'dotenv' | 'env' | 'secret-file' | 'command-line' | 'unset'

export interface Origin {
  readonly kind: SourceKind
  /** Where the value came from, as a reader would look for it: `SHIPSHAPE_TIMEOUT`, `config.yaml:4`. */
  readonly label: string
  /** The file the value was read from, if any. */
  readonly file?: string
}

export interface Problem {
  /** The setting (dotted key), or the unknown key or variable. */
  readonly key: string
  readonly source: string
  readonly expected: string
  readonly found: string
  /** A did-you-mean or how to fix it. */
  readonly hint?: string
}

export interface Resolution<T> {
  /** The loaded settings, frozen, with secrets masked in JSON and util.inspect; undefined when there are problems. */
  readonly values: T | undefined
  readonly origins: ReadonlyMap<string, Origin>
  /**
   * Every setting that loaded valid, by dotted key, even when others did not: for a command that
   * needs one setting (`reload` its pidfile) and should not fail on another's problem.
   */
  readonly settled: ReadonlyMap<string, unknown>
  readonly problems: readonly Problem[]
  /** Reported but not fatal: unknown prefixed variables when `unknownEnv` is `warn`. */
  readonly warnings: readonly Problem[]
  /** The config file read, if any. */
  readonly file: string | undefined
}
