/**
 * A real S3-protocol server for the tests: s3rver on loopback, a fresh directory per run. It
 * stores and serves objects like S3 but does not check signatures, so signature behaviour is
 * tested separately (see sigv4.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'
import type { S3Settings } from '../index.js'

export const bucket = 'media'
export const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

export interface S3Server {
  endpoint: string
  settings: S3Settings
  directory: string
  close(): Promise<void>
}

export async function startS3(): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'shipshape-s3-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    allowMismatchedSignatures: true,
    configureBuckets: [{ name: bucket }],
  })
  const { port } = await server.run()
  const endpoint = `http://127.0.0.1:${port}`
  return {
    endpoint,
    directory,
    settings: { bucket, endpoint, region: 'us-east-1', credentials },
    async close() {
      await server.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}
