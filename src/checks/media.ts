/** Checks that private media cannot be read by anyone but the app. */
import { existsSync, statSync } from 'node:fs'
import { relative } from 'node:path'
import { mediaDirectories } from '../storage/index.js'
import { needsSettings, within } from './_shared.js'
import { type DeployCheck, Skip } from './types.js'

export const privateStorage: DeployCheck = {
  id: 'private-storage',
  subject: 'media',
  severity: 'error',
  title: 'Private media is not publicly readable',
  fix: 'Keep the media root (SHIPSHAPE_MEDIA_ROOT) outside the static root, readable only by the app user (chmod o-rwx); on S3, block public access to the bucket.',
  run: async (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    const { cwd } = context
    // Where storage itself puts each storage, so the check judges the directories serve uses.
    const locations = mediaDirectories(settings.media, cwd)
    const problems: string[] = []
    for (const location of locations) {
      if (location.visibility !== 'private') continue
      const { name, directory, prefix } = location
      if (directory !== undefined) {
        const shown = relative(cwd, directory) || '.'
        if (within(directory, settings.staticRoot))
          problems.push(
            `private storage ${name} (${shown}) is inside the static root, which is served to anyone`,
          )
        for (const other of locations) {
          if (other.visibility !== 'public' || other.directory === undefined) continue
          if (within(directory, other.directory))
            problems.push(
              `private storage ${name} (${shown}) is inside public storage ${other.name}, which is served to anyone`,
            )
        }
        const mode = existsSync(directory) ? statSync(directory).mode : 0
        if ((mode & 0o007) !== 0)
          problems.push(
            `${shown} is accessible to every user of the machine (mode ${(mode & 0o777).toString(8)})`,
          )
      } else if (settings.media.s3?.bucket && prefix !== undefined) {
        problems.push(
          ...(await anonymousListing(settings.media.s3.bucket, settings.media.s3.endpoint, prefix)),
        )
      }
    }
    return problems
  },
}

/** An anonymous listing request: S3 answers 403 unless the bucket lets the whole internet list it. */
async function anonymousListing(
  bucket: string,
  endpoint: string | undefined,
  prefix: string,
): Promise<string[]> {
  const base = (endpoint || 'https://s3.amazonaws.com').replace(/\/$/, '')
  const listing = new URL(`${base}/${encodeURIComponent(bucket)}`)
  listing.searchParams.set('list-type', '2')
  listing.searchParams.set('prefix', prefix)
  try {
    const response = await fetch(listing, { redirect: 'manual', signal: AbortSignal.timeout(5000) })
    await response.body?.cancel()
    return response.status === 200
      ? [`anyone can list ${prefix} in bucket ${bucket} without credentials (${listing.origin})`]
      : []
  } catch {
    return [`could not reach ${listing.origin} to verify that bucket ${bucket} refuses anonymous listing`]
  }
}
