/**
 * The deploy checklist's settings group: the checks `shipshape check --deploy` skips.
 */
import { z } from 'zod'
import { group, setting } from '../config/index.js'

export const checksSettings = group(
  {
    silenced: setting(z.array(z.string().min(1)), {
      default: [],
      shownDefault: 'none',
      env: 'SHIPSHAPE_SILENCED_CHECKS',
      flag: false,
      description:
        "Ids of `shipshape check --deploy` checks not to run, for risks you have decided to accept (as Django's SILENCED_SYSTEM_CHECKS). An id that names no check is reported. `shipshape check --silence <id>` adds to them.",
      example: ['hsts-preload'],
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_CHECKS_',
    flagPrefix: 'checks-',
    description:
      '`shipshape check --deploy`, the deploy checklist. See [deploy-checks.md](deploy-checks.md).',
  },
)
