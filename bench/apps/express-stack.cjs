// Anchor (c): the usual hand-assembled stack, run by PM2 in cluster mode:
// Express 5 + helmet + pino-http + prom-client, serving the same page.
const express = require('express')
const helmet = require('helmet')
const pinoHttp = require('pino-http')
const client = require('prom-client')

const page = Buffer.from(
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench</title></head><body><h1>Hello</h1>${'<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>'.repeat(12)}</body></html>`,
)
const requests = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'request duration',
  labelNames: ['method', 'status'],
})

const app = express()
app.use(helmet())
app.use(pinoHttp())
app.use((req, res, next) => {
  const end = requests.startTimer({ method: req.method })
  res.on('finish', () => end({ status: res.statusCode }))
  next()
})
app.get('/', (_req, res) => {
  res.type('html').send(page)
})
app.listen(Number(process.env.PORT), '127.0.0.1')
