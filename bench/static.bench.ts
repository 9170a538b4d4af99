/**
 * Static files, against the references named in the issue, all measured in this run:
 * - serving one precompressed, content-hashed asset (gzip, keep-alive, wrk on loopback) with
 *   `shipshape serve` against nginx `gzip_static on` and WhiteNoise 6 under gunicorn, each with
 *   2 workers and no access log;
 * - `shipshape collectstatic` against Django's collectstatic with WhiteNoise's
 *   CompressedManifestStaticFilesStorage, on the same generated tree of 5,000 files;
 * - building the start-up index of 10,000 files.
 * nginx, gunicorn, WhiteNoise, Django, python3-brotli and wrk come from Debian's packages and
 * are installed with apt-get when missing.
 * Usage: npm run bench -- static [--seconds 8] [--rounds 5] [--files 5000] [--parts serving,collect,index]
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { collectStatic } from '../dist/static/collect.js'
import { staticFiles } from '../dist/static/index.js'
import {
  ensureDebian,
  ensureWrk,
  freePort,
  median,
  printTable,
  root,
  start,
  stop,
  waitForOk,
  wrk,
} from './_lib.ts'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '5' },
    files: { type: 'string', default: '5000' },
    parts: { type: 'string', default: 'serving,collect,index' },
  },
  allowPositionals: true,
})
const rounds = Number(values.rounds)
const python = '/usr/bin/python3'

ensureWrk()
ensureDebian({
  '/usr/sbin/nginx': 'nginx',
  '/usr/bin/gunicorn': 'gunicorn',
  '/usr/lib/python3/dist-packages/whitenoise': 'python3-whitenoise',
  '/usr/lib/python3/dist-packages/django': 'python3-django',
  '/usr/lib/python3/dist-packages/brotli.py': 'python3-brotli',
})

const work = mkdtempSync(join(tmpdir(), 'shipshape-bench-static-'))
try {
  const parts = values.parts.split(',')
  if (parts.includes('serving')) await serving()
  if (parts.includes('collect')) await collecting()
  if (parts.includes('index')) indexing()
} finally {
  rmSync(work, { recursive: true, force: true })
}

/** Deterministic bytes: text that compresses like real code, or noise that does not compress. */
function text(seed: number, size: number): string {
  const words = [
    'const',
    'return',
    'function',
    'value',
    'export',
    'import',
    'item',
    'length',
    'render',
    'state',
  ]
  let out = ''
  for (let i = 0; out.length < size; i++)
    out += `${words[(seed * 7 + i * 13) % words.length]}${(seed + i) % 97} `
  return out
}

function noise(seed: number, size: number): Buffer {
  const chunks: Buffer[] = []
  for (let i = 0; chunks.length * 32 < size; i++)
    chunks.push(createHash('sha256').update(`${seed}:${i}`).digest())
  return Buffer.concat(chunks).subarray(0, size)
}

