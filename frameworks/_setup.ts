/**
 * The suite's global setup: Debian's Chromium, installed with apt-get when it is missing (CI and
 * a new machine run as root). playwright-core drives it; it downloads no browser of its own.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chromiumPath } from './_harness.ts'

export default function setup(): void {
  if (existsSync(chromiumPath)) return
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update'], { env, stdio: 'inherit' })
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, stdio: 'inherit' })
}
