/** collectstatic on real files, then the output served by the middleware through a real server. */
import { createHash } from 'node:crypto'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../_test/cli.js'
import { get } from '../_test/client.js'
import { isShipshapeError } from '../errors/index.js'
import { serve } from './_test/server.js'
import { staticUrlIn } from './_test/static-url.js'
import { collectStatic } from './collect.js'
import { type Manifest, manifestName, staticFiles } from './index.js'

const depth = 8
// Spelled in two parts so the test runner does not take them for this file's own source maps.
const mapComment = 'sourceMapping' + 'URL'

/** Incompressible bytes, the same in every run. */
function noise(length: number, seed: string): Buffer {
  const chunks: Buffer[] = []
  for (let i = 0; chunks.length * 32 < length; i++)
    chunks.push(createHash('sha256').update(`${seed}${i}`).digest())
  return Buffer.concat(chunks).subarray(0, length)
}
const css = `@import "base.css";
@import url('theme.css');
body { background: url(../img/logo.png); }
.inline { background: url("data:image/png;base64,iVBORw0KGgo="); }
.remote { background: url(https://cdn.example.com/a.png); }
.filter { filter: url(#blur); }
@font-face { src: url(../fonts/f.eot?#iefix) format('embedded-opentype'), url('/static/fonts/f.woff2') format('woff2'); }
/* url(only-in-a-comment.png) */
${'.padding { color: red; }\n'.repeat(50)}
/*# ${mapComment}=app.css.map */
`

let base: string
let sources: string
let output: string
let manifest: Manifest
let compressedCount: number

function write(root: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true })
    writeFileSync(join(root, name), content)
  }
}

function tree(root: string, last = 'export const last = 1\n'): void {
  const chain: Record<string, string> = {}
  for (let i = 0; i < depth - 1; i++) {
    const link =
      i % 3 === 0
        ? `import { value } from './m${i + 1}.js'\nexport const v${i} = value\n`
        : i % 3 === 1
          ? `export * from './m${i + 1}.js'\nexport { last as value } from "./m${i + 1}.js"\n`
          : `export const value = 1\nexport const later = () => import('./m${i + 1}.js')\nimport './m${i + 1}.js'\n`
    chain[`js/m${i}.js`] = link
  }
  chain[`js/m${depth - 1}.js`] = `${last}export const value = 2\nexport { last as lastAgain }\n`
  write(root, {
    'css/app.css': css,
    'css/app.css.map': '{"version":3,"sources":[],"mappings":""}',
    'css/base.css': 'html { color: black; }\n',
    'css/theme.css': '@import "base.css";\n',
    'img/logo.png': noise(300, 'logo'),
    'fonts/f.eot': noise(300, 'eot'),
    'fonts/f.woff2': noise(300, 'woff2'),
    ...chain,
    'js/main.js': `import React from 'react'\nimport { v0 } from './m0.js'\nconsole.log(React, v0, 'import("./not-real.js")')\n//# ${mapComment}=main.js.map\n`,
    'js/main.js.map': '{"version":3,"sources":[],"mappings":""}',
    'js/a.js': `import { b } from './b.js'\nexport const a = () => b\n`,
    'js/b.js': `import { a } from './a.js'\nexport const b = () => a\n`,
    'text/long.txt': 'compress me '.repeat(400),
    'text/noise.txt': noise(4000, 'noise'),
    '.env': 'SECRET=1',
    // Vite output, recognised from its manifest.
    'build/.vite/manifest.json': JSON.stringify({
      'main.ts': { file: 'assets/main-AbC123xy.js', css: ['assets/main-DeF456zw.css'], isEntry: true },
    }),
    'build/assets/main-AbC123xy.js': `import('./chunk-Zz9.js')\nconsole.log('built by vite')\n`.repeat(20),
    'build/assets/main-DeF456zw.css': 'body { margin: 0 }\n'.repeat(40),
  })
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'shipshape-collect-'))
  sources = join(base, 'static')
  output = join(base, 'staticfiles')
  tree(sources)
  ;({ manifest, compressed: compressedCount } = await collectStatic({ sources: [sources], output }))
})

