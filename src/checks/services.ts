/** Checks on the connections to shared services: the database and Redis. */
import { readUrl } from './_shared.js'
import { isLocalHost } from './hosts.js'
import type { DeployCheck } from './types.js'

/** `postgres:///db?host=/var/run/postgresql`: a Unix socket given in the query. */
function hostFromQuery(url: URL): string | undefined {
  const host = url.searchParams.get('host')
  return host?.startsWith('/') ? host : undefined
}

export const databasePassword: DeployCheck = {
  id: 'database-password',
  subject: 'services',
  severity: 'error',
  title: 'A remote database needs a password',
  fix: 'Put the password in DATABASE_URL (postgres://user:password@host/db), preferably from a secret file (DATABASE_URL_FILE).',
  run: (context) => {
    const url = readUrl(context, 'DATABASE_URL')
    if (!(url instanceof URL)) return url ?? []
    if (isLocalHost(url.hostname) || hostFromQuery(url) !== undefined) return []
    return url.password === '' ? [`DATABASE_URL reaches ${url.hostname} without a password`] : []
  },
}

export const databaseTls: DeployCheck = {
  id: 'database-tls',
  subject: 'services',
  severity: 'warning',
  title: 'A remote database is reached over TLS',
  fix: 'Add sslmode=verify-full (or at least require) to DATABASE_URL: without it, passwords and data cross the network in clear.',
  run: (context) => {
    // A URL that cannot be read is database-password's finding.
    const url = readUrl(context, 'DATABASE_URL')
    if (!(url instanceof URL) || isLocalHost(url.hostname)) return []
    const sslmode = url.searchParams.get('sslmode')
    const ssl = url.searchParams.get('ssl')
    if (sslmode && ['require', 'verify-ca', 'verify-full'].includes(sslmode)) return []
    if (ssl === 'true' || ssl === '1') return []
    return [
      `DATABASE_URL reaches ${url.hostname} ${sslmode ? `with sslmode=${sslmode}, which allows plain text` : 'without sslmode'}`,
    ]
  },
}

export const redisAuth: DeployCheck = {
  id: 'redis-auth',
  subject: 'services',
  severity: 'error',
  title: 'A remote Redis needs a password',
  fix: 'Require a password (requirepass or an ACL user) and put it in REDIS_URL (redis://:password@host:6379).',
  run: (context) => {
    const url = readUrl(context, 'REDIS_URL')
    if (!(url instanceof URL)) return url ?? []
    if (isLocalHost(url.hostname)) return []
    return url.password === ''
      ? [`REDIS_URL reaches ${url.hostname} without a password: anyone on the network can read and write it`]
      : []
  },
}

export const redisTls: DeployCheck = {
  id: 'redis-tls',
  subject: 'services',
  severity: 'warning',
  title: 'A remote Redis is reached over TLS',
  fix: 'Use a rediss:// URL (TLS), as managed Redis services offer.',
  run: (context) => {
    const url = readUrl(context, 'REDIS_URL')
    if (!(url instanceof URL)) return []
    return !isLocalHost(url.hostname) && url.protocol === 'redis:'
      ? [`REDIS_URL reaches ${url.hostname} over plain redis://`]
      : []
  },
}
