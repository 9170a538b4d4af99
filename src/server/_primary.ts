import type { ServeOptions } from './_options.js'

export async function serve(_options: ServeOptions): Promise<number> {
  throw new Error('the supervisor is being written')
}

export function signalPrimary(_pidfile: string, _signal: NodeJS.Signals): number {
  throw new Error('the supervisor is being written')
}
