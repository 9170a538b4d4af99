/** The media options of `shipshape serve`: defaults, S3 settings, and problems named by option. */
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadServeOptions } from './index.js'

const resolveWith = (env: Record<string, string>, flags = {}) => loadServeOptions('app.js', flags, env)

describe('media options', () => {
  it('default to local storage under ./media, served at /media/, with no key configured', () => {
    const { media } = resolveWith({})
    expect(media).toEqual({ root: resolve('media'), urlPrefix: '/media/', signingKeys: [], driver: 'local' })
  })

  it('read keys, the S3 bucket, region, endpoint and CDN from the environment', () => {
    const { media } = resolveWith({
      SHIPSHAPE_MEDIA_SIGNING_KEYS: `${'a'.repeat(32)}, ${'b'.repeat(32)}`,
      SHIPSHAPE_MEDIA_DRIVER: 's3',
      SHIPSHAPE_MEDIA_S3_BUCKET: 'uploads',
      SHIPSHAPE_MEDIA_S3_REGION: 'eu-west-3',
      SHIPSHAPE_MEDIA_S3_ENDPOINT: 'https://s3.example.com',
      SHIPSHAPE_MEDIA_PUBLIC_URL: 'https://cdn.example.com',
    })
    expect(media.signingKeys).toEqual(['a'.repeat(32), 'b'.repeat(32)])
    expect(media.s3).toEqual({ bucket: 'uploads', region: 'eu-west-3', endpoint: 'https://s3.example.com' })
    expect(media.storages?.public).toEqual({ visibility: 'public', publicUrl: 'https://cdn.example.com' })
    expect(media.storages?.private).toEqual({ visibility: 'private' })
  })

  it('stop start-up naming each bad media option, all at once', () => {
    let message = ''
    try {
      resolveWith(
        { SHIPSHAPE_MEDIA_SIGNING_KEYS: 'too-short', SHIPSHAPE_MEDIA_DRIVER: 's3' },
        { mediaUrl: 'media' },
      )
    } catch (error) {
      expect(error).toMatchObject({ code: 'SHIPSHAPE_E_BAD_OPTION' })
      message = (error as Error).message
    }
    expect(message).toMatch(
      /media.signingKeys from SHIPSHAPE_MEDIA_SIGNING_KEYS: expected a media signing key is 9 characters long/,
    )
    expect(message).toMatch(/media.s3Bucket is not set: expected the S3 driver needs s3.bucket/)
    expect(message).toMatch(/media.url from --media-url: expected urlPrefix must be a path/)
    expect(message).not.toContain('too-short')
    expect(() => resolveWith({ SHIPSHAPE_MEDIA_DRIVER: 'ftp' })).toThrow(
      /SHIPSHAPE_MEDIA_DRIVER: expected one of local, s3/,
    )
    expect(() => resolveWith({ SHIPSHAPE_MEDIA_PUBLIC_URL: 'https://cdn.example.com' })).toThrow(
      /expected to be set only with media.driver s3/,
    )
  })

  it('read the separate media origin, and refuse one with a path', () => {
    const origin = 'https://media.example-usercontent.com'
    expect(resolveWith({ SHIPSHAPE_MEDIA_ORIGIN: origin }).media.origin).toBe(origin)
    expect(() => resolveWith({ SHIPSHAPE_MEDIA_ORIGIN: `${origin}/media/` })).toThrow(
      /SHIPSHAPE_MEDIA_ORIGIN: expected an origin/,
    )
  })
})
