/**
 * Loads the user's app module and turns whatever it exports into one AppHandler. Each adapter
 * resolves once the response has finished or the connection closed, so middleware that awaits
 * next() runs its "after" code when the response is really over.
 */
import { existsSync, statSync } from 'node:fs'
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { ShipshapeError } from '../errors/index.js'
import { type AppHandler, type AppKind, appKinds, type RequestContext } from '../types.js'
import { plainAnswer } from './_answer.js'
import { getContext, reportAppError } from './_context.js'
import {
  isNextProject,
  isReactRouterBuild,
  nextHandler,
  reactRouterFetch,
  withPrerenderedPolicies,
} from './_frameworks.js'
import { appParts, withHooks } from './_hooks.js'
import { fastifyRoute, honoRoute, koaRoute } from './_route-frameworks.js'

type Fetch = (request: Request, ...rest: unknown[]) => Response | Promise<Response>
type Any = Record<string, unknown> & ((...args: unknown[]) => unknown)

/** Imports `entry`, finds its app (default export, else a named `app` export) and adapts it. */
export async function loadApp(entry: string, kind: AppKind | 'auto'): Promise<AppHandler> {
  if (kind !== 'auto' && !(appKinds as readonly string[]).includes(kind)) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_APP_KIND',
      `unknown kind "${kind}"; use auto, ${appKinds.join(', ')}`,
    )
  }
  const path = resolve(entry)
  if (!existsSync(path)) throw new ShipshapeError('SHIPSHAPE_E_APP_NOT_FOUND', `no file at ${path}`)
  // A directory is a framework's project, served from its build (only Next.js's today).
  if (statSync(path).isDirectory()) {
    if (kind !== 'auto' && kind !== 'next')
      throw new ShipshapeError('SHIPSHAPE_E_APP_KIND', `${path} is a directory; a ${kind} app is a module`)
    if (!isNextProject(path) && kind === 'auto')
      throw new ShipshapeError(
        'SHIPSHAPE_E_APP_NOT_FOUND',
        `${path} is a directory without a Next.js build (.next/BUILD_ID); name the app's module`,
      )
    return nextHandler(path)
  }
  let module: Record<string, unknown>
  try {
    module = await import(pathToFileURL(path).href)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new ShipshapeError('SHIPSHAPE_E_APP_NOT_FOUND', `${path} failed to load: ${message}`, {
      cause: error,
    })
  }
  // SvelteKit's adapter-node build exports `handler`; a React Router build is the module itself.
  let app: unknown =
    module.default ?? module.app ?? module.handler ?? (isReactRouterBuild(module) ? module : undefined)
  const svelteKitHandler = app === module.handler
  // A CommonJS module imported from ESM arrives as { default: module.exports }.
  if (app && typeof app === 'object' && 'default' in app && !isKnownApp(app))
    app = (app as { default: unknown }).default
  if (app === undefined || app === null) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_APP_KIND',
      `${path} has neither a default export nor an \`app\` export`,
    )
  }
  // `export default NestFactory.create(AppModule)`: the app is what the promise gives.
  if (typeof (app as { then?: unknown }).then === 'function') app = await (app as Promise<unknown>)
  const parts = await appParts(app)
  app = parts.app
  const detected = kind === 'auto' ? detectKind(app) : kind
  if (detected === undefined) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_APP_KIND',
      `cannot tell what kind of app ${path} exports (${describe(app)})`,
    )
  }
  let handler = await adapt(app, detected, path)
  if (svelteKitHandler) handler = await withPrerenderedPolicies(handler, path)
  return withHooks(handler, parts, detected, module)
}

/**
 * Detection looks at the shape of the export. A plain function is a node:http listener when it
 * takes two parameters (req, res) and a fetch handler when it takes one (request).
 */
export function detectKind(app: unknown): AppKind | undefined {
  if (app === null || (typeof app !== 'object' && typeof app !== 'function')) return undefined
  const a = app as Any
  if (isReactRouterBuild(a)) return 'react-router'
  if (typeof a.ready === 'function' && typeof a.inject === 'function' && typeof a.routing === 'function') {
    return 'fastify'
  }
  if (typeof a.callback === 'function' && typeof a.use === 'function' && typeof a.context === 'object')
    return 'koa'
  if (typeof a === 'function' && typeof a.handle === 'function' && typeof a.use === 'function') {
    return typeof a.set === 'function' && typeof a.engine === 'function' ? 'express' : 'connect'
  }
  if (typeof a.fetch === 'function') return 'fetch'
  if (typeof a === 'function') return a.length === 1 ? 'fetch' : 'node'
  return undefined
}

