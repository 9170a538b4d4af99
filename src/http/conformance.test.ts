/**
 * The conformance cases (see _test/cases.ts) for every kind of app, in the test process: through
 * a bare pipeline, and through the middleware every worker runs in front of the app.
 */
import { describe } from 'vitest'
import { conformance } from './_test/cases.js'
import { bare } from './_test/layers.js'

describe('through a bare pipeline', () => conformance(bare))
