/**
 * What a stored file is, decided by shipshape and never by the client: the file's first bytes
 * (magic numbers) first, then the extension of its name. How it may be shown: only types a
 * browser cannot run as a page are shown inline; everything else is downloaded. And which type
 * it is served with: from the site's own origin, never one a browser runs or applies.
 */
import { mimeTypes as mime } from '../static/index.js'
import { withExtension } from './_keys.js'

/** file-type reads at most this many bytes; the head of a stream is peeked up to this size. */
export const sniffBytes = 4100

export const fallbackType = 'application/octet-stream'

// file-type is loaded on the first upload, not when a worker starts.
let fileType: Promise<typeof import('file-type')> | undefined

export interface DetectedType {
  contentType: string
  /** file-type's extension for a type it recognised from the bytes (it knows types shipshape's type table does not, such as `flac`). */
  extension?: string
}

/**
 * The type of a file from its first bytes, else its name's extension, else octet-stream. An
 * extension naming a type that has magic numbers (`.png`, `.pdf`) is believed only if the
 * bytes say so too: a "photo.png" that is not a PNG is octet-stream, not an image.
 */
export async function detectContentType(head: Uint8Array, name: string): Promise<DetectedType> {
  fileType ??= import('file-type')
  const { fileTypeFromBuffer, supportedMimeTypes } = await fileType
  const sniffed = head.length > 0 ? await fileTypeFromBuffer(head) : undefined
  if (sniffed) return { contentType: sniffed.mime, extension: sniffed.ext }
  const claimed = mime.getType(name)
  return { contentType: claimed && !supportedMimeTypes.has(claimed) ? claimed : fallbackType }
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
export function keyForType(key: string, detected: DetectedType): string {
  const { contentType } = detected
  const claimed = mime.getType(key)
  // No extension, or one that names no type, already serves as octet-stream.
  if (claimed === contentType || (claimed === null && contentType === fallbackType)) return key
  const extension = mime.getExtension(contentType) ?? detected.extension // `bin` for octet-stream
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

/**
 * Types a browser only shows, plays, or saves: it never runs them, nor applies them to a page.
 * PDF is one: browsers' viewers run a PDF's scripts in their own sandbox, never as the site.
 * Any XML, XSL or JSON type is excluded even under these families (an XML-based image is SVG).
 */
const passive =
  /^(image\/[\w.+-]+|audio\/[\w.+-]+|video\/[\w.+-]+|font\/[\w.+-]+|text\/plain|text\/csv|application\/(pdf|zip|gzip|octet-stream))$/
const structured = /xml|xsl|json/

/**
 * Whether a browser would run or apply a file of this type, which it must never get from the
 * site's own origin: such files are served there as `application/octet-stream`, which a browser
 * under nosniff neither runs nor applies. Content-Disposition and the sandbox CSP protect a page
 * navigated to, but not a subresource: an uploaded `.js` served as JavaScript runs as the
 * site's own code under `<script src>` or as a service worker, a `.css` restyles its pages,
 * XSLT transforms its XML. Safe types are listed by name, so a type nobody thought of
 * (text/x-component, wasm, WebVTT, the many script aliases) counts as one that runs. What it
 * costs: a `fetch()` of such a file sees octet-stream, and an SVG does not show in `<img>`;
 * both work when media has an origin of its own (`media.origin`).
 */
export function runsOrApplies(contentType: string): boolean {
  return !passive.test(contentType) || structured.test(contentType)
}