function isKnownApp(app: object): boolean {
  return detectKind(app) !== undefined && !(typeof app === 'object' && Object.keys(app).join() === 'default')
}

function describe(app: unknown): string {
  if (typeof app === 'function') return `a function of ${app.length} parameters`
  if (typeof app === 'object' && app !== null)
    return `an object with keys ${Object.keys(app).slice(0, 8).join(', ') || '(none)'}`
  return typeof app
}

async function adapt(app: unknown, kind: AppKind, path: string): Promise<AppHandler> {
  const a = app as Any
  const wrong = (what: string) =>
    new ShipshapeError(
      'SHIPSHAPE_E_APP_KIND',
      `${path} was declared a ${kind} app but exports ${describe(app)}; expected ${what}`,
    )
  switch (kind) {
    case 'node':
      if (typeof a !== 'function') throw wrong('a (req, res) function')
      return nodeAdapter(a as unknown as RequestListener)
    case 'express':
    case 'connect':
      if (typeof a !== 'function' || typeof a.handle !== 'function') throw wrong(`an ${kind} app`)
      // Express announces itself in X-Powered-By; shipshape does not tell attackers what runs behind it.
      if (typeof a.disable === 'function') (a.disable as (name: string) => void)('x-powered-by')
      return connectAdapter(a)
    case 'koa':
      if (typeof a.callback !== 'function') throw wrong('a Koa app')
      return koaAdapter(a)
    case 'fastify':
      if (typeof a.ready !== 'function') throw wrong('a Fastify instance')
      return fastifyAdapter(a)
    case 'fetch': {
      const fetch =
        typeof a.fetch === 'function'
          ? (a.fetch as Fetch).bind(a)
          : typeof a === 'function'
            ? (a as Fetch)
            : undefined
      if (fetch === undefined) throw wrong('{ fetch(request) } or a (request) => Response function')
      return fetchAdapter(fetch, honoRoute(a))
    }
    case 'react-router':
      if (!isReactRouterBuild(a)) throw wrong('a React Router server build (build/server/index.js)')
      // Route names: the path with its ids collapsed (React Router's matches stay inside its handler).
      return fetchAdapter(reactRouterFetch(a, path), undefined)
    case 'next':
      throw wrong('nothing: a Next.js app is served from its project directory (`shipshape serve .`)')
  }
}

const over = Promise.resolve()

/**
 * Resolves when the response has been handed to the socket (`end()` called) or the connection
 * closed under it. Most handlers end synchronously, so this rarely needs a listener. 'close' is
 * emitted once per response: `on`, not `once`, which would wrap the listener and take it out of
 * the response's list of 'close' listeners (the pipeline's, the framework's: SvelteKit has two)
 * again while it is emitted, for nothing (about 0.15 µs a response with SvelteKit's listeners).
 */
function settled(res: ServerResponse): Promise<void> {
  if (res.writableEnded || res.destroyed) return over
  return new Promise((done) => res.on('close', done))
}

