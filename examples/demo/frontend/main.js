// The demo's script: front-end errors reported with the official @sentry/browser SDK to the app's
// own envelope endpoint (shipshape serve --ingest-keys), a character counter for the guestbook
// form, and relative times for the entries, loaded with a dynamic import only on pages that show
// entries.
import { init } from '@sentry/browser'

// The DSN names this origin: events go where the page came from, which the strict CSP's
// default-src 'self' allows; the SDK is bundled into this file, from no CDN.
const key = document.querySelector('meta[name="errors-dsn-key"]')?.content
if (key) init({ dsn: `${location.protocol}//${key}@${location.host}/1` })

for (const button of document.querySelectorAll('button[data-throws]')) {
  button.addEventListener('click', () => {
    throw new Error(`the demo's front-end button was pressed at ${new Date().toISOString()}`)
  })
}

const message = document.querySelector('textarea[name="message"]')
if (message) {
  const counter = document.createElement('small')
  counter.className = 'counter'
  const update = () => {
    counter.textContent = `${message.value.length} / ${message.maxLength}`
  }
  message.after(counter)
  message.addEventListener('input', update)
  update()
}

const times = document.querySelectorAll('time[datetime]')
if (times.length > 0) {
  import('./relative-time.js').then(({ relativeTime }) => {
    for (const time of times) time.textContent = relativeTime(new Date(time.dateTime))
  })
}
