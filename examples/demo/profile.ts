/**
 * The profile page: an avatar upload into the public storage (served to anyone at /media/) and
 * a per-visitor report in the private storage, reachable only through a link valid 5 minutes.
 * A visitor is a random id in a cookie: the demo has no accounts, but each visitor's files
 * are theirs.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import express, { type Request, type Response } from 'express'
import { isShipshapeError } from 'shipshape/errors'
import { receiveUpload, storage } from 'shipshape/storage'
import { html } from './html.ts'
import { layout } from './layout.ts'
import { settings } from './settings.ts'

const avatars = storage('public')
const reports = storage('private')
/** An avatar bigger than this is refused with 413 before it is all read. */
const maxAvatarBytes = 2_000_000
/** How long a report link works: long enough to click, useless once leaked. */
const reportLinkSeconds = 5 * 60
const visitorCookie = 'demo_visitor'
const profilesDir = join(settings.dataDir, 'profiles')

export const profile = express.Router()

function visitorOf(req: Request, res: Response): string {
  const cookie = /(?:^|;\s*)demo_visitor=([0-9a-f-]{36})(?:;|$)/.exec(req.headers.cookie ?? '')?.[1]
  if (cookie) return cookie
  const id = randomUUID()
  res.cookie(visitorCookie, id, { httpOnly: true, sameSite: 'lax', maxAge: 365 * 24 * 3600 * 1000 })
  return id
}

interface Profile {
  avatarKey?: string
}

async function readProfile(visitor: string): Promise<Profile> {
  try {
    return JSON.parse(await readFile(join(profilesDir, `${visitor}.json`), 'utf8')) as Profile
  } catch {
    return {}
  }
}

/** Written aside and renamed into place, so another worker never reads half a file. */
async function saveProfile(visitor: string, data: Profile): Promise<void> {
  await mkdir(profilesDir, { recursive: true })
  const temporary = join(profilesDir, `.${visitor}.${process.pid}.tmp`)
  await writeFile(temporary, JSON.stringify(data))
  await rename(temporary, join(profilesDir, `${visitor}.json`))
}

function page(data: Profile, problem = '') {
  return layout(
    'Your profile',
    html`${data.avatarKey ? html`<p><img src="${avatars.url(data.avatarKey)}" alt="Your avatar" width="96" height="96"></p>` : html`<p>No avatar yet.</p>`}
<form method="post" action="/profile/avatar" enctype="multipart/form-data">
<p><label>Avatar (PNG, JPEG, GIF or WebP, up to 2 MB) <input type="file" name="avatar" accept="image/png,image/jpeg,image/gif,image/webp" required></label></p>
<p><button type="submit">Upload</button> ${problem}</p>
</form>
<form method="post" action="/profile/report">
<p><button type="submit">Download my report</button> — a CSV only you can open; its link works for 5 minutes.</p>
</form>`,
  )
}

profile.get('/profile', async (req: Request, res: Response) => {
  res.send(await page(await readProfile(visitorOf(req, res))))
})

const imageTypes = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

profile.post('/profile/avatar', async (req: Request, res: Response) => {
  const visitor = visitorOf(req, res)
  let uploaded: Awaited<ReturnType<typeof receiveUpload>>
  try {
    uploaded = await receiveUpload(req, avatars, {
      prefix: `avatars/${visitor}/`,
      maxFiles: 1,
      maxFileBytes: maxAvatarBytes,
      maxTotalBytes: maxAvatarBytes + 64 * 1024,
    })
  } catch (error) {
    if (!isShipshapeError(error)) throw error
    const problem =
      error.status === 413 ? 'That file is too large (2 MB at most).' : 'That upload could not be read.'
    res.status(error.status).send(await page(await readProfile(visitor), problem))
    return
  }
  const avatar = uploaded.files[0]
  // The type is what the bytes are, whatever the browser claimed: anything else goes.
  if (!avatar || !imageTypes.has(avatar.contentType)) {
    if (avatar) await avatars.delete(avatar.key)
    res
      .status(422)
      .send(await page(await readProfile(visitor), 'Please choose a PNG, JPEG, GIF or WebP image.'))
    return
  }
  const previous = await readProfile(visitor)
  await saveProfile(visitor, { ...previous, avatarKey: avatar.key })
  if (previous.avatarKey) await avatars.delete(previous.avatarKey)
  res.redirect(303, '/profile')
})

profile.post('/profile/report', async (req: Request, res: Response) => {
  const visitor = visitorOf(req, res)
  const data = await readProfile(visitor)
  const csv = `visitor,avatar,generated\n${visitor},${data.avatarKey ?? ''},${new Date().toISOString()}\n`
  // One report per visitor, replaced each time; its key holds the visitor id, its link a signature.
  const report = await reports.put(`reports/${visitor}/report.csv`, csv, { overwrite: true })
  res.redirect(303, await reports.signedUrl(report.key, { expiresIn: reportLinkSeconds }))
})
