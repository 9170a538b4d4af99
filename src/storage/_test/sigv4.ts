/**
 * An independent check of AWS Signature Version 4, written from the AWS documentation, for
 * the URLs and POST policies the S3 driver hands out. s3rver accepts any signature, so without
 * this nothing would notice a URL signed for the wrong host, key or expiry.
 */
import { createHash, createHmac } from 'node:crypto'

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest()

function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request')
}

const encode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)

/** True when a presigned GET URL's signature is right for its method, host, path and query. */
export function presignedUrlIsValid(url: string, secret: string, now = new Date()): boolean {
  const parsed = new URL(url)
  const query = [...parsed.searchParams.entries()]
  const signature = parsed.searchParams.get('X-Amz-Signature')
  const amzDate = parsed.searchParams.get('X-Amz-Date') ?? ''
  const expires = Number(parsed.searchParams.get('X-Amz-Expires'))
  const credential = parsed.searchParams.get('X-Amz-Credential') ?? ''
  const [, date, region] = credential.split('/')
  const signed = parsed.searchParams.get('X-Amz-SignedHeaders')
  if (!signature || !date || !region || signed !== 'host') return false
  const issued = Date.parse(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  )
  if (!(issued + expires * 1000 > now.getTime())) return false
  const canonicalQuery = query
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
  const canonicalRequest = [
    'GET',
    parsed.pathname,
    canonicalQuery,
    `host:${parsed.host}\n`,
    'host',
    'UNSIGNED-PAYLOAD',
  ].join('\n')
  const scope = credential.split('/').slice(1).join('/')
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n')
  return hmac(signingKey(secret, date, region), stringToSign).toString('hex') === signature
}

/** True when a presigned POST's policy is signed with `secret`. */
export function postPolicyIsValid(fields: Record<string, string>, secret: string): boolean {
  const [, date, region] = (fields['X-Amz-Credential'] ?? '').split('/')
  if (!date || !region || !fields.Policy) return false
  return hmac(signingKey(secret, date, region), fields.Policy).toString('hex') === fields['X-Amz-Signature']
}
