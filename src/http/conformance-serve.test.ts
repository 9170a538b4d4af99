/**
 * The conformance cases (see _test/cases.ts) for every kind of app through `shipshape serve`
 * itself: the built CLI, one worker per app kind, started once for all of its cases.
 */
import { describe } from 'vitest'
import { conformance } from './_test/cases.js'
import { serveLayer } from './_test/layers.js'

describe('through shipshape serve', () => conformance(serveLayer))
