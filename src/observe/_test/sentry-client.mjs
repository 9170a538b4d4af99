// Another service reporting with the real @sentry/node SDK: three errors from one throw site.
import * as Sentry from '@sentry/node'

Sentry.init({ dsn: process.env.DSN, defaultIntegrations: false, tracesSampleRate: 0 })
function chargeCard(id) {
  throw new Error(`card ${id} declined`)
}
for (const id of [101, 202, 303]) {
  try {
    chargeCard(id)
  } catch (error) {
    Sentry.captureException(error)
  }
}
process.exit((await Sentry.flush(10_000)) ? 0 : 1)
