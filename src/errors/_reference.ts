/** docs/errors.md, generated from the catalogue so the two cannot disagree. */
import { catalogue } from './index.js'

export function errorReference(): string {
  const rows = Object.entries(catalogue).map(
    ([code, entry]) =>
      `| \`${code}\` | ${entry.status} | ${entry.message} | ${entry.fix.replaceAll('|', '\\|')} |`,
  )
  return `# Error codes

Every error shipshape raises on purpose carries one of these codes. A command that fails prints
the code and its fix; an error that reaches a client is answered with the status shown, and the
log line names the code. Match on the code, never on the message text.

This page is generated from \`src/errors/index.ts\`: run \`npm run docs\` after changing it.

| code | HTTP status | meaning | how to fix it |
| --- | --- | --- | --- |
${rows.join('\n')}
`
}