afterAll(() => rmSync(base, { recursive: true, force: true }))

const read = (name: string) => readFileSync(join(output, name), 'utf8')
const named = (name: string) => manifest.paths[name] as string
const basename = (name: string) => named(name).split('/').pop() as string

describe('hashing and rewriting', () => {
  it('gives every file a content-hashed name and keeps the original beside it', () => {
    expect(named('css/app.css')).toMatch(/^css\/app\.[0-9a-f]{12}\.css$/)
    expect(named('img/logo.png')).toMatch(/^img\/logo\.[0-9a-f]{12}\.png$/)
    expect(manifest.hashed[named('css/app.css')]).toMatch(/^[0-9a-f]{12}$/)
    expect(read('css/app.css')).toBe(css)
    expect(existsSync(join(output, '.env'))).toBe(false)
  })

  it('rewrites CSS url(), @import and sourceMappingURL, leaving data:, https:, #fragment and comments alone', () => {
    const text = read(named('css/app.css'))
    expect(text).toContain(`@import "${basename('css/base.css')}";`)
    expect(text).toContain(`@import url('${basename('css/theme.css')}');`)
    expect(text).toContain(`url(../img/${basename('img/logo.png')})`)
    expect(text).toContain(`url(../fonts/${basename('fonts/f.eot')}?#iefix)`)
    expect(text).toContain(`url('/static/${named('fonts/f.woff2')}')`)
    expect(text).toContain('url("data:image/png;base64,iVBORw0KGgo=")')
    expect(text).toContain('url(https://cdn.example.com/a.png)')
    expect(text).toContain('url(#blur)')
    expect(text).toContain('/* url(only-in-a-comment.png) */')
    expect(text).toContain(`/*# ${mapComment}=${basename('css/app.css.map')} */`)
  })

  it(`rewrites ES module import, export-from and import() through a chain ${depth} deep`, () => {
    let name = 'js/main.js'
    const main = read(named(name))
    expect(main).toContain("import React from 'react'")
    expect(main).toContain(`//# ${mapComment}=${basename('js/main.js.map')}`)
    expect(main).toContain('\'import("./not-real.js")\'')
    for (let i = 0; i < depth; i++) {
      const next = `js/m${i}.js`
      expect(read(named(name))).toContain(`./${basename(next)}`)
      expect(read(named(name))).not.toMatch(new RegExp(`['"]\\./m${i}\\.js['"]`))
      name = next
    }
  })

  it('gives files in an import cycle names that point at each other', () => {
    expect(read(named('js/a.js'))).toContain(`'./${basename('js/b.js')}'`)
    expect(read(named('js/b.js'))).toContain(`'./${basename('js/a.js')}'`)
  })

  it('renames every file up a chain when the file at its end changes', async () => {
    const changed = join(base, 'changed')
    tree(changed, 'export const last = 99\n')
    const other = (
      await collectStatic({ sources: [changed], output: join(base, 'out-changed'), compress: false })
    ).manifest
    for (let i = 0; i < depth; i++) expect(other.paths[`js/m${i}.js`]).not.toBe(named(`js/m${i}.js`))
    expect(other.paths['js/main.js']).not.toBe(named('js/main.js'))
    expect(other.paths['css/app.css']).toBe(named('css/app.css'))
    expect(other.paths['js/a.js']).toBe(named('js/a.js'))
  })

  it('keeps Vite-hashed files as they are, immutable, and maps the entry to its file', () => {
    expect(named('build/assets/main-AbC123xy.js')).toBe('build/assets/main-AbC123xy.js')
    expect(manifest.hashed['build/assets/main-AbC123xy.js']).toBeDefined()
    expect(manifest.hashed['build/assets/main-DeF456zw.css']).toBeDefined()
    expect(named('build/main.ts')).toBe('build/assets/main-AbC123xy.js')
    // Not hashed twice, and its (missing) dynamic import is the bundler's business.
    expect(Object.keys(manifest.hashed).some((name) => /main-AbC123xy\.[0-9a-f]{12}/.test(name))).toBe(false)
    expect(read('build/assets/main-AbC123xy.js')).toContain("import('./chunk-Zz9.js')")
  })

  it('recognises a webpack manifest', async () => {
    const webpack = join(base, 'webpack')
    write(webpack, {
      'dist/manifest.json': JSON.stringify({ 'main.js': '/static/dist/main.1a2b3c4d.js' }),
      'dist/main.1a2b3c4d.js': 'console.log(1)\n',
    })
    const result = await collectStatic({ sources: [webpack], output: join(base, 'out-webpack') })
    expect(result.manifest.paths['dist/main.js']).toBe('dist/main.1a2b3c4d.js')
    expect(result.manifest.paths['dist/main.1a2b3c4d.js']).toBe('dist/main.1a2b3c4d.js')
    expect(result.bundlerHashed).toBe(1)
  })
})

