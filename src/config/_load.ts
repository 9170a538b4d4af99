/**
 * Loading a declaration: every setting takes the value of the highest source that sets it,
 * lowest first: default < config file < .env < environment < secret file < command line.
 * Every problem is collected, each naming its key, its source, what was expected and what was
 * found, and reported at once. Secret values never appear in a problem.
 */
import { ShipshapeError } from '../errors/index.js'
import { coerce, describe, safeParse, stringLike } from './_coerce.js'
import type { Declaration, Entry, Infer, Shape } from './_declare.js'
import {
  type ConfigFile,
  collectFileValues,
  parseDotenv,
  readConfigFile,
  readSecretFile,
  trackedByGit,
} from './_sources.js'
import { closest } from './_text.js'
import { getPath, scrub, seal, secretMask, setPath, show } from './_values.js'
import type { GroupCheck, LoadOptions, Origin, Problem, Resolution } from './types.js'

// Builtins are taken from process.getBuiltinModule rather than imported: importing node:fs builds
// its ES module namespace, which reads every export, and its ReadStream getter loads fs streams,
// about 3 ms of CPU on Node 24 at every start that config, reading a few small files, never needs.
const { existsSync, readdirSync } = process.getBuiltinModule('node:fs')
const { isAbsolute, join, relative, resolve } = process.getBuiltinModule('node:path')

// Range issues on numbers are covered by `describe` ("a whole number of 1 or more"); on strings and lists, zod's message says more.
const ranged = new Set(['too_small', 'too_big'])

export function formatProblem(problem: Problem): string {
  const hint = problem.hint ? ` (${problem.hint})` : ''
  const where = problem.source === 'not set' ? 'is not set' : `from ${problem.source}`
  return `${problem.key} ${where}: expected ${problem.expected}, found ${problem.found}${hint}`
}

/** Loads and validates; throws SHIPSHAPE_E_CONFIG listing every problem. */
export function loadConfig<T extends Shape>(
  declaration: Declaration<T>,
  options: LoadOptions = {},
): Infer<T> {
  const resolution = resolveConfig(declaration, options)
  if (resolution.values === undefined) throw configError(resolution.problems)
  return resolution.values
}

export function configError(
  problems: readonly Problem[],
  code: 'SHIPSHAPE_E_CONFIG' | 'SHIPSHAPE_E_BAD_OPTION' = 'SHIPSHAPE_E_CONFIG',
): ShipshapeError {
  const error = new ShipshapeError(
    code,
    `${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  - ${problems.map(formatProblem).join('\n  - ')}`,
  )
  Object.defineProperty(error, 'problems', { value: problems, enumerable: true })
  return error
}

type Candidate = { raw: unknown; fromString: boolean; origin: Origin }

