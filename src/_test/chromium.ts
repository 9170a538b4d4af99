/**
 * Debian's Chromium, driven by playwright-core (which downloads no browser of its own). Both
 * vitest configs install it first when it is missing (frameworks/_setup.ts, their global setup).
 */
import { type Browser, chromium } from 'playwright-core'

export const chromiumPath = '/usr/bin/chromium'

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] })
}
