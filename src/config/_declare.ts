/**
 * Declaring settings: each one is a zod schema plus what a reader needs to set it (description,
 * default, example) and how it is handled (required, secret, its environment variable and flag).
 * A declaration is a tree of settings; its loaded value is typed from the tree.
 */
import type { z } from 'zod'
import { ShipshapeError } from '../errors/index.js'
import type { Check, GroupCheck } from './types.js'

export interface SettingOptions<Input> {
  /** What the setting does, and what its default costs. Shown in docs, samples and --help. */
  description: string
  /**
   * Used when no source sets a value, written as a user would write it (`'30s'`, not 30000).
   * A function is called at load time, for defaults that depend on the machine.
   */
  default?: Input | (() => Input)
  /** How a computed default reads in docs and samples, e.g. `the number of CPUs`. */
  shownDefault?: string
  /** A realistic value for docs and samples; samples fill required settings with it. */
  example?: Input
  /** Loading fails when no source sets it. Implied false; a setting with a default is never required. */
  required?: boolean
  /** Masked in every output: `config show`, docs, samples, errors, JSON.stringify, util.inspect. */
  secret?: boolean
  /** Exact environment variable name, instead of the prefix plus the key in SCREAMING_SNAKE_CASE. */
  env?: string
  /**
   * Further variables read when the setting's own is unset, turned into a value by `read`
   * (e.g. PORT and HOST for a bind address). Listed in the docs beside the main variable.
   */
  envFallback?: {
    names: readonly string[]
    read(env: Record<string, string | undefined>): string | undefined
  }
  /** Command-line flag (without `--`) for commands that expose settings as flags; `false` for none. */
  flag?: string | false
}

export class Setting<Output = unknown, Input = unknown> {
  readonly schema: z.ZodType<Output, Input>
  readonly options: SettingOptions<Input>

  constructor(schema: z.ZodType<Output, Input>, options: SettingOptions<Input>) {
    this.schema = schema
    this.options = options
  }
}

/** A settings tree: settings, groups, or plain objects (groups with no options of their own). */
export interface Shape {
  readonly [key: string]: Setting<unknown, unknown> | Group<Shape> | Shape
}

export interface GroupOptions<T extends Shape = never> {
  /** One paragraph heading the group in docs and samples. */
  description?: string
  /**
   * Environment variables of settings in this group are this prefix plus their key, instead of
   * the parent's prefix plus `GROUP__KEY`. Lets a group keep short names (`SHIPSHAPE_TIMEOUT`).
   */
  envPrefix?: string
  /** When set, every setting in the group gets the flag `--<flagPrefix><kebab-key>`. */
  flagPrefix?: string
  /**
   * The group's own rules across its settings, each returning its problems as data. They run
   * with every other problem, each once the settings it reads are valid, and need no knowledge of
   * where the group sits in a declaration: keys are the group's own.
   */
  checks?: readonly GroupCheck<[T] extends [never] ? never : Infer<T>>[]
}

export class Group<T extends Shape = Shape> {
  readonly shape: T
  readonly options: GroupOptions

  constructor(shape: T, options: GroupOptions) {
    this.shape = shape
    this.options = options
  }
}

/** The loaded, typed value of a settings tree. */
export type Infer<T extends Shape> = {
  readonly [K in keyof T]: T[K] extends Setting<infer Output, unknown>
    ? Output
    : T[K] extends Group<infer Inner>
      ? Infer<Inner>
      : T[K] extends Shape
        ? Infer<T[K]>
        : never
}

type Given<S extends z.ZodType> = { default: z.input<S> | (() => z.input<S>) } | { required: true }

/**
 * Declares one setting. With a default or `required: true` its type is the schema's output;
 * otherwise it may be undefined.
 */
export function setting<S extends z.ZodType>(
  schema: S,
  options: SettingOptions<z.input<S>> & Given<S>,
): Setting<z.output<S>, z.input<S>>
export function setting<S extends z.ZodType>(
  schema: S,
  options: SettingOptions<z.input<S>>,
): Setting<z.output<S> | undefined, z.input<S>>
export function setting<S extends z.ZodType>(schema: S, options: SettingOptions<z.input<S>>) {
  return new Setting(schema as z.ZodType<z.output<S>, z.input<S>>, options)
}

export function group<T extends Shape>(shape: T, options: GroupOptions<T> = {}): Group<T> {
  return new Group(shape, options as GroupOptions)
}

