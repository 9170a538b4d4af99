/**
 * One catalogue of every error shipshape raises on purpose. Each code has the HTTP status it
 * maps to (when it reaches a client) and a fix the user can act on. Add new codes here, never
 * inline: the catalogue is also the reference in docs/errors.md.
 */
export const catalogue = {
  SHIPSHAPE_E_APP_NOT_FOUND: {
    status: 500,
    message: 'The app module could not be loaded',
    fix: 'Pass the path of your app module to `shipshape serve <entry>` or set `app` in the config.',
  },
  SHIPSHAPE_E_APP_KIND: {
    status: 500,
    message: 'The app module does not export an app shipshape can serve',
    fix: 'Export (as default) a node:http listener, an Express, Connect or Koa app, a Fastify instance, or { fetch }; or pass --kind.',
  },
  SHIPSHAPE_E_BAD_OPTION: {
    status: 500,
    message: 'An option has a value shipshape cannot use',
    fix: 'Correct the option named in the message; `shipshape <command> --help` lists the options of each command, with their defaults.',
  },
  SHIPSHAPE_E_APP_FORMAT: {
    status: 500,
    message:
      'The app module is written as an ES module (import/export), but Node.js would load it as CommonJS',
    fix: 'Add "type": "module" to the package.json beside your app (`npm init -y` writes "type": "commonjs"), or name the file .mjs (.mts for TypeScript).',
  },
  SHIPSHAPE_E_APP_RESPONSE: {
    status: 500,
    message: 'The fetch handler returned something other than a Response',
    fix: "Return a Response, or a promise of one, from fetch(request): new Response(body, { status, headers }), Response.json(data), or your framework's helper (Hono's c.text(), c.json()).",
  },
  SHIPSHAPE_E_USAGE: {
    status: 500,
    message: 'The command line does not match the command’s usage',
    fix: 'Correct the argument named in the message; `shipshape <command> --help` lists the options and arguments the command takes. A usage error exits with code 2 and changes nothing.',
  },
  SHIPSHAPE_E_NODE_VERSION: {
    status: 500,
    message: 'This Node.js is older than shipshape needs',
    fix: 'Install Node.js 24 (what shipshape is developed on), or at least 22.12 for a JavaScript app and 22.18 for a TypeScript one, for example with `nvm install 24` or `fnm install 24`; `node --version` shows which one runs.',
  },
  SHIPSHAPE_E_ARGUMENT: {
    status: 500,
    message: 'A function was called with an argument it does not take',
    fix: 'Pass the kind of value the message names; docs/ describes every function of shipshape with its arguments.',
  },
  SHIPSHAPE_E_OUTSIDE_REQUEST: {
    status: 500,
    message: 'A function that works on the current request was called while no request was being handled',
    fix: 'Call the function the message names from code that handles a request (a route handler, a middleware, or a function they call), not at import, at start-up or from a timer.',
  },
  SHIPSHAPE_E_HEADERS_FIXED: {
    status: 500,
    message: 'The security headers of this response can no longer be changed',
    fix: 'Call adjustSecurityHeaders() before the response starts (before its first write), on a request the security middleware handles: `shipshape serve` puts it in front of every request; in your own server, put securityMiddleware() in front of your app.',
  },
  SHIPSHAPE_E_CONFIG: {
    status: 500,
    message: 'The configuration is invalid',
    fix: 'Correct each setting listed, in the source named beside it; `shipshape config docs` lists every setting with its type and default.',
  },
  SHIPSHAPE_E_CONFIG_DECLARATION: {
    status: 500,
    message: 'The configuration declaration is inconsistent',
    fix: 'Give each setting its own environment variable and flag (the `env` and `flag` options of `setting()`).',
  },
  SHIPSHAPE_E_BIND: {
    status: 500,
    message: 'The server could not listen on the requested address',
    fix: 'Choose a free port with --bind/PORT, or stop the process that holds it. For unix:PATH, choose a path in a directory the server may write to, and not one another server listens on.',
  },
  SHIPSHAPE_E_CRASH_LOOP: {
    status: 500,
    message: 'Workers keep crashing at start-up',
    fix: 'Fix the error your app throws at start-up (shown above); shipshape stopped instead of restarting it forever.',
  },
  SHIPSHAPE_E_ALREADY_RUNNING: {
    status: 500,
    message: 'shipshape serve is already running here',
    fix: 'Stop the running server, use `shipshape reload` to load new code into it, or give this one its own --pidfile.',
  },
  SHIPSHAPE_E_RELOAD_FAILED: {
    status: 500,
    message: 'The reload did not complete',
    fix: 'Read the reason above: fix the error the new code throws at start-up (the old workers keep serving meanwhile), or wait for the reload in progress to finish, then run `shipshape reload` again.',
  },
  SHIPSHAPE_E_NOT_RUNNING: {
    status: 500,
    message: 'No running shipshape serve was found',
    fix: 'Start it with `shipshape serve`, or pass the --pidfile it was started with.',
  },
  SHIPSHAPE_E_TIMEOUT: {
    status: 503,
    message: 'The request took longer than the request timeout',
    fix: 'Make the handler faster, move the work to a background job, or raise --timeout.',
  },
  SHIPSHAPE_E_IDLE_TIMEOUT: {
    status: 503,
    message: 'A started response sent nothing for longer than the idle timeout, and was cut off',
    fix: 'Send something at least every --idle-timeout (an SSE comment line `:` every 15-30 s), raise --idle-timeout, or exempt the route with --route-timeouts PATH=0.',
  },
  SHIPSHAPE_E_DRAINING: {
    status: 503,
    message: 'The worker is draining (a reload or a shutdown) and takes no new work',
    fix: 'Nothing to fix: clients retry on a new connection, which reaches a new worker. End streams when drainSignal fires.',
  },
  SHIPSHAPE_E_WEBSOCKET_ORIGIN: {
    status: 403,
    message: 'A WebSocket handshake came from a page on a host this site does not answer to',
    fix: "A page on another site tried to open a WebSocket with the user's cookies (cross-site WebSocket hijacking). If that site is yours, add its host to --allowed-hosts.",
  },
  SHIPSHAPE_E_BODY_TOO_LARGE: {
    status: 413,
    message: 'The request body is larger than the limit',
    fix: 'Raise --max-body-size if such bodies are legitimate.',
  },
  SHIPSHAPE_E_SCAN_UNREACHABLE: {
    status: 502,
    message: 'The site to scan answered neither over HTTP nor over HTTPS',
    fix: 'Check the URL and that the site is up; for a local test server pass its ports with --http-port/--https-port.',
  },
  SHIPSHAPE_E_SCAN_STATUS: {
    status: 502,
    message: 'The site answered with a status the Observatory does not grade (only 2xx, 3xx, 401 and 403)',
    fix: 'Scan a URL that answers 200, such as the home page.',
  },
  SHIPSHAPE_E_STORAGE_CONFIG: {
    status: 500,
    message: 'The media storage configuration is not usable',
    fix: 'Correct the storage settings named in the message; docs/storage.md lists every setting and its default.',
  },
  SHIPSHAPE_E_STORAGE_UNKNOWN: {
    status: 500,
    message: 'No storage has this name',
    fix: 'Use one of the declared storages (`public` and `private` by default), or declare it in the storages setting.',
  },
  SHIPSHAPE_E_STORAGE_KEY: {
    status: 400,
    message: 'The storage key is not allowed',
    fix: 'Use a relative path of plain segments: no leading /, no . or .. segments, no segment starting with a dot, no control characters or backslashes.',
  },
  SHIPSHAPE_E_STORAGE_NOT_FOUND: {
    status: 404,
    message: 'No file has this key',
    fix: 'Check the key: put() returns the key a file was stored under, which may differ from the name you gave.',
  },
  SHIPSHAPE_E_STORAGE_EXISTS: {
    status: 409,
    message: 'A file already has this key',
    fix: 'Pass { overwrite: true } to replace it on purpose, or leave it off to get a fresh key.',
  },
  SHIPSHAPE_E_STORAGE_PRIVATE: {
    status: 500,
    message: 'A private storage has no public URLs',
    fix: 'Use signedUrl(key, { expiresIn }) for files in a private storage.',
  },
  SHIPSHAPE_E_STORAGE_EXPIRY: {
    status: 500,
    message: 'A signed URL needs an expiry of 1 second to 7 days',
    fix: 'Pass expiresIn in whole seconds, at most 604800 (7 days, the limit of S3 signatures).',
  },
  SHIPSHAPE_E_STORAGE_UNSUPPORTED: {
    status: 500,
    message: 'This storage driver cannot do that',
    fix: 'Presigned POST uploads need the S3 driver; with the local driver, receive uploads with receiveUpload().',
  },
  SHIPSHAPE_E_STORAGE_LINK: {
    status: 500,
    message: 'A local storage refused to write through a symbolic link below its directory',
    fix: 'shipshape never makes links inside a storage, so remove the link named. To keep media on another disk, point the media root or the storage directory itself there (that link is followed).',
  },
  SHIPSHAPE_E_UPLOAD_TOO_LARGE: {
    status: 413,
    message: 'The upload is larger than allowed',
    fix: 'Send a smaller file, or raise maxFileBytes / maxTotalBytes in receiveUpload() (and --max-body-size).',
  },
  SHIPSHAPE_E_UPLOAD_TOO_MANY_FILES: {
    status: 413,
    message: 'The upload has more files than allowed',
    fix: 'Send fewer files, or raise maxFiles in receiveUpload().',
  },
  SHIPSHAPE_E_UPLOAD_MALFORMED: {
    status: 400,
    message: 'The upload is not a well-formed multipart/form-data request',
    fix: 'Send the form with enctype="multipart/form-data"; the client sent a body shipshape cannot read.',
  },
  SHIPSHAPE_E_STATIC_ROOT: {
    status: 500,
    message: 'The static files directory does not exist',
    fix: 'Run `shipshape collectstatic` before `shipshape serve`, or correct --static-root (SHIPSHAPE_STATIC_ROOT).',
  },
  SHIPSHAPE_E_STATIC_MANIFEST: {
    status: 500,
    message: 'The static files manifest is missing or unreadable',
    fix: 'Run `shipshape collectstatic` with the same --static-root the app is served with.',
  },
  SHIPSHAPE_E_STATIC_UNKNOWN: {
    status: 500,
    message: 'staticUrl() was given a name the static files manifest does not list',
    fix: 'Check the name (relative to a source directory, as in staticUrl("css/app.css")) and run `shipshape collectstatic` after adding the file.',
  },
  SHIPSHAPE_E_STATIC_LINK: {
    status: 500,
    message: 'A source directory holds a symbolic link to a file that does not exist',
    fix: 'Remove the link or restore what it points at (a package that was uninstalled, a build output not built yet), then run `shipshape collectstatic` again.',
  },
  SHIPSHAPE_E_STATIC_REFERENCE: {
    status: 500,
    message: 'A static file references a file that does not exist',
    fix: 'Add the missing file to a source directory or correct the reference; `--missing-maps warn` makes a missing source map a warning.',
  },
  // security/ (runtime): hosts, cross-site requests, CSP reports, TLS
  SHIPSHAPE_E_HOST_NOT_ALLOWED: {
    status: 400,
    message: 'The request names a host this site does not answer to',
    fix: 'Add the host to --allowed-hosts (SHIPSHAPE_ALLOWED_HOSTS): example.com, or .example.com for it and its subdomains.',
  },
  SHIPSHAPE_E_CROSS_SITE: {
    status: 403,
    message: 'A state-changing request from another site was refused',
    fix: 'Forms and scripts must post from this site. Old browsers need the token: csrfField() in forms, or the X-CSRF-Token header.',
  },
  SHIPSHAPE_E_REQUEST_TARGET: {
    status: 400,
    message: 'The request line does not name a path on this site',
    fix: 'Send origin-form requests (GET /path); an absolute URL or * in the request line is for proxies.',
  },
  SHIPSHAPE_E_CSP_REPORT: {
    status: 400,
    message: 'The body is not a CSP violation report',
    fix: 'Browsers post reports here on their own; nothing to change unless a client of yours posts something else.',
  },
  SHIPSHAPE_E_METHOD_NOT_ALLOWED: {
    status: 405,
    message: 'This path does not accept that method',
    fix: 'Use the method named in the Allow header.',
  },
  SHIPSHAPE_E_RATE_LIMITED: {
    status: 429,
    message: 'Too many requests',
    fix: 'Wait for the time in the Retry-After header before trying again.',
  },
  SHIPSHAPE_E_DB_UNAVAILABLE: {
    status: 503,
    message: 'The database cannot be reached',
    fix: 'Check that the database named in the message runs and accepts connections (host, port, credentials, TLS); requests get 503 and /readyz answers 503 until it does, then recover by themselves. With the embedded database, look for the database process in the log.',
  },
  SHIPSHAPE_E_DB_BUSY: {
    status: 503,
    message: 'The embedded database stayed busy with another transaction',
    fix: 'The embedded database runs one transaction at a time: keep transactions short (no network calls or waits inside them), raise --db-busy-timeout, or move to a Postgres server (DATABASE_URL) for concurrent transactions.',
  },
  SHIPSHAPE_E_AUTH_WEAK_PASSWORD: {
    status: 400,
    message: 'The password is refused',
    fix: 'Choose a longer password that is not a common one: a passphrase of several unrelated words works (the minimum length is auth.minPasswordLength).',
  },
  SHIPSHAPE_E_AUTH_NO_USER: {
    status: 404,
    message: 'There is no admin user with that email',
    fix: '`shipshape admin list` shows the users; `shipshape admin create <email>` adds one.',
  },
  SHIPSHAPE_E_AUTH_USER_EXISTS: {
    status: 409,
    message: 'An admin user with that email exists already',
    fix: 'Use `shipshape admin reset-password <email>` to give them a new password.',
  },
  SHIPSHAPE_E_AUTH_NO_COUNTERS: {
    status: 500,
    message: 'protect() has nowhere to keep its lockout counters',
    fix: 'Run the app under `shipshape serve` (the primary keeps them for every worker), set REDIS_URL, or pass `counters` (new CounterTable() from shipshape/server) to protect() in your own server.',
  },
  SHIPSHAPE_E_DB_NO_POOL: {
    status: 500,
    message: 'There is no database pool here',
    fix: "pool() returns a `shipshape serve` worker's pool; in a script or a test, make one with openDatabase(options) and close it when done.",
  },
  SHIPSHAPE_E_DB_PROCESS: {
    status: 500,
    message: 'The embedded database process could not start',
    fix: 'Read the error in the message: most often the data directory (--db-data-dir) is not writable, or is used by another shipshape serve.',
  },
  SHIPSHAPE_E_DB_MIGRATE: {
    status: 500,
    message: 'The migration command failed',
    fix: 'Run the command named in the message by hand to see its error; `shipshape db migrate` runs it with DATABASE_URL set to the database it migrates.',
  },
  SHIPSHAPE_E_TLS: {
    status: 500,
    message: 'The TLS certificate or key cannot be used',
    fix: 'Point --tls-cert and --tls-key at readable PEM files, with the key that belongs to the certificate.',
  },
  SHIPSHAPE_E_CACHE_KEY: {
    status: 500,
    message: 'A cache key cannot be used',
    fix: 'Pass a non-empty string of at most 512 characters as the key; for long inputs (URLs, queries) hash them into the key.',
  },
  SHIPSHAPE_E_CACHE_VALUE: {
    status: 500,
    message: 'A value cannot be stored in the cache',
    fix: 'Cache plain data the serializer can write (JSON by default: objects, arrays, strings, numbers, booleans, null), or pass a serializer that handles the value.',
  },
  SHIPSHAPE_E_CACHE_TTL: {
    status: 500,
    message: 'A cache duration is not a duration',
    fix: 'Pass a number of seconds (0 or more) or a duration such as 500ms, 30s, 2m or 1h.',
  },
  SHIPSHAPE_E_CACHE_TAG: {
    status: 500,
    message: 'A cache tag cannot be used',
    fix: 'Use tags of 1 to 128 printable ASCII characters without spaces or commas (letters, digits, - _ . : / are typical), as CDNs accept them.',
  },
  SHIPSHAPE_E_CACHE_UNAVAILABLE: {
    status: 500,
    message: 'No cache is set up for this code',
    fix: 'Call it while `shipshape serve` handles a request (or from a worker of it), or create a cache with createCache() and call its methods.',
  },
  SHIPSHAPE_E_TAG: {
    status: 500,
    message: 'A tag cannot be set on what shipshape records',
    fix: "Use keys of 1 to 32 letters, digits, _ . : or - (not request_id, route, kind or code, which shipshape sets), values of 1 to 200 characters on one line, and at most 20 tags per request; put longer or per-request-unique data (ids, messages) in captureError's `extra` instead.",
  },
  SHIPSHAPE_E_CDN_TAGS: {
    status: 500,
    message: 'The purge tags exceed what a CDN accepts, and would be cut',
    fix: 'Send fewer or shorter tags (tag a page by its main objects, not every item on it), or leave out the CDN named in the message with the `cdns` option.',
  },
  SHIPSHAPE_E_CDN_PURGE: {
    status: 500,
    message: 'The CDN refused or failed a purge',
    fix: "Check the service or zone id and the API token (its permissions must include purge), and the CDN's answer quoted in the message.",
  },
  SHIPSHAPE_E_LOCKFILE: {
    status: 500,
    message: 'The lockfile cannot be read',
    fix: 'Run the audit where package.json and its lockfile are (package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock or bun.lock), or name one with --lockfile; a lockfile with merge conflicts or from npm 6 is rewritten by a fresh install.',
  },
  SHIPSHAPE_E_AUDIT_UNAVAILABLE: {
    status: 503,
    message: 'The registry did not answer the advisory or package request',
    fix: 'Check the network and --registry (SHIPSHAPE_AUDIT_REGISTRY); a mirror may not serve the advisory endpoint. `shipshape audit --offline` uses the advisories cached by the last run that reached it.',
  },
  SHIPSHAPE_E_AUDIT_OFFLINE: {
    status: 500,
    message: 'There are no cached advisories to audit offline',
    fix: 'Run `shipshape audit` once with the registry reachable (it caches the advisories), restore its cache directory in CI, or point --advisories at a saved advisories.json.',
  },
  SHIPSHAPE_E_AUDIT_IGNORES: {
    status: 500,
    message: 'The audit ignore file is malformed',
    fix: 'Each entry needs an id (GHSA-… or the numeric id), a reason and an expiry date (expires: YYYY-MM-DD), and may have a path (express > qs); see docs/audit.md.',
  },
  SHIPSHAPE_E_N_PLUS_ONE: {
    status: 500,
    message: 'The code ran the same query once per item (an N+1)',
    fix: "Load the items in one query (a join, `WHERE id = ANY($1)`, or your query layer's eager loading) at the call site named in the message.",
  },
  SHIPSHAPE_E_TOO_MANY_QUERIES: {
    status: 500,
    message: 'The code ran more queries than the test allows',
    fix: 'Cut the queries the message counts (batch them, join, cache), or raise `max` in expectQueries() if the new count is intended.',
  },
} as const satisfies Record<string, { status: number; message: string; fix: string }>

export type ErrorCode = keyof typeof catalogue

/** An error from the catalogue: its code, HTTP status and fix travel with it. */
export class ShipshapeError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly fix: string
  /** What this occurrence adds to the catalogue's message, for code that reports it elsewhere. */
  readonly detail: string | undefined

  constructor(code: ErrorCode, detail?: string, options?: ErrorOptions) {
    const entry = catalogue[code]
    super(detail ? `${entry.message}: ${detail}` : entry.message, options)
    this.name = 'ShipshapeError'
    this.code = code
    this.detail = detail || undefined
    this.status = entry.status
    this.fix = entry.fix
  }
}

/** True for errors from the catalogue, including ones thrown by another copy of shipshape. */
export function isShipshapeError(error: unknown): error is ShipshapeError {
  return (
    error instanceof Error &&
    typeof (error as ShipshapeError).code === 'string' &&
    (error as ShipshapeError).code.startsWith('SHIPSHAPE_E_')
  )
}
