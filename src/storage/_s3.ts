/**
 * The S3-compatible driver (AWS S3, R2, MinIO, …), on the AWS SDK v3. Private objects are
 * never written with an ACL and are reached only through presigned URLs; public objects are
 * reached through the bucket's URL or a CDN in front of it.
 */

import type { Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { typeOfKey } from './_content-type.js'
import { keyToPath } from './_keys.js'
import type { Driver, FileInfo, Visibility, WriteInfo } from './_storage.js'

export interface S3Settings {
  bucket: string
  /** Default `us-east-1` (also what most S3-compatible servers expect). */
  region?: string
  /** An S3-compatible server's URL (R2, MinIO, …). Default: AWS's endpoint for the region. */
  endpoint?: string
  /** `endpoint/bucket/key` instead of `bucket.endpoint/key`; most non-AWS servers need it. Default: true when `endpoint` is set. */
  forcePathStyle?: boolean
  /** Default: the AWS SDK's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string }
}

export interface S3StorageOptions {
  /** Key prefix inside the bucket, so storages can share one bucket. */
  prefix: string
  visibility: Visibility
  publicUrl: string | undefined
  publicReadAcl: boolean
}

/**
 * Streams of unknown length go up in parts of this size (S3's minimum part is 5 MiB): one part
 * is held in memory at a time, so memory stays flat whatever the file's size.
 */
const partBytes = 8 * 1024 * 1024

/**
 * The AWS SDK costs about half a second and 40 MB to load: it is loaded on the first S3
 * operation, so an app on the local driver (the default) never pays for it.
 */
let sdkLoading: Promise<Sdk> | undefined
type Sdk = typeof import('@aws-sdk/client-s3') & {
  getSignedUrl: typeof import('@aws-sdk/s3-request-presigner').getSignedUrl
  createPresignedPost: typeof import('@aws-sdk/s3-presigned-post').createPresignedPost
}
function loadSdk(): Promise<Sdk> {
  sdkLoading ??= Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/s3-request-presigner'),
    import('@aws-sdk/s3-presigned-post'),
  ]).then(([client, presigner, post]) => ({
    ...client,
    getSignedUrl: presigner.getSignedUrl,
    createPresignedPost: post.createPresignedPost,
  }))
  return sdkLoading
}

const clients = new Map<string, S3Client>()

