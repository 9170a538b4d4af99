/**
 * The conformance cases (see _test/cases.ts) for every kind of app, in the test process, through
 * the middleware every worker runs in front of the app (security headers, static files, media).
 */
import { describe } from 'vitest'
import { conformance } from './_test/cases.js'
import { defaultStack } from './_test/layers.js'

describe('through the default middleware', () => conformance(defaultStack))
