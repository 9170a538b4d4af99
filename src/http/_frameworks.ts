/**
 * The frameworks whose production build is not one exported request handler: a Next.js project
 * (served from its directory, as `next start` would), a React Router server build (a module of
 * routes and assets), a NestJS application. Each becomes the handler of a kind the adapters know.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { ShipshapeError } from '../errors/index.js'
import type { AppHandler } from '../types.js'
import { putHeader } from './_header-store.js'

type Fetch = (request: Request) => Promise<Response>
type NextHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

/** A directory holding a production build of Next.js (`next build` writes `.next/BUILD_ID`). */
export function isNextProject(dir: string): boolean {
  return existsSync(join(dir, '.next', 'BUILD_ID'))
}

/**
 * Next.js, from the project's own `next` package, in production mode: the request handler
 * `next start` uses, without its server. Next takes its script nonce from the *request's*
 * Content-Security-Policy header, so each request gets the response's policy, with the nonce in
 * it, before Next sees it: every page Next renders per request is nonced. Pages prerendered by
 * `next build` were rendered without a request, so their inline scripts carry no nonce: their
 * SHA-256 hashes, read from the build once at start-up, join the policy on those paths. A route
 * handler (`app/api/hello/route.js`) renders no page: its response keeps shipshape's policy, with
 * no nonce and no page's hashes (see `routeHandlerPaths`).
 */
export async function nextHandler(dir: string): Promise<AppHandler> {
  if (!isNextProject(dir))
    throw new ShipshapeError('SHIPSHAPE_E_APP_NOT_FOUND', `${dir} has no Next.js build: run \`next build\``)
  const require = createRequire(join(dir, 'package.json'))
  let next: (options: { dir: string; dev: boolean }) => {
    prepare(): Promise<void>
    getRequestHandler(): NextHandler
  }
  try {
    next = require('next') as typeof next
  } catch (error) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_APP_NOT_FOUND',
      `${dir} has a .next build but no \`next\` package`,
      {
        cause: error,
      },
    )
  }
  const app = next({ dir, dev: false })
  await app.prepare()
  const handle = app.getRequestHandler()
  const pages = await prerenderedSources(dir)
  // The not-found and error pages are prerendered too, and answer any path.
  const everywhere: PageSources = { script: [], style: [] }
  for (const [path, sources] of pages) {
    if (!path.startsWith('/_')) continue
    everywhere.script.push(...sources.script)
    everywhere.style.push(...sources.style)
  }
  // Each page's hashes as a policy of the app's own, set on its response: the security layer
  // merges shipshape's policy into it at send time, as for SvelteKit's prerendered pages.
  const policies = new Map(
    [...pages].map(([path, page]) => [
      path,
      sourcesPolicy({
        script: [...page.script, ...everywhere.script],
        style: [...page.style, ...everywhere.style],
      }),
    ]),
  )
  const elsewhere = sourcesPolicy(everywhere)
  const routeHandlers = routeHandlerPaths(dir)
  return async (ctx) => {
    const { req, res } = ctx
    const key = cspKey(res)
    const path = pagePath(ctx.path)
    if (key !== undefined && !routeHandlers.has(path)) {
      // Reading the nonce adds it to shipshape's policy, where Next finds it on the request.
      void ctx.state.cspNonce
      req.headers[key] = String(res.getHeader(key))
      const policy = policies.get(path) ?? elsewhere
      // Hashes and 'unsafe-hashes' only: valid header text, without setHeader's check of each character.
      if (policy !== '') putHeader(res, key, key, policy)
    }
    await handle(req, res)
    // 'close' comes once: `on` spares the wrapper `once` would add and take out again (see _adapters.ts).
    if (!res.writableEnded && !res.destroyed) await new Promise((done) => res.on('close', done))
  }
}

/**
 * The paths of the app's route handlers (`app/…/route.js`, `pages/api/…`) without dynamic
 * segments, read from the build's manifests. On these the nonce and the not-found page's hashes
 * are not needed, and their cost is not paid: a kilobyte of policy, its merge with shipshape's
 * and its bytes on the wire, on every API response. Empty when a request's route cannot be told
 * from its path alone: with middleware (or a proxy), rewrites, i18n or a manifest missing.
 */
