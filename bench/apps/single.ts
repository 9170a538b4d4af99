/**
 * One process serving bench/apps/page.ts on PORT, either bare (`bare`) or through shipshape's
 * full default pipeline (`pipeline`: request id, context, timeout sweep, body limit, access log
 * as JSON to stdout, metrics), or that pipeline with the default security middleware in front
 * (`security`). Isolates the pipeline's cost from the process model's.
 */
import { createServer } from 'node:http'
import { createHttpServer, createPipeline, loadApp } from '../../dist/http/index.js'
import { createLogger } from '../../dist/observe/index.js'
import { securityMiddleware } from '../../dist/security/index.js'
import { httpServerOptions, pipelineOptions } from '../_lib.ts'

const port = Number(process.env.PORT)
const mode = process.argv[2]
const entry = new URL('./page.ts', import.meta.url).pathname

if (mode === 'bare') {
  const { default: handler } = await import('./page.ts')
  createServer(handler).listen(port, '127.0.0.1')
} else {
  const logger = createLogger({ pretty: false })
  const pipeline = createPipeline(
    await loadApp(entry, 'auto'),
    { ...pipelineOptions, accessLog: true },
    logger,
    mode === 'security' ? [securityMiddleware()] : [],
  )
  createHttpServer(pipeline, httpServerOptions).listen(port, '127.0.0.1')
}
