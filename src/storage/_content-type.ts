/**
 * What a stored file is, decided by shipshape and never by the client: the file's first bytes
 * (magic numbers) first, then the extension of its name. And how it may be shown: only types a
 * browser cannot run as a page are shown inline; everything else is downloaded.
 */
import mime from 'mime'
import { withExtension } from './_keys.js'

/** file-type reads at most this many bytes; the head of a stream is peeked up to this size. */
export const sniffBytes = 4100

const fallbackType = 'application/octet-stream'

// file-type is loaded on the first upload, not when a worker starts.
let fileType: Promise<typeof import('file-type')> | undefined

/**
 * The type of a file from its first bytes, else its name's extension, else octet-stream. An
 * extension naming a type that has magic numbers (`.png`, `.pdf`) is believed only if the
 * bytes say so too: a "photo.png" that is not a PNG is octet-stream, not an image.
 */
export async function detectContentType(head: Uint8Array, name: string): Promise<string> {
  fileType ??= import('file-type')
  const { fileTypeFromBuffer, supportedMimeTypes } = await fileType
  const sniffed = head.length > 0 ? await fileTypeFromBuffer(head) : undefined
  if (sniffed) return sniffed.mime
  const claimed = mime.getType(name)
  return claimed && !supportedMimeTypes.has(claimed) ? claimed : fallbackType
}

/** The type a stored key is served with: from its extension, which `keyForType` made agree with its bytes. */
export function typeOfKey(key: string): string {
  return mime.getType(key) ?? fallbackType
}

/**
 * Makes the key's extension agree with the detected type (`photo.html` holding a PNG is
 * stored as `photo.png`), so the local driver can serve every file by its extension without
 * reading it again, and no file is served as something its bytes are not.
 */
export function keyForType(key: string, contentType: string): string {
  const claimed = mime.getType(key)
  // No extension, or one that names no type, already serves as octet-stream.
  if (claimed === contentType || (claimed === null && contentType === fallbackType)) return key
  const extension = mime.getExtension(contentType) // `bin` for octet-stream
  return extension ? withExtension(key, extension) : key
}

/**
 * Types a browser shows without running anything: raster images, audio, video, plain text.
 * HTML, SVG, XML, JavaScript, PDF and anything unknown are served as attachments.
 */
const inlineSafe =
  /^(image\/(png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon|apng)|audio\/[\w.+-]+|video\/[\w.+-]+|text\/plain)$/

/**
 * `inline` when the type cannot run script in the page, or when the app listed it in
 * `inlineTypes`; `attachment` otherwise. Served together with nosniff, so a browser cannot
 * second-guess the type.
 */
export function disposition(contentType: string, inlineTypes: readonly string[]): 'inline' | 'attachment' {
  return inlineSafe.test(contentType) || inlineTypes.includes(contentType) ? 'inline' : 'attachment'
}
