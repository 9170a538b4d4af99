/** The process's storages: configureStorages() merges, storage() follows the configuration in use. */

import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get } from '../_test/client.js'
import { serveMiddleware as serve } from '../_test/pipeline.js'
import type { AppHandler } from '../types.js'
import { buildStorages } from './_registry.js'
import { configureStorages, mediaDirectories, mediaFiles, storage, storagesOver } from './index.js'

let first: string
let second: string
beforeAll(async () => {
  first = await mkdtemp(join(tmpdir(), 'shipshape-registry-'))
  second = await mkdtemp(join(tmpdir(), 'shipshape-registry-'))
})
afterAll(async () => {
  await rm(first, { recursive: true, force: true })
  await rm(second, { recursive: true, force: true })
})

describe('the process storages', () => {
  it('keep what the app declared when the server supplies root and keys later', async () => {
    configureStorages({
      storages: { public: { visibility: 'public' }, invoices: { visibility: 'private' } },
    })
    const invoices = storage('invoices') // taken before the server's settings arrive
    configureStorages({ root: first, signingKeys: ['k'.repeat(32)] })
    const stored = await invoices.put('march.txt', 'paid')
    expect(invoices.visibility).toBe('private')
    expect(await storage('invoices').exists(stored.key)).toBe(true)
    expect(() => storage('private')).toThrow(expect.objectContaining({ code: 'SHIPSHAPE_E_STORAGE_UNKNOWN' }))

    // A storage taken earlier follows a later configuration.
    configureStorages({ root: second })
    expect(await invoices.exists(stored.key)).toBe(false)
    expect(await invoices.signedUrl('march.txt')).toMatch(
      /^\/media\/invoices\/march\.txt\?expires=\d+&signature=/,
    )
  })

  it('refuse a bad configuration and keep the one in use', async () => {
    expect(() => configureStorages({ urlPrefix: 'nope' })).toThrow(
      expect.objectContaining({ code: 'SHIPSHAPE_E_STORAGE_CONFIG' }),
    )
    expect(storage('invoices').url).toBeTypeOf('function')
    expect(await storage('public').put('still.txt', 'works')).toMatchObject({ size: 5 })
  })
})

describe('mediaDirectories', () => {
  it('names the directories the storages really write to (and the S3 prefixes), against cwd', async () => {
    const settings = {
      root: join(first, 'media'),
      signingKeys: ['k'.repeat(32)],
      storages: {
        public: { visibility: 'public' as const },
        private: { visibility: 'private' as const },
        elsewhere: { visibility: 'private' as const, directory: join(second, 'kept-apart') },
        bucket: { visibility: 'private' as const, driver: 's3' as const },
      },
      s3: { bucket: 'unused' },
    }
    const directories = mediaDirectories(settings)
    expect(directories).toEqual([
      { name: 'public', visibility: 'public', driver: 'local', directory: join(first, 'media', 'public') },
      { name: 'private', visibility: 'private', driver: 'local', directory: join(first, 'media', 'private') },
      { name: 'elsewhere', visibility: 'private', driver: 'local', directory: join(second, 'kept-apart') },
      { name: 'bucket', visibility: 'private', driver: 's3', prefix: 'bucket/' },
    ])
    const built = buildStorages(settings)
    for (const { name, directory } of directories) {
      if (directory === undefined) continue
      const file = await built.get(name).put('probe.txt', name)
      expect(existsSync(join(directory, file.key)), name).toBe(true)
    }
    expect(mediaDirectories({}, '/srv/app')).toEqual([
      { name: 'public', visibility: 'public', driver: 'local', directory: '/srv/app/media/public' },
      { name: 'private', visibility: 'private', driver: 'local', directory: '/srv/app/media/private' },
    ])
  })
})

describe('the worker storages', () => {
  it('are what storage() returns during a request: two stacks in one process do not interfere', async () => {
    // The app takes its storage once, at import time, as apps do; each request finds its worker's.
    const avatars = storage('public')
    const app: AppHandler = async ({ res }) => {
      res.end(`${avatars.url('a.png')} ${storage('invoices').visibility}`)
    }
    const uploads = await serve(
      [mediaFiles({ storages: storagesOver({ root: first, urlPrefix: '/uploads/' }) })],
      app,
    )
    const files = await serve(
      [mediaFiles({ storages: storagesOver({ root: second, urlPrefix: '/files/' }) })],
      app,
    )
    try {
      expect((await get(uploads.port, '/')).body.toString()).toBe('/uploads/public/a.png private')
      expect((await get(files.port, '/')).body.toString()).toBe('/files/public/a.png private')
      expect((await get(uploads.port, '/')).body.toString()).toBe('/uploads/public/a.png private')
      // Outside a request: the process's storages, which neither stack changed.
      expect(avatars.url('a.png')).toBe('/media/public/a.png')
    } finally {
      await uploads.close()
      await files.close()
    }
  })
})