async function serving(): Promise<void> {
  const source = join(work, 'serve-source')
  const output = join(work, 'serve-out')
  mkdirSync(join(source, 'js'), { recursive: true })
  // A 24 KB script, about 5 KB gzipped: a typical hashed bundle chunk.
  writeFileSync(join(source, 'js', 'app.js'), `export const data = ${JSON.stringify(text(1, 24_000))}\n`)
  const { manifest } = await collectStatic({ sources: [source], output })
  const asset = `/static/${manifest.paths['js/app.js']}`

  const contenders = {
    shipshape: async (port: number) =>
      start(process.execPath, [
        'dist/cli/bin.js',
        'serve',
        'bench/apps/page.ts',
        '--workers',
        '2',
        '--bind',
        `127.0.0.1:${port}`,
        '--static-root',
        output,
        '--access-log',
        'false',
        '--pidfile',
        join(work, `shipshape-${port}.pid`),
      ]),
    // Node's limit: shipshape's own answer (all its headers but the per-response ones), sent by
    // node:http from memory.
    'bare node:http from memory': async (port: number) =>
      start(process.execPath, ['bench/apps/static-contenders.ts', 'bare'], {
        PORT: String(port),
        ROOT: output,
        FILE: asset.slice('/static/'.length),
        HEADERS: JSON.stringify(await shipshapeHeaders()),
      }),
    sirv: async (port: number) =>
      start(process.execPath, ['bench/apps/static-contenders.ts', 'sirv'], {
        PORT: String(port),
        ROOT: output,
      }),
    '@fastify/static': async (port: number) =>
      start(process.execPath, ['bench/apps/static-contenders.ts', 'fastify'], {
        PORT: String(port),
        ROOT: output,
      }),
    'nginx gzip_static': async (port: number) => {
      const conf = join(work, `nginx-${port}.conf`)
      writeFileSync(
        conf,
        `user root;
worker_processes 2;
pid ${work}/nginx-${port}.pid;
error_log ${work}/nginx-${port}.error.log;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${work}/nginx-body;
  proxy_temp_path ${work}/nginx-proxy;
  fastcgi_temp_path ${work}/nginx-fastcgi;
  uwsgi_temp_path ${work}/nginx-uwsgi;
  scgi_temp_path ${work}/nginx-scgi;
  server {
    listen 127.0.0.1:${port};
    location /static/ {
      alias ${output}/;
      gzip_static on;
      add_header Cache-Control "public, max-age=31536000, immutable";
      add_header Vary Accept-Encoding;
    }
  }
}
`,
      )
      return start('/usr/sbin/nginx', ['-c', conf, '-g', 'daemon off;'])
    },
    'WhiteNoise 6 + gunicorn': async (port: number) => {
      const app = join(work, 'wsgi_whitenoise.py')
      writeFileSync(
        app,
        `import re
from whitenoise import WhiteNoise

def fallback(environ, start_response):
    start_response('404 Not Found', [('Content-Type', 'text/plain')])
    return [b'not found']

application = WhiteNoise(
    fallback,
    root=${JSON.stringify(output)},
    prefix='static/',
    immutable_file_test=lambda path, url: re.search(r'\\.[0-9a-f]{12}\\.', url) is not None,
)
`,
      )
      // gthread workers keep connections alive, as wrk expects; sync workers close each one.
      return start(
        '/usr/bin/gunicorn',
        [
          '--workers',
          '2',
          '--worker-class',
          'gthread',
          '--threads',
          '4',
          '--bind',
          `127.0.0.1:${port}`,
          '--chdir',
          work,
          'wsgi_whitenoise:application',
        ],
        { PYTHONPATH: work },
      )
    },
  }
  /** The headers of shipshape's gzip answer for the asset, less those node:http writes per response. */
  let known: [string, string][] | undefined
  async function shipshapeHeaders(): Promise<[string, string][]> {
    if (known !== undefined) return known
    const port = await freePort()
    const child = await contenders.shipshape(port)
    const url = `http://127.0.0.1:${port}${asset}`
    try {
      await waitForOk(url)
      const answer = await fetch(url, { headers: { 'accept-encoding': 'gzip' } })
      await answer.arrayBuffer()
      const perResponse = new Set(['date', 'connection', 'keep-alive', 'x-request-id'])
      known = [...answer.headers].filter(([name]) => !perResponse.has(name))
      return known
    } finally {
      await stop(child)
    }
  }
  type Name = keyof typeof contenders
  const results = Object.fromEntries(Object.keys(contenders).map((name) => [name, [] as number[]])) as Record<
    Name,
    number[]
  >
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(contenders) as Name[]) {
      const port = await freePort()
      const child = await contenders[name](port)
      const url = `http://127.0.0.1:${port}${asset}`
      try {
        await waitForOk(url)
        const check = await fetch(url, { headers: { 'accept-encoding': 'gzip' } })
        if (check.headers.get('content-encoding') !== 'gzip')
          throw new Error(`${name} did not send the .gz copy`)
        await check.arrayBuffer()
        const options = {
          seconds: Number(values.seconds),
          connections: 50,
          threads: 1,
          headers: ['Accept-Encoding: gzip'],
        }
        await wrk(url, { ...options, seconds: 2 })
        const load = await wrk(url, options)
        if (load.failures > 0) throw new Error(`${name}: ${load.failures} failed requests`)
        results[name].push(load.rps)
      } finally {
        await stop(child)
      }
    }
  }
  const nginx = median(results['nginx gzip_static'])
  const whitenoise = median(results['WhiteNoise 6 + gunicorn'])
  const bare = median(results['bare node:http from memory'])
  const shipshape = median(results.shipshape)
  console.log(`\nServing ${asset} (gzip, 2 workers each, wrk -t1 -c50, ${rounds} rounds)\n`)
  printTable(
    (Object.keys(contenders) as Name[]).map((name) => ({
      contender: name,
      'req/s (median)': Math.round(median(results[name])),
      'vs nginx': `${Math.round((median(results[name]) / nginx) * 100)}%`,
      'vs WhiteNoise': `${(median(results[name]) / whitenoise).toFixed(1)}×`,
      'vs bare node': (median(results[name]) / bare).toFixed(2),
      'shipshape ×': (shipshape / median(results[name])).toFixed(2),
    })),
  )
}

