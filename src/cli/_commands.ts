/** Every `shipshape` command, in the order `shipshape --help` lists them. */
import type { Command } from '../types.js'
import { check } from './check.js'
import { collectstatic } from './collectstatic.js'
import { config } from './config.js'
import { reload } from './reload.js'
import { scan } from './scan.js'
import { serve } from './serve.js'

export const commands: readonly Command[] = [serve, reload, collectstatic, check, scan, config]
