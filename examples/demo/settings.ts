import { fileURLToPath } from 'node:url'

/** The demo's own settings. Everything has a default, so `npm start` needs no setup. */
export const settings = {
  siteName: process.env.DEMO_SITE_NAME ?? 'shipshape demo',
  /** Where the guestbook keeps its entries; shared by every worker. */
  dataDir: process.env.DEMO_DATA_DIR ?? fileURLToPath(new URL('./.data', import.meta.url)),
}
