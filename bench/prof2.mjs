const cpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const c0 = cpu()
const mode = process.argv[2]
if (mode === 'yaml') {
  const { createRequire } = await import('node:module')
  const y = createRequire(import.meta.url)('yaml')
  const c1 = cpu()
  y.parseDocument((await import('node:fs')).readFileSync('/tmp/b.yaml', 'utf8'))
  console.log({ boot: c0, requireYaml: c1 - c0, parse: cpu() - c1 })
}
if (mode === 'jsyaml') {
  const { createRequire } = await import('node:module')
  const y = createRequire(import.meta.url)('js-yaml')
  const c1 = cpu()
  y.load((await import('node:fs')).readFileSync('/tmp/b.yaml', 'utf8'))
  console.log({ boot: c0, requireYaml: c1 - c0, parse: cpu() - c1 })
}
if (mode === 'zod') {
  await import('zod')
  console.log({ boot: c0, zod: cpu() - c0 })
}
if (mode === 'config') {
  await import('shipshape/config')
  console.log({ boot: c0, config: cpu() - c0 })
}
if (mode === 'bare') console.log({ boot: c0 })