/** One setting with everything its tree position decides: key, environment variable, flag. */
export interface Entry {
  /** Dotted path, e.g. `server.timeout`. */
  readonly key: string
  readonly path: readonly string[]
  readonly setting: Setting
  readonly env: string
  readonly flag: string | undefined
  /** The dotted path of the group it belongs to ('' at the top). */
  readonly section: string
}

export interface Section {
  readonly key: string
  readonly description: string | undefined
}

export interface DeclarationOptions<T> {
  /** Prefix of every environment variable (`DEMO_` → `DEMO_SITE_NAME`). Unknown variables with it are reported. */
  envPrefix?: string
  /** Rules across settings, checked after each setting is valid on its own. */
  checks?: readonly Check<T>[]
}

export class Declaration<T extends Shape = Shape> {
  readonly shape: T
  readonly envPrefix: string
  readonly entries: readonly Entry[]
  readonly sections: readonly Section[]
  readonly checks: readonly Check<Infer<T>>[]
  /** Every group's own checks, with the path of the group they belong to. */
  readonly groupChecks: readonly { readonly path: readonly string[]; readonly check: GroupCheck<never> }[]
  /** Every prefix that marks an environment variable as meant for this declaration. */
  readonly envPrefixes: readonly string[]
  /** Types the loaded value; never set. */
  declare readonly _infer: Infer<T>

  constructor(shape: T, options: DeclarationOptions<Infer<T>>) {
    this.shape = shape
    this.envPrefix = options.envPrefix ?? ''
    this.checks = options.checks ?? []
    const entries: Entry[] = []
    const sections: Section[] = [{ key: '', description: undefined }]
    const prefixes = new Set<string>(this.envPrefix ? [this.envPrefix] : [])
    const groupChecks: { path: string[]; check: GroupCheck<never> }[] = []
    const walk = (node: Shape, path: string[], envPrefix: string, flagPrefix: string | undefined) => {
      // Once per group, not per setting: a group's settings share their section and key prefix.
      const section = path.join('.')
      const keyPrefix = path.length > 0 ? `${section}.` : ''
      for (const [name, child] of Object.entries(node)) {
        const childPath = [...path, name]
        if (child instanceof Setting) {
          const own = child.options.flag
          const flag =
            own === false
              ? undefined
              : (own ?? (flagPrefix === undefined ? undefined : flagPrefix + kebab(name)))
          entries.push({
            key: keyPrefix + name,
            path: childPath,
            setting: child as Setting,
            env: child.options.env ?? envPrefix + screamingSnake(name),
            flag,
            section,
          })
          continue
        }
        const isGroup = child instanceof Group
        const inner = (isGroup ? child.shape : child) as Shape
        const options: GroupOptions = isGroup ? child.options : {}
        if (options.envPrefix) prefixes.add(options.envPrefix)
        for (const check of options.checks ?? []) groupChecks.push({ path: childPath, check })
        sections.push({ key: keyPrefix + name, description: options.description })
        walk(
          inner,
          childPath,
          options.envPrefix ?? `${envPrefix}${screamingSnake(name)}__`,
          options.flagPrefix ?? flagPrefix,
        )
      }
    }
    walk(shape, [], this.envPrefix, undefined)
    const clash = (label: string, names: (string | undefined)[]) => {
      const seen = new Set<string>()
      for (const name of names) {
        if (name === undefined) continue
        if (seen.has(name))
          throw new ShipshapeError(
            'SHIPSHAPE_E_CONFIG_DECLARATION',
            `two settings share the ${label} ${name}`,
          )
        seen.add(name)
      }
    }
    clash(
      'environment variable',
      entries.map((entry) => entry.env),
    )
    clash(
      'flag',
      entries.map((entry) => entry.flag),
    )
    this.entries = entries
    this.sections = sections
    this.groupChecks = groupChecks
    this.envPrefixes = [...prefixes]
  }

  entry(key: string): Entry | undefined {
    return this.entries.find((entry) => entry.key === key)
  }
}

/**
 * Declares an app's configuration once. Load it with `loadConfig`; generate its docs and
 * samples with `shipshape config docs|sample`.
 */
export function defineConfig<T extends Shape>(
  shape: T,
  options: DeclarationOptions<Infer<T>> = {},
): Declaration<T> {
  return new Declaration(shape, options)
}

/** `poolSize` → `POOL_SIZE`, `maxBodySize` → `MAX_BODY_SIZE`. */
function screamingSnake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase()
}

/** `gracefulTimeout` → `graceful-timeout`. */
function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .toLowerCase()
}
