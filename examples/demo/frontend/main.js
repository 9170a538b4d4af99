// The demo's script: a character counter for the guestbook form, and relative times for the
// entries, loaded with a dynamic import only on pages that show entries.
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
