/**
 * Debian's Chromium for the auth browser test, installed with apt-get when missing (CI and a new
 * machine run as root), as the frameworks suite's setup does: `npm test` runs before it.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

const chromiumPath = '/usr/bin/chromium'

export function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    execFileSync('apt-get', ['update'], { env, stdio: 'inherit' })
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      env,
      stdio: 'inherit',
    })
  }
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] })
}