function routeHandlerPaths(dir: string): Set<string> {
  const paths = new Set<string>()
  const read = (name: string) => {
    const file = join(dir, '.next', name)
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : undefined
  }
  const routes = read('routes-manifest.json') as
    | { basePath?: string; i18n?: unknown; rewrites?: Record<string, unknown[]> | unknown[] }
    | undefined
  const middleware = read('server/middleware-manifest.json') as
    | { middleware?: object; functions?: object }
    | undefined
  if (
    routes === undefined ||
    middleware === undefined ||
    routes.i18n ||
    Object.keys(middleware.middleware ?? {}).length > 0 ||
    Object.keys(middleware.functions ?? {}).length > 0 ||
    Object.values(routes.rewrites ?? {}).some((list) => (Array.isArray(list) ? list.length > 0 : true))
  )
    return paths
  const base = routes.basePath ?? ''
  const appRoutes = (read('app-path-routes-manifest.json') ?? {}) as Record<string, string>
  for (const [entry, path] of Object.entries(appRoutes))
    if (entry.endsWith('/route') && !path.includes('[')) paths.add(pagePath(`${base}${path}`))
  for (const path of Object.keys(read('server/pages-manifest.json') ?? {}))
    if ((path === '/api' || path.startsWith('/api/')) && !path.includes('['))
      paths.add(pagePath(`${base}${path}`))
  return paths
}

function cspKey(res: ServerResponse): string | undefined {
  if (res.hasHeader('content-security-policy')) return 'content-security-policy'
  if (res.hasHeader('content-security-policy-report-only')) return 'content-security-policy-report-only'
  return undefined
}

/** `/about/` and `/about` are one page; `/` is `/`. */
function pagePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

/** The sources a prerendered page's inline code needs, by directive. */
interface PageSources {
  script: string[]
  style: string[]
  /** The policy of the page's `<meta http-equiv="content-security-policy">`, if it has one. */
  meta?: string
}

/**
 * The hashes of the inline scripts and styles of each page `next build` prerendered, by path,
 * from the prerender manifest and the HTML beside it (`.next/server/app/<path>.html`,
 * `index.html` for /). A page regenerated later (ISR's `revalidate`) carries new scripts: it
 * needs dynamic rendering (docs/frameworks.md).
 */
async function prerenderedSources(dir: string): Promise<Map<string, PageSources>> {
  const pages = new Map<string, PageSources>()
  const manifestPath = join(dir, '.next', 'prerender-manifest.json')
  if (!existsSync(manifestPath)) return pages
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { routes?: Record<string, unknown> }
  for (const path of Object.keys(manifest.routes ?? {})) {
    const file = join(dir, '.next', 'server', 'app', `${path === '/' ? 'index' : path.slice(1)}.html`)
    if (existsSync(file)) pages.set(path, await inlineSources(readFileSync(file, 'utf8')))
  }
  return pages
}

/**
 * `'sha256-…'` sources for a page's inline code, parsed as a browser parses it (parse5, loaded
 * only here): script elements without src of a JavaScript type, style elements, and style
 * attributes (which need `'unsafe-hashes'`: it allows exactly the attribute values hashed).
 */