/** 5,000 files: JS modules importing each other, CSS with url() and @import, images. */
function generateTree(dir: string, count: number): void {
  const scripts = Math.floor(count * 0.4)
  const styles = Math.floor(count * 0.3)
  const images = count - scripts - styles
  for (const sub of ['js', 'css', 'img']) mkdirSync(join(dir, sub), { recursive: true })
  for (let i = 0; i < images; i++)
    writeFileSync(join(dir, 'img', `i${i}.png`), noise(i, 2000 + (i % 7) * 500))
  for (let i = 0; i < styles; i++) {
    // Chains of 4: Django gives up on longer ones ("Max post-process passes exceeded").
    const imports = i % 4 > 0 ? `@import "s${i - 1}.css";\n` : ''
    writeFileSync(
      join(dir, 'css', `s${i}.css`),
      `${imports}.c${i} { background: url("../img/i${i % images}.png"); }\n.d${i} { background-image: url(../img/i${(i * 3) % images}.png); }\n/* ${text(i, 3000)} */\n`,
    )
  }
  for (let i = 0; i < scripts; i++) {
    // Django 3.2 does not rewrite JS imports; shipshape does, so this is extra work on its side.
    const imports = i > 0 ? `import { v${i - 1} } from './m${i - 1}.js'\n` : ''
    writeFileSync(
      join(dir, 'js', `m${i}.js`),
      `${imports}export const v${i} = ${JSON.stringify(text(i, 4000))}\n`,
    )
  }
}

async function collecting(): Promise<void> {
  const count = Number(values.files)
  const source = join(work, 'collect-source')
  generateTree(source, count)
  const settings = join(work, 'bench_settings.py')
  writeFileSync(
    settings,
    `SECRET_KEY = 'bench'
INSTALLED_APPS = ['django.contrib.staticfiles']
STATIC_URL = '/static/'
STATICFILES_DIRS = [${JSON.stringify(source)}]
STATIC_ROOT = ${JSON.stringify(join(work, 'django-out'))}
STATICFILES_STORAGE = 'whitenoise.storage.CompressedManifestStaticFilesStorage'
`,
  )
  const timings = { shipshape: [] as number[], django: [] as number[] }
  const timed = (command: string, args: string[], env: Record<string, string> = {}): number => {
    const started = performance.now()
    const result = spawnSync(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`)
    return performance.now() - started
  }
  for (let round = 0; round < rounds; round++) {
    rmSync(join(work, 'shipshape-out'), { recursive: true, force: true })
    rmSync(join(work, 'django-out'), { recursive: true, force: true })
    timings.shipshape.push(
      timed(process.execPath, [
        'dist/cli/bin.js',
        'collectstatic',
        source,
        '--static-root',
        join(work, 'shipshape-out'),
      ]),
    )
    timings.django.push(
      timed(python, ['-m', 'django', 'collectstatic', '--noinput', '-v', '0'], {
        PYTHONPATH: work,
        DJANGO_SETTINGS_MODULE: 'bench_settings',
      }),
    )
  }
  const django = median(timings.django)
  console.log(`\ncollectstatic on ${count} files (hash, rewrite, brotli + gzip; ${rounds} rounds)\n`)
  printTable([
    {
      contender: 'shipshape collectstatic',
      'seconds (median)': (median(timings.shipshape) / 1000).toFixed(2),
      'vs Django': `${Math.round((median(timings.shipshape) / django) * 100)}%`,
    },
    {
      contender: 'Django 3.2 + CompressedManifestStaticFilesStorage',
      'seconds (median)': (django / 1000).toFixed(2),
      'vs Django': '100%',
    },
  ])
}

function indexing(): void {
  const dir = join(work, 'index')
  const count = 10_000
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `d${i % 100}`)
    if (i < 100) mkdirSync(sub, { recursive: true })
    writeFileSync(join(sub, `f${i}.${['js', 'css', 'png', 'svg'][i % 4]}`), `file ${i}`)
  }
  const timings: number[] = []
  for (let round = 0; round < Math.max(rounds, 5); round++) {
    const started = performance.now()
    staticFiles({ root: dir })
    timings.push(performance.now() - started)
  }
  console.log(`\nStart-up index of ${count} files (${timings.length} rounds; the first is the coldest)\n`)
  printTable([
    {
      files: count,
      'first ms': timings[0]?.toFixed(0) ?? '',
      'median ms': median(timings).toFixed(0),
      budget: '300 ms',
    },
  ])
}