/** One client per configuration, shared by the storages using it (it holds the connection pool). */
async function clientFor(settings: S3Settings): Promise<{ client: S3Client; sdk: Sdk }> {
  const sdk = await loadSdk()
  const id = JSON.stringify(settings)
  let client = clients.get(id)
  if (!client) {
    client = new sdk.S3Client({
      region: settings.region ?? 'us-east-1',
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle ?? settings.endpoint !== undefined,
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      // Checksums only where S3 requires them: many S3-compatible servers reject the newer
      // default trailing checksums.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
    clients.set(id, client)
  }
  return { client, sdk }
}

export function s3Driver(settings: S3Settings, options: S3StorageOptions): Driver {
  // Looked up once: every operation would otherwise serialize the settings to find the client.
  let connection: ReturnType<typeof clientFor> | undefined
  const connect = () => {
    connection ??= clientFor(settings)
    return connection
  }
  const Bucket = settings.bucket
  const { prefix, visibility, publicUrl, publicReadAcl } = options
  const objectKey = (key: string) => prefix + key
  const fromObjectKey = (key: string) => key.slice(prefix.length)
  // Only ever for a public storage that asked for it: checked again here, not only in the config.
  const acl = visibility === 'public' && publicReadAcl ? ({ ACL: 'public-read' } as const) : {}
  const bucketUrl = settings.endpoint
    ? `${settings.endpoint.replace(/\/+$/, '')}/${Bucket}`
    : `https://${Bucket}.s3.${settings.region ?? 'us-east-1'}.amazonaws.com`
  const base = (publicUrl ?? bucketUrl).replace(/\/+$/, '')

  const headersFor = (info: WriteInfo) => ({
    ContentType: info.contentType,
    ...(info.disposition === 'attachment' ? { ContentDisposition: 'attachment' } : {}),
    ...acl,
  })

  const info = async (key: string): Promise<FileInfo | undefined> => {
    const { client, sdk } = await connect()
    try {
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket, Key: objectKey(key) }))
      return {
        key,
        size: head.ContentLength ?? 0,
        contentType: head.ContentType ?? typeOfKey(key),
        lastModified: head.LastModified ?? new Date(0),
      }
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  return {
    async write(key, body, writeInfo) {
      const { client, sdk } = await connect()
      const Key = objectKey(key)
      const { signal } = writeInfo
      const parts = chunked(body, partBytes)
      const first = await parts.next()
      const firstPart = first.done ? Buffer.alloc(0) : first.value
      const second = first.done ? first : await parts.next()
      if (second.done) {
        // Small enough for one request: S3 replaces objects whole, so no partial object either way.
        await client.send(
          new sdk.PutObjectCommand({ Bucket, Key, Body: firstPart, ...headersFor(writeInfo) }),
          {
            abortSignal: signal,
          },
        )
        return (await info(key)) as FileInfo
      }
      const { UploadId } = await client.send(
        new sdk.CreateMultipartUploadCommand({ Bucket, Key, ...headersFor(writeInfo) }),
        { abortSignal: signal },
      )
      try {
        const done: { ETag: string | undefined; PartNumber: number }[] = []
        let part: Buffer | undefined = firstPart
        let next: IteratorResult<Buffer> = second
        while (part) {
          const PartNumber = done.length + 1
          const { ETag } = await client.send(
            new sdk.UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: part }),
            { abortSignal: signal },
          )
          done.push({ ETag, PartNumber })
          part = next.done ? undefined : next.value
          if (part) next = await parts.next()
        }
        await client.send(
          new sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }),
          { abortSignal: signal },
        )
      } catch (error) {
        // An unfinished multipart upload is never visible as an object; aborting also frees
        // the parts' storage. If the abort fails, a lifecycle rule on the bucket reclaims them.
        await client.send(new sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {})
        body.destroy()
        throw error
      }
      return (await info(key)) as FileInfo
    },
    async read(key) {
      const { client, sdk } = await connect()
      try {
        const object = await client.send(new sdk.GetObjectCommand({ Bucket, Key: objectKey(key) }))
        return {
          body: object.Body as Readable,
          info: {
            key,
            size: object.ContentLength ?? 0,
            contentType: object.ContentType ?? typeOfKey(key),
            lastModified: object.LastModified ?? new Date(0),
          },
        }
      } catch (error) {
        if (isNotFound(error)) return undefined
        throw error
      }
    },
    async remove(key) {
      const { client, sdk } = await connect()
      await client.send(new sdk.DeleteObjectCommand({ Bucket, Key: objectKey(key) }))
    },
    info,
    async *list(listPrefix) {
      const { client, sdk } = await connect()
      let ContinuationToken: string | undefined
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({ Bucket, Prefix: objectKey(listPrefix), ContinuationToken }),
        )
        for (const object of page.Contents ?? []) {
          const key = fromObjectKey(object.Key as string)
          yield {
            key,
            size: object.Size ?? 0,
            contentType: typeOfKey(key),
            lastModified: object.LastModified ?? new Date(0),
          }
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (ContinuationToken)
    },
    url: (key) => `${base}/${keyToPath(objectKey(key))}`,
    async signedUrl(key, expiresIn) {
      const { client, sdk } = await connect()
      return sdk.getSignedUrl(client, new sdk.GetObjectCommand({ Bucket, Key: objectKey(key) }), {
        expiresIn,
      })
    },
    async presignedPost(key, writeInfo, maxBytes, expiresIn) {
      const { client, sdk } = await connect()
      const Key = objectKey(key)
      const fields: Record<string, string> = { 'Content-Type': writeInfo.contentType }
      if (writeInfo.disposition === 'attachment') fields['Content-Disposition'] = 'attachment'
      if (acl.ACL) fields.acl = acl.ACL
      const post = await sdk.createPresignedPost(client, {
        Bucket,
        Key,
        Fields: fields,
        // Every field is pinned by the signed policy: the browser cannot change the key, the
        // type, the disposition or the ACL, nor send more than maxBytes.
        Conditions: [
          ['content-length-range', 1, maxBytes],
          ...Object.entries(fields).map(
            ([name, value]) => ['eq', `$${name}`, value] as ['eq', string, string],
          ),
        ],
        Expires: expiresIn,
      })
      return { key, url: post.url, fields: post.fields }
    },
  }
}

/** Re-cuts a byte stream into buffers of exactly `size` bytes (the last one shorter). */
async function* chunked(body: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = []
  let pendingBytes = 0
  for await (const chunk of body) {
    let data = chunk as Buffer
    while (pendingBytes + data.length >= size) {
      const take = size - pendingBytes
      pending.push(data.subarray(0, take))
      yield Buffer.concat(pending)
      data = data.subarray(take)
      pending = []
      pendingBytes = 0
    }
    if (data.length > 0) {
      pending.push(data)
      pendingBytes += data.length
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending)
}

function isNotFound(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } }
  return name === 'NotFound' || name === 'NoSuchKey' || $metadata?.httpStatusCode === 404
}
