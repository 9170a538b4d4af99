/**
 * The demo's front-end build. Vite names its output with content hashes and writes
 * .vite/manifest.json; `shipshape collectstatic` reads that manifest, so these files keep their
 * names (no second hash) and are still served as immutable.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Where collectstatic puts the output: asset URLs Vite writes into CSS and JS point there.
  base: '/static/build/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../static/build', import.meta.url)),
    emptyOutDir: true,
    manifest: true,
    // Every asset a file of its own, never a data: URL in the CSS: shipshape's Content-Security-Policy
    // allows images from this origin only ('self'), and a data: URL would need img-src data:.
    assetsInlineLimit: 0,
    rollupOptions: { input: ['main.js', 'style.css'] },
  },
})
