/**
 * The variables the checks judge that no shipshape settings group declares (yet): the app's
 * secret keys, the database and Redis URLs, the error DSN and the admin paths. They are declared
 * here with shipshape/config and loaded with its loader, so each value is read exactly as
 * `shipshape serve` reads a setting: the environment, `.env`, `<VAR>_FILE` (one trailing newline
 * dropped) and the secrets directory, with the same problems (an unreadable secret file, a secret
 * read from a file git tracks) instead of a second reader that judged another value.
 */
import { z } from 'zod'
import { defineConfig, formatProblem, resolveConfig, setting } from '../config/index.js'
import type { CheckContext } from './types.js'

const text = z.string()

/** Variables holding keys that sign or encrypt: sessions, tokens, signed media URLs. */
export const secretKeyVariables = ['SECRET_KEY', 'SESSION_SECRET', 'SHIPSHAPE_SECRET_KEY'] as const
export const errorDsnVariables = ['SHIPSHAPE_ERROR_DSN', 'SENTRY_DSN'] as const
const adminPathsVariable = 'SHIPSHAPE_ADMIN_PATHS'

const secretVariable = (env: string, description: string) =>
  setting(text, { env, secret: true, flag: false, description })

const checkedVariables = defineConfig({
  SECRET_KEY: secretVariable('SECRET_KEY', "The app's signing key (Django's name)."),
  SESSION_SECRET: secretVariable('SESSION_SECRET', "The app's session signing key (Express's name)."),
  SHIPSHAPE_SECRET_KEY: secretVariable('SHIPSHAPE_SECRET_KEY', "shipshape's signing key."),
  DATABASE_URL: secretVariable('DATABASE_URL', 'The database connection URL; it may carry a password.'),
  REDIS_URL: secretVariable('REDIS_URL', 'The Redis connection URL; it may carry a password.'),
  SHIPSHAPE_ERROR_DSN: secretVariable('SHIPSHAPE_ERROR_DSN', 'Where errors are reported.'),
  SENTRY_DSN: secretVariable('SENTRY_DSN', 'Where errors are reported (Sentry SDK name).'),
  SHIPSHAPE_ADMIN_PATHS: setting(text, {
    env: adminPathsVariable,
    flag: false,
    description: 'Admin paths the admin-protected check probes.',
  }),
})

export type CheckedVariable = keyof (typeof checkedVariables)['shape']

interface VariableRead {
  /** The value, from whichever source serve would take it; undefined when unset or unreadable. */
  value: string | undefined
  /** What config's loader reports about it, as sentences (never the value). */
  problems: string[]
}

type Resolved = ReturnType<typeof resolveConfig<typeof checkedVariables.shape>>

/**
 * The variables resolved once per check context: loading reads .env and the secret files and asks
 * git which of them it tracks, which every check reading a variable would otherwise do again.
 * runDeployChecks() hands each run a context of its own, so a later run reads the sources anew.
 */
const resolved = new WeakMap<CheckContext, { env: NodeJS.ProcessEnv; resolution: Resolved }>()

/** One variable, loaded as shipshape/config loads it for `shipshape serve` in this directory. */
export function readVariable(context: CheckContext, name: CheckedVariable): VariableRead {
  let cached = resolved.get(context)
  if (cached?.env !== context.env) {
    const resolution = resolveConfig(checkedVariables, {
      env: context.env,
      cwd: context.cwd,
      ...(context.secretsDir === undefined ? {} : { secretsDir: context.secretsDir }),
    })
    cached = { env: context.env, resolution }
    resolved.set(context, cached)
  }
  const { resolution } = cached
  const value = resolution.settled.get(name)
  return {
    value: typeof value === 'string' && value !== '' ? value : undefined,
    problems: resolution.problems.filter((problem) => problem.key === name).map(formatProblem),
  }
}
