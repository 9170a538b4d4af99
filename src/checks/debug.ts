/** Checks that nothing runs in development or debug mode in production. */
import type { DeployCheck } from './types.js'

export const debugMode: DeployCheck = {
  id: 'debug-mode',
  subject: 'debug',
  severity: 'error',
  title: 'NODE_ENV is production',
  fix: 'Unset NODE_ENV (shipshape serve sets production) or set NODE_ENV=production. Development mode shows stack traces to visitors and disables caches in Express and most frameworks.',
  run: ({ env }) =>
    env.NODE_ENV !== undefined && env.NODE_ENV !== 'production'
      ? [`NODE_ENV is ${JSON.stringify(env.NODE_ENV)}`]
      : [],
}

export const debugLogging: DeployCheck = {
  id: 'debug-logging',
  subject: 'debug',
  severity: 'warning',
  title: 'No debug logging',
  fix: 'Unset DEBUG and set LOG_LEVEL to info or above: debug output can carry request bodies, tokens and SQL.',
  run: ({ env, settings }) => {
    const problems: string[] = []
    if (env.DEBUG) problems.push(`DEBUG is set (${JSON.stringify(env.DEBUG.slice(0, 40))})`)
    if (settings && (settings.logLevel === 'debug' || settings.logLevel === 'trace'))
      problems.push(`LOG_LEVEL is ${settings.logLevel}`)
    return problems
  },
}
