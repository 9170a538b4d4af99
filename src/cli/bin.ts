#!/usr/bin/env node
/**
 * The `shipshape` executable. It checks the Node version before importing anything that might
 * not load on an old one (on Node 20 a TypeScript app fails with "Unknown file extension" deep
 * in a worker, and a JavaScript app runs untested), so this file has no static import of its own.
 */

/** The lowest Node.js shipshape supports: `engines.node` in package.json (a test keeps them equal). */
const minimum = { major: 22, minor: 12 }

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
if (major < minimum.major || (major === minimum.major && minor < minimum.minor)) {
  const { ShipshapeError } = await import('../errors/index.js')
  const { describeFailure, usageExitCode } = await import('./_failure.js')
  const error = new ShipshapeError(
    'SHIPSHAPE_E_NODE_VERSION',
    `this is Node.js ${process.versions.node} (${process.execPath}); shipshape needs ${minimum.major}.${minimum.minor} or later`,
  )
  process.stderr.write(describeFailure(undefined, error))
  process.exitCode = usageExitCode
} else {
  const { main } = await import('./_main.js')
  process.exitCode = await main(process.argv.slice(2))
}