export function resolveConfig<T extends Shape>(
  declaration: Declaration<T>,
  options: LoadOptions = {},
): Resolution<Infer<T>> {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const shown = (path: string) => {
    const relativePath = relative(cwd, path)
    return relativePath.startsWith('..') || isAbsolute(relativePath) ? path : relativePath
  }
  const problems: Problem[] = []
  const warnings: Problem[] = []
  const secret = (entry: Entry) => entry.setting.options.secret === true

  // 1. The config file: --config, then its variable, then the default locations.
  const fileEnv = options.fileEnv ?? (declaration.envPrefix ? `${declaration.envPrefix}CONFIG` : undefined)
  let file: ConfigFile | undefined
  const fileValues = new Map<string, unknown>()
  const fromEnv = fileEnv ? nonEmpty(env[fileEnv]) : undefined
  const explicit = options.file ?? fromEnv
  const filePath = explicit
    ? resolve(cwd, explicit)
    : (options.files ?? [])
        .map((candidate) => resolve(cwd, candidate))
        .find((candidate) => existsSync(candidate))
  if (filePath) {
    const read = readConfigFile(filePath)
    if (read.ok) {
      file = read.file
      collectFileValues(declaration, file, shown(filePath), fileValues, problems)
    } else {
      problems.push({
        key: '(config file)',
        source: `${shown(filePath)}${read.line ? `:${read.line}` : ''}${options.file ? '' : fromEnv ? ` (from ${fileEnv})` : ''}`,
        expected: 'a readable YAML, JSON or TOML file',
        found: read.reason,
      })
    }
  }

  // 2. The .env file, below real variables.
  const dotenvPath = options.dotenv === false ? undefined : resolve(cwd, options.dotenv ?? '.env')
  const dotenv = new Map<string, { value: string; line: number }>()
  if (dotenvPath && existsSync(dotenvPath)) {
    const read = readSecretFile(dotenvPath)
    if (read.ok) {
      const parsed = parseDotenv(read.value)
      for (const [name, value] of parsed.values) dotenv.set(name, value)
      for (const line of parsed.badLines) {
        problems.push({
          key: '(.env line)',
          source: `${shown(dotenvPath)}:${line}`,
          expected: 'NAME=value',
          found: 'a line that is not an assignment',
        })
      }
    }
  }
  const dotenvLabel = dotenvPath ? shown(dotenvPath) : '.env'
  const lookup = (name: string): { value: string; origin: Origin } | undefined => {
    const value = nonEmpty(env[name])
    if (value !== undefined) return { value, origin: { kind: 'env', label: name } }
    const fromDotenv = dotenv.get(name)
    if (fromDotenv && fromDotenv.value !== '')
      return {
        value: fromDotenv.value,
        origin: { kind: 'dotenv', label: `${dotenvLabel}:${fromDotenv.line} (${name})`, file: dotenvPath },
      }
    return undefined
  }

  // 3. The secrets directory, listed once.
  const secretsDir =
    options.secretsDir === false ? undefined : resolve(cwd, options.secretsDir ?? '/run/secrets')
  const secretFiles = new Set<string>()
  if (secretsDir) {
    try {
      for (const name of readdirSync(secretsDir)) secretFiles.add(name)
    } catch {
      // No secrets directory: nothing mounted, which is the usual case outside containers.
    }
  }

  // 4. Each setting, from the highest source that sets it.
  const values: Record<string, unknown> = {}
  const origins = new Map<string, Origin>()
  const settled = new Map<string, unknown>()
  // Every key exists in the result, in declaration order, even when unset.
  for (const entry of declaration.entries) setPath(values, entry.path, undefined)
  for (const entry of declaration.entries) {
    const candidate = pick(entry)
    if (candidate === undefined) continue
    origins.set(entry.key, candidate.origin)
    const value = validate(entry, candidate)
    if (value !== undefined) {
      setPath(values, entry.path, value)
      settled.set(entry.key, value)
    }
  }

  function pick(entry: Entry): Candidate | undefined {
    const override = options.overrides?.[entry.key]
    if (override !== undefined) {
      const label =
        typeof override === 'object' ? override.source : entry.flag ? `--${entry.flag}` : `--set ${entry.key}`
      const raw = typeof override === 'object' ? override.value : override
      return { raw, fromString: true, origin: { kind: 'command-line', label } }
    }
    /** A value from a secret file: `<VAR>_FILE` names it, or it sits in the secrets directory. */
    const fromSecretFile = (path: string, label: string) => {
      const read = readSecretFile(path)
      const origin: Origin = { kind: 'secret-file', label, file: path }
      if (read.ok) return { raw: read.value, fromString: true, origin }
      problems.push({
        key: entry.key,
        source: label,
        expected: 'a readable secret file',
        found: `a file that ${read.reason}`,
      })
      return { raw: undefined, fromString: true, origin }
    }
    const pointer = lookup(`${entry.env}_FILE`)
    const own = lookup(entry.env)
    if (pointer && own) {
      // Which one was meant is anyone's guess (a stale variable, a half-done migration to secret
      // files), so neither is used: Docker's official images refuse the pair the same way.
      problems.push({
        key: entry.key,
        source: `${own.origin.label} and ${pointer.origin.label}`,
        expected: `either ${entry.env} or ${entry.env}_FILE, not both`,
        found: 'both set',
      })
      return { raw: undefined, fromString: true, origin: pointer.origin }
    }
    if (pointer) {
      const path = resolve(cwd, pointer.value)
      return fromSecretFile(path, `${pointer.origin.label} → ${shown(path)}`)
    }
    const secretName = [entry.env, entry.env.toLowerCase()].find((candidate) => secretFiles.has(candidate))
    if (secretsDir && secretName)
      return fromSecretFile(join(secretsDir, secretName), join(secretsDir, secretName))
    if (own) return { raw: own.value, fromString: true, origin: own.origin }
    const fallback = entry.setting.options.envFallback
    if (fallback) {
      const merged: Record<string, string | undefined> = {}
      for (const name of fallback.names) merged[name] = lookup(name)?.value
      const value = fallback.read(merged)
      if (value !== undefined) {
        const used = fallback.names.filter((name) => merged[name] !== undefined)
        return { raw: value, fromString: true, origin: { kind: 'env', label: used.join(' and ') } }
      }
    }
    if (fileValues.has(entry.key) && file) {
      const { path, lineOf } = file
      // The line is found when the label is first read (a problem, `config show`): for a JSON
      // file that takes loading the yaml parser, which a valid file never needs.
      let label: string | undefined
      const origin = {
        kind: 'file' as const,
        file: path,
        get label() {
          if (label === undefined) {
            const line = lineOf(entry.path)
            label = `${shown(path)}${line ? `:${line}` : ''}`
          }
          return label
        },
      }
      return { raw: fileValues.get(entry.key), fromString: false, origin }
    }
    const { default: fallbackValue } = entry.setting.options
    if (fallbackValue !== undefined) {
      const raw = typeof fallbackValue === 'function' ? (fallbackValue as () => unknown)() : fallbackValue
      return { raw, fromString: false, origin: { kind: 'default', label: 'the default' } }
    }
    if (entry.setting.options.required || options.require?.includes(entry.key)) {
      problems.push({
        key: entry.key,
        source: 'not set',
        expected: `a value: set ${entry.env}${entry.flag ? ` or --${entry.flag}` : ''}, or ${entry.key} in the config file`,
        found: 'none',
      })
    }
    origins.set(entry.key, { kind: 'unset', label: 'not set' })
    return undefined
  }

  function validate(entry: Entry, candidate: Candidate): unknown {
    if (candidate.raw === undefined) return undefined
    const { schema } = entry.setting
    const found = () => (secret(entry) ? `${secretMask} (a secret is never shown)` : show(candidate.raw))
    let input: unknown = candidate.raw
    if (candidate.fromString || (typeof input === 'string' && !stringLike(schema))) {
      const coerced = coerce(schema, String(input))
      if (!coerced.ok) {
        problems.push({
          key: entry.key,
          source: candidate.origin.label,
          expected: describe(schema).expected,
          found: found(),
        })
        return undefined
      }
      input = coerced.value
    }
    const result = safeParse(schema, input)
    if (result.success) return result.data
    const expected = result.error.issues
      .map((issue) =>
        issue.path.length > 0
          ? `${issue.path.join('.')}: ${issue.message}`
          : issue.code === 'custom' ||
              (ranged.has(issue.code) && (issue as { origin?: string }).origin !== 'number')
            ? issue.message
            : describe(schema).expected,
      )
      .filter((text, index, all) => all.indexOf(text) === index)
      .join('; ')
    problems.push({
      key: entry.key,
      source: candidate.origin.label,
      expected: secret(entry) ? scrub(expected, candidate.raw) : expected,
      found: found(),
    })
    return undefined
  }

  // 5. Variables with our prefix that match no setting: most often a typo that would be ignored.
  if (declaration.envPrefixes.length > 0) {
    const known = new Set<string>(options.allowEnv ?? [])
    if (fileEnv) known.add(fileEnv)
    for (const entry of declaration.entries) {
      known.add(entry.env)
      known.add(`${entry.env}_FILE`)
    }
    const prefixed = (name: string) => declaration.envPrefixes.some((prefix) => name.startsWith(prefix))
    // The name is tested before the value is read: each read of process.env is a call into the
    // C++ environment, and most variables are the system's or a setting's own.
    const names = [
      ...Object.keys(env).filter(
        (name) => prefixed(name) && !known.has(name) && nonEmpty(env[name]) !== undefined,
      ),
      ...dotenv.keys(),
    ]
    for (const name of new Set(names)) {
      if (known.has(name) || !prefixed(name)) continue
      // Compared without the prefix, which every candidate shares.
      const prefix = declaration.envPrefixes.find((candidate) => name.startsWith(candidate)) as string
      const candidates = [...known].filter((candidate) => candidate.startsWith(prefix))
      const suffix = closest(
        name.slice(prefix.length),
        candidates.map((candidate) => candidate.slice(prefix.length)),
      )
      const guess = suffix === undefined ? undefined : prefix + suffix
      const fromDotenv = env[name] === undefined ? dotenv.get(name) : undefined
      const report = {
        key: name,
        source: fromDotenv ? `${dotenvLabel}:${fromDotenv.line}` : 'the environment',
        expected: 'a variable that names a setting',
        found: 'an unknown variable',
        hint: guess ? `did you mean ${guess}?` : '`config docs` lists every variable',
      }
      if (options.unknownEnv === 'warn') warnings.push(report)
      else problems.push(report)
    }
  }

  // 6. A secret read from a file git tracks is already leaked to every clone.
  for (const entry of declaration.entries) {
    const origin = origins.get(entry.key)
    if (!secret(entry) || origin?.file === undefined || !trackedByGit(origin.file)) continue
    problems.push({
      key: entry.key,
      source: origin.label,
      expected: 'a secret kept out of git (an environment variable, a secret file, or an untracked file)',
      found: 'a value in a file git tracks',
      hint: 'remove it from the file, rotate it, and `git rm --cached` the file if it holds only secrets',
    })
  }

  // 7. Rules across settings, each once the settings it reads are valid on their own.
  const invalid = new Set(problems.map((problem) => problem.key))
  for (const check of declaration.checks) {
    const blocked = check.uses ? [check.key, ...check.uses].some((key) => invalid.has(key)) : invalid.size > 0
    if (blocked) continue
    const expected = check.test(values as Infer<T>, {
      sourceOf: (key) => origins.get(key)?.kind ?? 'unset',
    })
    if (expected === undefined) continue
    const entry = declaration.entry(check.key)
    problems.push({
      key: check.key,
      source: origins.get(check.key)?.label ?? 'the default',
      expected,
      found: entry && secret(entry) ? secretMask : show(getPath(values, check.key.split('.'))),
    })
  }

  // 8. Each group's own rules, by the group's keys, reported as data.
  for (const { path, check } of declaration.groupChecks) {
    const keyOf = (key: string) => [...path, key].join('.')
    if (check.uses.some((key) => invalid.has(keyOf(key)))) continue
    const found = (check as GroupCheck<Record<string, unknown>>).problems(
      getPath(values, path) as Record<string, unknown>,
      { sourceOf: (key) => origins.get(keyOf(key))?.kind ?? 'unset' },
    )
    for (const problem of found) {
      const key = keyOf(problem.key)
      const entry = declaration.entry(key)
      problems.push({
        key,
        source: origins.get(key)?.label ?? 'the default',
        expected: problem.expected,
        found: entry && secret(entry) ? secretMask : (problem.found ?? show(getPath(values, key.split('.')))),
      })
    }
  }

  const secretKeys = new Set(declaration.entries.filter(secret).map((entry) => entry.key))
  return {
    values: problems.length === 0 ? (seal(values, secretKeys, '') as Infer<T>) : undefined,
    origins,
    settled,
    problems,
    warnings,
    file: file?.path,
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