describe('symbolic links in the sources', () => {
  it('follows links to files and directories, copies what they point at, and does not loop', async () => {
    const linked = join(base, 'linked')
    const vendor = join(base, 'vendor-package')
    write(linked, { 'site.css': 'a { background: url(vendor/logo.png) }' })
    write(vendor, { 'logo.png': 'not really a png', 'nested/font.woff2': 'wOF2' })
    symlinkSync(vendor, join(linked, 'vendor'))
    symlinkSync(join(vendor, 'logo.png'), join(linked, 'logo-link.png'))
    // A link back to a directory being listed would repeat its names forever.
    symlinkSync(linked, join(vendor, 'nested', 'loop'))
    const out = join(base, 'out-linked')
    const result = await collectStatic({ sources: [linked], output: out })
    expect(Object.keys(result.manifest.paths).sort()).toEqual([
      'logo-link.png',
      'site.css',
      'vendor/logo.png',
      'vendor/nested/font.woff2',
    ])
    const copy = join(out, result.manifest.paths['vendor/logo.png'] as string)
    expect(lstatSync(copy).isSymbolicLink()).toBe(false)
    expect(readFileSync(copy, 'utf8')).toBe('not really a png')
    expect(readFileSync(join(out, result.manifest.paths['site.css'] as string), 'utf8')).toMatch(
      /url\(vendor\/logo\.[0-9a-f]{12}\.png\)/,
    )
  })

  it('names a link to nothing instead of failing on it with a raw ENOENT; an editor lock link is ignored', async () => {
    const source = join(base, 'dangling')
    write(source, { 'site.css': 'a { color: red }' })
    symlinkSync(join(base, 'uninstalled-package', 'logo.png'), join(source, 'logo.png'))
    symlinkSync('user@host.1234:1700000000', join(source, '.#site.css'))
    const collecting = collectStatic({ sources: [source], output: join(base, 'out-dangling') })
    await expect(collecting).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_STATIC_LINK',
      message: expect.stringContaining(`logo.png → ${join(base, 'uninstalled-package', 'logo.png')}`),
    })
    await expect(collecting).rejects.not.toMatchObject({ message: expect.stringContaining('.#site.css') })
  })
})

describe('missing references', () => {
  it('fails naming the referencing file and the missing one', async () => {
    const broken = join(base, 'broken')
    write(broken, {
      'css/site.css': 'a { background: url(../img/nope.png) }',
      'js/x.js': "import './gone.js'\n",
    })
    const failure = await collectStatic({ sources: [broken], output: join(base, 'out-broken') }).catch(
      (e) => e,
    )
    expect(isShipshapeError(failure) && failure.code).toBe('SHIPSHAPE_E_STATIC_REFERENCE')
    expect(failure.message).toContain('css/site.css references img/nope.png')
    expect(failure.message).toContain('js/x.js references js/gone.js')
    expect(existsSync(join(base, 'out-broken', manifestName))).toBe(false)
  })

  it('fails on a missing source map, or only warns when asked', async () => {
    const maps = join(base, 'maps')
    write(maps, { 'app.js': `console.log(1)\n//# ${mapComment}=app.js.map\n` })
    const failure = await collectStatic({ sources: [maps], output: join(base, 'out-maps') }).catch((e) => e)
    expect(failure.message).toContain('app.js references app.js.map')
    const result = await collectStatic({
      sources: [maps],
      output: join(base, 'out-maps'),
      missingMaps: 'warn',
    })
    expect(result.warnings.join('\n')).toMatch(/app\.js names the source map app\.js\.map/)
    expect(readFileSync(join(base, 'out-maps', result.manifest.paths['app.js'] as string), 'utf8')).toContain(
      `${mapComment}=app.js.map`,
    )
  })
})

