/** The static suites' server: the given middleware in front of the fixture app in ./app.ts. */
import { fileURLToPath } from 'node:url'
import { serveMiddleware } from '../../_test/pipeline.js'
import type { AppHandler, Middleware } from '../../types.js'

const app = fileURLToPath(new URL('./app.ts', import.meta.url))

export const serve = (middleware: Middleware[], handler: AppHandler | string = app) =>
  serveMiddleware(middleware, handler)
