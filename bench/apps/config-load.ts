/**
 * One process as an app starts it: `load` imports shipshape/config and zod, declares 200
 * settings and loads them from a YAML file and the environment; `zod` only imports zod; `bare`
 * imports nothing. The config benchmark times each from spawn to exit.
 * Usage: node bench/apps/config-load.ts <bare|zod|load> [config.yaml]
 */
const [mode, file] = process.argv.slice(2)

if (mode === 'zod') await import('zod')
if (mode === 'load') {
  const { bytes, defineConfig, duration, loadConfig, setting } = await import('shipshape/config')
  const { z } = await import('zod')
  // Ten sections of twenty settings, mixing every kind the environment has to be read as.
  const kinds = [
    () => setting(z.string(), { default: 'value', description: 'A string.' }),
    () => setting(z.int().min(0), { default: 10, description: 'An integer.' }),
    () => setting(z.boolean(), { default: false, description: 'A switch.' }),
    () => setting(duration(), { default: '5s', description: 'A duration.' }),
    () => setting(bytes(), { default: '1MB', description: 'A size.' }),
    () => setting(z.array(z.string()), { default: [], description: 'A list.' }),
    () => setting(z.enum(['a', 'b', 'c']), { default: 'a', description: 'A choice.' }),
    () => setting(z.url(), { default: 'https://example.com/', description: 'A URL.' }),
  ]
  const shape: Record<string, Record<string, ReturnType<(typeof kinds)[number]>>> = {}
  for (let section = 0; section < 10; section++) {
    const settings: Record<string, ReturnType<(typeof kinds)[number]>> = {}
    for (let key = 0; key < 20; key++)
      settings[`key${key}`] = (kinds[key % kinds.length] as (typeof kinds)[0])()
    shape[`section${section}`] = settings
  }
  const declaration = defineConfig(shape, { envPrefix: 'BENCH_' })
  const settings = loadConfig(declaration, { file, dotenv: false, secretsDir: false })
  if (Object.keys(settings).length !== 10) throw new Error('not loaded')
}
// CPU time of the whole process, start-up included: steadier than wall time on a shared machine.
const { user, system } = process.cpuUsage()
process.stdout.write(`${(user + system) / 1000}\n`)