describe('precompression', () => {
  it('keeps brotli and gzip copies only when at most 95% of the original, and skips compressed types', () => {
    for (const name of [named('css/app.css'), named('text/long.txt'), 'text/long.txt']) {
      const original = readFileSync(join(output, name))
      const br = readFileSync(join(output, `${name}.br`))
      const gz = readFileSync(join(output, `${name}.gz`))
      expect(brotliDecompressSync(br)).toEqual(original)
      expect(gunzipSync(gz)).toEqual(original)
      expect(br.length).toBeLessThanOrEqual(original.length * 0.95)
    }
    // The original of a rewritten file is only reached by its unhashed URL: not worth compressing.
    for (const name of [
      named('text/noise.txt'),
      named('img/logo.png'),
      named('fonts/f.woff2'),
      'css/app.css',
    ]) {
      expect(existsSync(join(output, `${name}.gz`)), name).toBe(false)
      expect(existsSync(join(output, `${name}.br`)), name).toBe(false)
    }
  })

  it('removes the compressed copies an earlier build left, when a build over them does not compress', async () => {
    const over = join(base, 'over')
    await collectStatic({ sources: [sources], output: over })
    expect(existsSync(join(over, `${named('text/long.txt')}.br`))).toBe(true)
    await collectStatic({ sources: [sources], output: over, compress: false })
    for (const name of [named('css/app.css'), named('text/long.txt'), 'text/long.txt']) {
      expect(existsSync(join(over, `${name}.br`)), name).toBe(false)
      expect(existsSync(join(over, `${name}.gz`)), name).toBe(false)
    }
  })

  it('rebuilds over its own output writing only what changed, and remakes a missing compressed copy', async () => {
    const over = join(base, 'rebuild')
    const source = join(base, 'rebuild-source')
    write(source, {
      'css/app.css': 'body { background: url(../img/a.png); }\n'.repeat(20),
      'img/a.png': noise(300, 'a'),
      'text/same.txt': 'stays the same '.repeat(200),
      'text/gone.txt': 'loses its gzip copy '.repeat(200),
    })
    const first = await collectStatic({ sources: [source], output: over })
    const fileOf = (name: string, suffix = '') => join(over, `${first.manifest.paths[name]}${suffix}`)
    const identity = (path: string) => {
      const { ino, mtimeMs } = lstatSync(path)
      return `${ino}:${mtimeMs}`
    }
    const untouched = [
      fileOf('css/app.css'),
      fileOf('css/app.css', '.br'),
      fileOf('img/a.png'),
      fileOf('text/same.txt', '.gz'),
    ]
    const before = untouched.map(identity)
    rmSync(fileOf('text/gone.txt', '.gz'))
    write(source, { 'text/changed.txt': 'new in this build '.repeat(200) })

    const second = await collectStatic({ sources: [source], output: over })
    expect(untouched.map(identity)).toEqual(before)
    expect(second.compressed).toBe(first.compressed + 4) // changed.txt's two, under both names
    for (const name of ['text/gone.txt', 'text/changed.txt']) {
      const path = join(over, second.manifest.paths[name] as string)
      expect(gunzipSync(readFileSync(`${path}.gz`))).toEqual(readFileSync(path))
      expect(brotliDecompressSync(readFileSync(`${path}.br`))).toEqual(readFileSync(path))
    }
  })

  it('reports as many compressed copies as it wrote, however many files were written at once', () => {
    const copies = readdirSync(output, { recursive: true }).filter((name) => /\.(br|gz)$/.test(String(name)))
    expect(copies.length).toBeGreaterThan(10)
    expect(compressedCount).toBe(copies.length)
  })

  it('writes byte-identical gzip copies in every build', async () => {
    const again = join(base, 'again')
    await collectStatic({ sources: [sources], output: again })
    for (const name of [named('css/app.css'), named('text/long.txt'), 'text/long.txt']) {
      expect(readFileSync(join(again, `${name}.gz`))).toEqual(readFileSync(join(output, `${name}.gz`)))
      expect(readFileSync(join(again, `${name}.br`))).toEqual(readFileSync(join(output, `${name}.br`)))
    }
  })
})