async function inlineSources(html: string): Promise<PageSources> {
  const { parse } = await import('parse5')
  const script = new Set<string>()
  const style = new Set<string>()
  const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`
  type Node = {
    tagName?: string
    attrs?: { name: string; value: string }[]
    childNodes?: Node[]
    value?: string
  }
  const text = (node: Node) => (node.childNodes ?? []).map((child) => child.value ?? '').join('')
  let attributes = false
  let meta: string | undefined
  const visit = (nodes: Node[]) => {
    for (const node of nodes) {
      if (node.tagName === undefined) continue
      const attrs = new Map((node.attrs ?? []).map((attr) => [attr.name, attr.value]))
      if (node.tagName === 'meta' && attrs.get('http-equiv')?.toLowerCase() === 'content-security-policy')
        meta ??= attrs.get('content')
      const styleAttribute = attrs.get('style')
      if (styleAttribute !== undefined && styleAttribute !== '') {
        style.add(hash(styleAttribute))
        attributes = true
      }
      const type = attrs.get('type')?.toLowerCase()
      if (
        node.tagName === 'script' &&
        !attrs.has('src') &&
        (type === undefined || type === '' || type === 'module' || type.includes('javascript'))
      ) {
        if (text(node) !== '') script.add(hash(text(node)))
      } else if (node.tagName === 'style' && text(node) !== '') style.add(hash(text(node)))
      visit(node.childNodes ?? [])
    }
  }
  visit(parse(html).childNodes as Node[])
  const sources = { script: [...script], style: attributes ? ["'unsafe-hashes'", ...style] : [...style] }
  return meta === undefined ? sources : { ...sources, meta }
}

/** The policy with `sources` added to one directive (made from default-src when it has none). */
function withSources(policy: string, directive: string, sources: readonly string[]): string {
  if (sources.length === 0) return policy
  const directives = policy.split(';').map((part) => part.trim())
  const named = (name: string) => (part: string) => part === name || part.startsWith(`${name} `)
  const at = directives.findIndex(named(directive))
  if (at >= 0) {
    const present = new Set((directives[at] as string).split(' '))
    const added = sources.filter((source) => !present.has(source) && present.add(source))
    directives[at] = [directives[at], ...added].join(' ')
  } else {
    const fallback = directives.find(named('default-src'))
    directives.push(
      `${directive}${fallback?.slice('default-src'.length) ?? ''} ${[...new Set(sources)].join(' ')}`,
    )
  }
  return directives.filter((part) => part !== '').join('; ')
}

/**
 * SvelteKit's adapter-node build (`build/handler.js`) with pages `vite build` prerendered
 * (`build/prerendered/**.html`). SvelteKit serves those as files, with no header: their policy
 * (the hashes of their inline scripts) is in a `<meta http-equiv>` tag, and browsers enforce a
 * meta policy and shipshape's header both, so the header alone would block the page's scripts.
 * Each page's own policy, read once at start-up (its meta tag, or the hashes of its inline code
 * when it has none), is set on its response as the app's header, which shipshape's merges into
 * as it does for SvelteKit's dynamic pages.
 */
export async function withPrerenderedPolicies(handler: AppHandler, entry: string): Promise<AppHandler> {
  const dir = join(dirname(entry), 'prerendered')
  if (!existsSync(dir)) return handler
  const policies = new Map<string, string>()
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.html')) continue
    const path = `/${file.replace(/(^|\/)index\.html$/, '').replace(/\.html$/, '')}`
    policies.set(pagePath(path), await pagePolicy(readFileSync(join(dir, file), 'utf8')))
  }
  return (ctx) => {
    const policy = policies.get(pagePath(ctx.path))
    const key = cspKey(ctx.res)
    if (policy && key !== undefined) ctx.res.setHeader(key, policy)
    return handler(ctx)
  }
}

async function pagePolicy(html: string): Promise<string> {
  const sources = await inlineSources(html)
  return sources.meta ?? sourcesPolicy(sources)
}

/**
 * The two directives a page's inline code needs, as a policy of its own ('' when it needs
 * none). Only those two: a default-src here would become the fallback of every directive
 * shipshape's policy has and this one lacks (object-src 'self' for shipshape's 'none').
 */
function sourcesPolicy({ script, style }: PageSources): string {
  return withSources(withSources('', 'script-src', script), 'style-src', style)
}

/** A React Router server build (`build/server/index.js`): it exports its routes, entry and assets. */
export function isReactRouterBuild(module: Record<string, unknown>): boolean {
  return (
    typeof module.routes === 'object' &&
    typeof module.entry === 'object' &&
    typeof module.assets === 'object' &&
    typeof module.publicPath === 'string'
  )
}

/**
 * A React Router build becomes a fetch handler through the app's own `react-router` package
 * (`createRequestHandler`, what `react-router-serve` runs). It runs inside the request's
 * context, so entry.server and loaders can call cspNonce().
 */
export function reactRouterFetch(build: Record<string, unknown>, entry: string): Fetch {
  const require = createRequire(entry)
  const { createRequestHandler } = require('react-router') as {
    createRequestHandler(build: unknown, mode: string): Fetch
  }
  return createRequestHandler(build, 'production')
}