function nodeAdapter(listener: RequestListener): AppHandler {
  // Not an async function: a listener that answers synchronously (the common case) costs no
  // extra promise or microtask here.
  return ({ req, res }) => {
    try {
      const result = listener(req, res) as unknown
      if (result instanceof Promise) return result.then(() => settled(res))
      return settled(res)
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

/**
 * Express and Connect get a final handler of shipshape's own: a request no route answered gets a
 * plain 404, and an error reaches the pipeline (logged with its stack, answered with a generic
 * 500) instead of finalhandler, which writes the stack into the page outside production.
 */
function connectAdapter(app: Any): AppHandler {
  return async ({ req, res }) => {
    await new Promise<void>((done, fail) => {
      app(req, res, (error?: unknown) => {
        if (error !== undefined && error !== null && error !== 'route' && error !== 'router')
          return fail(error)
        if (!res.headersSent) notFound(res)
        done()
      })
      res.on('close', done)
    })
    await settled(res)
  }
}

function koaAdapter(app: Any): AppHandler {
  // With a listener of our own, Koa skips its default handler that prints errors to stderr; it
  // still answers a generic 500 itself (messages of 5xx errors are never exposed).
  if (typeof app.on === 'function') {
    ;(app.on as (event: string, fn: (error: unknown) => void) => void)('error', (error) => {
      const status = (error as { status?: number }).status
      if (status === undefined || status >= 500) reportAppError(getContext(), error)
    })
  }
  koaRoute(app)
  const handle = (app.callback as () => (req: IncomingMessage, res: ServerResponse) => Promise<void>)()
  return async ({ req, res }) => {
    await handle(req, res)
    await settled(res)
  }
}

async function fastifyAdapter(app: Any): Promise<AppHandler> {
  // Fastify never listens: it is made ready, then handed requests through `routing`, the
  // public name of the handler it attaches to its own (unused) server. Its 500s carry the
  // message but never the stack.
  const addHook = app.addHook as (name: string, fn: (...args: never[]) => void) => void
  try {
    addHook.call(
      app,
      'onError',
      (_request: unknown, _reply: unknown, error: { statusCode?: number }, done: unknown) => {
        // At this point the reply still has its 200: the error's own status says whether it is a 5xx.
        if ((error.statusCode ?? 500) >= 500) reportAppError(getContext(), error)
        ;(done as () => void)()
      },
    )
  } catch (error) {
    // Made ready already (NestJS's Fastify platform, at init): its errors are the framework's
    // to log (Nest's exception filters do).
    if ((error as { code?: string }).code !== 'AVV_ERR_ROOT_PLG_BOOTED') throw error
  }
  fastifyRoute(app)
  await (app.ready as () => Promise<unknown>).call(app)
  const handle = app.routing as unknown as RequestListener
  return async ({ req, res }) => {
    handle(req, res)
    await settled(res)
  }
}

function fetchAdapter(fetch: Fetch, route: ((ctx: RequestContext) => void) | undefined): AppHandler {
  return async (ctx) => {
    route?.(ctx)
    const response = await fetch(toRequest(ctx))
    if (!(response instanceof Response)) {
      throw new ShipshapeError('SHIPSHAPE_E_APP_RESPONSE', `it returned ${describe(response)}`)
    }
    await send(response, ctx.res)
  }
}

function toRequest(ctx: RequestContext): Request {
  const { req } = ctx
  const headers = new Headers()
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string)
  const url = `${ctx.protocol}://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`
  const method = ctx.method
  const hasBody = method !== 'GET' && method !== 'HEAD'
  return new Request(url, {
    method,
    headers,
    signal: ctx.signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } : {}),
  } as RequestInit)
}

async function send(response: Response, res: ServerResponse): Promise<void> {
  const body = response.body
  if (res.headersSent) {
    await body?.cancel().catch(ignore)
    return
  }
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  res.writeHead(response.status, response.statusText || undefined, headers)
  if (body === null || res.req.method === 'HEAD') {
    res.end()
    // A HEAD answer has no body: the stream is cancelled, never read (an endless one never ends).
    await body?.cancel().catch(ignore)
    return settled(res)
  }
  const reader = body.getReader()
  // One 'drain' and one 'close' listener for the whole body, not one per stall: a slow reader
  // stalls the stream thousands of times.
  let resume: (() => void) | undefined
  const wake = () => {
    const go = resume
    resume = undefined
    go?.()
  }
  const stop = () => {
    reader.cancel().catch(ignore)
    wake()
  }
  res.on('drain', wake)
  res.on('close', stop)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (res.destroyed) {
        stop()
        break
      }
      // Respect backpressure: a slow client must not make the worker buffer the whole body.
      if (!res.write(value) && !res.destroyed)
        await new Promise<void>((go) => {
          resume = go
        })
    }
  } finally {
    res.off('drain', wake)
    res.off('close', stop)
  }
  if (!res.destroyed) res.end()
  await settled(res)
}

function ignore(): void {}

function notFound(res: ServerResponse): void {
  plainAnswer(res, 404, 'Not Found\n')
}
