/**
 * The committed list of advisories a team has decided to accept for now, each with its reason
 * and an expiry date, so that "accepted" is a decision someone revisits, not a silence forever:
 * an expired ignore fails the audit until it is renewed or removed.
 *
 * ```yaml
 * - id: GHSA-xvch-5gv4-984h      # or the registry's numeric id
 *   path: express > qs           # optional: only through this dependency path
 *   reason: not reachable, we never parse query strings with it
 *   expires: 2027-01-31
 * ```
 */
import { existsSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { z } from 'zod'
import { ShipshapeError } from '../errors/index.js'

const ignoreSchema = z.array(
  z.strictObject({
    id: z.union([z.string().min(1), z.number().int()]).transform(String),
    path: z.string().min(1).optional(),
    reason: z.string().trim().min(1, 'say why the advisory is accepted'),
    expires: z.union([z.string(), z.date()]).transform((value, context) => {
      const text = value instanceof Date ? value.toISOString().slice(0, 10) : value
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(text))) {
        context.addIssue({ code: 'custom', message: 'a date as YYYY-MM-DD' })
        return z.NEVER
      }
      return text
    }),
  }),
)

export type Ignore = z.infer<typeof ignoreSchema>[number]

/** The file's ignores; none when it does not exist. A malformed file is SHIPSHAPE_E_AUDIT_IGNORES, naming each entry. */
export function readIgnores(file: string): Ignore[] {
  if (!existsSync(file)) return []
  let data: unknown
  try {
    data = parse(readFileSync(file, 'utf8')) ?? []
  } catch (error) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_AUDIT_IGNORES',
      `${file}: ${(error as Error).message.split('\n')[0]}`,
    )
  }
  const parsed = ignoreSchema.safeParse(data)
  if (!parsed.success)
    throw new ShipshapeError(
      'SHIPSHAPE_E_AUDIT_IGNORES',
      `${file}: ${parsed.error.issues.map((issue) => `${issue.path.length ? `entry ${issue.path.join('.')}` : 'the file'}: ${issue.message}`).join('; ')}`,
    )
  return parsed.data
}

/** A path as written in the file and the report: `express > body-parser > qs`. */
export const showPath = (path: readonly string[]) => path.join(' > ')

/** The ignore that covers this advisory on this path, if any (expired ones too: the caller fails on those). */
export function ignoreFor(
  ignores: readonly Ignore[],
  ids: readonly string[],
  path: readonly string[],
): Ignore | undefined {
  return ignores.find(
    (ignore) =>
      ids.includes(ignore.id) &&
      (ignore.path === undefined ||
        ignore.path
          .split('>')
          .map((part) => part.trim())
          .join(' > ') === showPath(path)),
  )
}

export const isExpired = (ignore: Ignore, today: string) => ignore.expires < today