describe('serving the collected files', () => {
  it('caches hashed names for a year, originals briefly, and links through staticUrl', async () => {
    const server = await serve([staticFiles({ root: output })])
    try {
      const link = async (name: string) =>
        (await get(server.port, `/link?name=${encodeURIComponent(name)}`)).body.toString()
      expect(await link('css/app.css')).toBe(`/static/${named('css/app.css')}`)
      const hashed = await get(server.port, await link('css/app.css'), { 'Accept-Encoding': 'br' })
      expect(hashed.status).toBe(200)
      expect(hashed.headers['content-encoding']).toBe('br')
      expect(hashed.headers['cache-control']).toBe('public, max-age=31536000, immutable')
      expect(hashed.headers['content-type']).toBe('text/css; charset=utf-8')
      const vite = await get(server.port, await link('build/main.ts'))
      expect(vite.headers['cache-control']).toBe('public, max-age=31536000, immutable')
      const original = await get(server.port, '/static/css/app.css')
      expect(original.headers['cache-control']).toBe('public, max-age=60')
      expect(original.body.toString()).toBe(css)
    } finally {
      await server.close()
    }
  })

  it('links from each pipeline’s own manifest and prefix: two stacks in one process do not interfere', async () => {
    const other = join(base, 'other')
    write(other, { 'css/app.css': 'body { color: blue }' })
    await collectStatic({ sources: [other], output: join(base, 'other-out') })
    const first = await serve([staticFiles({ root: output, prefix: '/assets' })])
    const second = await serve([staticFiles({ root: join(base, 'other-out'), prefix: '/files/' })])
    try {
      const link = async (port: number) => (await get(port, '/link?name=css/app.css')).body.toString()
      expect(await link(first.port)).toBe(`/assets/${named('css/app.css')}`)
      expect(await link(second.port)).toMatch(/^\/files\/css\/app\.[0-9a-f]{12}\.css$/)
      expect(await link(second.port)).not.toBe(`/files/${named('css/app.css')}`)
      expect(await link(first.port)).toBe(`/assets/${named('css/app.css')}`) // unchanged by the second
    } finally {
      await first.close()
      await second.close()
    }
  })

  it('staticUrl throws in production for a name the manifest lacks, and falls back in development', () => {
    // Outside a request (a script), staticUrl() reads the directory and prefix serve would use.
    const env = { SHIPSHAPE_STATIC_ROOT: output, SHIPSHAPE_STATIC_URL: '/assets' }
    expect(staticUrlIn(base, 'js/main.js', env)).toBe(`/assets/${named('js/main.js')}`)
    expect(() => staticUrlIn(base, 'js/typo.js', env)).toThrow(/js\/typo\.js/)
    expect(staticUrlIn(base, 'js/typo.js', { ...env, NODE_ENV: 'development' })).toBe('/assets/js/typo.js')
  })
})

describe('shipshape collectstatic', () => {
  it('collects from the command line and reports what it did', async () => {
    const out = join(base, 'out-cli')
    const { stdout } = await runCli(['collectstatic', sources, '--static-root', out])
    expect(stdout).toMatch(
      /Collected \d+ files into .*: \d+ hashed, 2 already hashed by a bundler, \d+ compressed copies/,
    )
    expect(JSON.parse(readFileSync(join(out, manifestName), 'utf8')).paths['css/app.css']).toBe(
      named('css/app.css'),
    )
  })

  it('exits 1 naming both files when a reference is missing', async () => {
    const broken = join(base, 'cli-broken')
    write(broken, { 'a.css': '@import "b.css";' })
    const failure = await runCli(['collectstatic', broken, '--static-root', join(base, 'x')])
    expect(failure.status).toBe(1)
    expect(failure.stderr).toContain('a.css references b.css')
    expect(failure.stderr).toContain('SHIPSHAPE_E_STATIC_REFERENCE')
  })
})
