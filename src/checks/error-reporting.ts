/** Checks that errors in production reach someone. */
import { readUrl } from './_shared.js'
import { errorDsnVariables, readVariable } from './_variables.js'
import { isLocalHost } from './hosts.js'
import type { DeployCheck } from './types.js'

export const errorReporting: DeployCheck = {
  id: 'error-reporting',
  subject: 'error-reporting',
  severity: 'warning',
  title: 'Errors are reported somewhere people look',
  waitsOn: 'observe (error tracking settings)',
  fix: 'Set SHIPSHAPE_ERROR_DSN (or SENTRY_DSN) to a Sentry-compatible DSN over https.',
  run: (context) => {
    const name = errorDsnVariables.find((variable) => {
      const read = readVariable(context, variable)
      return read.value !== undefined || read.problems.length > 0
    })
    if (name === undefined)
      return [`neither ${errorDsnVariables.join(' nor ')} is set: errors in production go unnoticed`]
    const url = readUrl(context, name)
    if (!(url instanceof URL)) return url ?? []
    const problems: string[] = []
    if (!/^\/(?:.*\/)?\d+$/.test(url.pathname) || url.username === '')
      problems.push(`${name} is not a DSN (expected https://<key>@<host>/<project id>)`)
    if (url.protocol !== 'https:' && !isLocalHost(url.hostname))
      problems.push(
        `${name} sends error reports, with their request data, over plain ${url.protocol.slice(0, -1)}`,
      )
    return problems
  },
}
