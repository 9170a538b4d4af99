/** A check's URL may be a path of the app itself: resolved where the app's address is known. */

/** A check's URL, a path resolved against the app's address when there is one. */
export function resolveUrl(url: string, base: string | undefined): string {
  return url.startsWith('/') && base !== undefined ? new URL(url, base).href : url
}
