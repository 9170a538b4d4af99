/**
 * One cold start of a Lambda execution environment: import the handler, answer one HTTP API
 * event, print the milliseconds since the process began. `shipshape`: shipshape/lambda in front
 * of the app; `bare`: the same app behind a plain node:http server on a Unix socket, the least a
 * handler that runs a node:http app can do.
 */
import { mkdtempSync } from 'node:fs'
import { createServer, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const [mode = 'shipshape'] = process.argv.slice(2)
const app = new URL('../../src/lambda/_test/app.ts', import.meta.url).pathname
const event = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/hello',
  rawQueryString: '',
  headers: { host: 'id.execute-api.us-east-1.amazonaws.com', accept: 'application/json' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'id',
    domainName: 'id.execute-api.us-east-1.amazonaws.com',
    domainPrefix: 'id',
    http: { method: 'GET', path: '/hello', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'bench' },
    requestId: 'id',
    routeKey: '$default',
    stage: '$default',
    time: '12/Mar/2020:19:03:58 +0000',
    timeEpoch: 1583348638390,
  },
  isBase64Encoded: false,
}

let status: number
if (mode === 'shipshape') {
  process.env.SHIPSHAPE_ALLOWED_HOSTS = '.amazonaws.com'
  const { lambdaHandler } = await import('../../dist/lambda/index.js')
  status = ((await lambdaHandler(app)(event as never)) as { statusCode: number }).statusCode
} else {
  const handler = (await import(app)).default
  const socketPath = join(mkdtempSync(join(tmpdir(), 'bench-lambda-')), 'http.sock')
  const server = createServer(handler)
  await new Promise<void>((listening) => server.listen(socketPath, listening))
  status = await new Promise<number>((resolve) =>
    request({ socketPath, path: event.rawPath, agent: false, headers: event.headers }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    }).end(),
  )
  server.close()
}
if (status !== 200) throw new Error(`status ${status}`)
process.stdout.write(`${performance.now()}\n`)
process.exit(0)
