#!/usr/bin/env node
console.error('shipshape: not built yet')
process.exit(1)
