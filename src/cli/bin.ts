#!/usr/bin/env node
import { main } from './_main.js'

process.exitCode = await main(process.argv.slice(2))
