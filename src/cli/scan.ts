import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { parseDuration } from '../config/index.js'
import { isShipshapeError, ShipshapeError } from '../errors/index.js'
import { grades, type SiteScan, scanSite, testNames } from '../scan/index.js'
import type { Command } from '../types.js'
import { describeFailure } from './_failure.js'

export const command: Command = {
  help: `Usage: shipshape scan <url> [options]

Fetches <url> over HTTP and HTTPS the way the MDN HTTP Observatory does (following redirects,
keeping cookies, sending a CORS preflight) and grades the responses with the Observatory's tests
and scoring: CSP, cookies, CORS, redirection, Referrer-Policy, HSTS, subresource integrity,
X-Content-Type-Options, X-Frame-Options and Cross-Origin-Resource-Policy. It prints the grade,
the score and each test's result. Nothing is sent anywhere but to <url>.

<url> is a host name (example.com: ports 80 and 443) or a URL (https://example.com:8443/path).

Exit codes: 0 when the grade and score meet --min-grade and --min-score; 1 when they do not;
2 when the site could not be graded (unreachable, or an error status).

Options:
  --min-grade <grade>
      Lowest passing grade: ${grades.join(', ')}. Default: none (any grade passes).
  --min-score <n>
      Lowest passing score (scores go above 100 with bonuses). Default: 0.
  --json
      Print the whole report as JSON.
  --http-port <port>
      Port of the http:// session when <url> is https:// (default 80).
  --https-port <port>
      Port of the https:// session when <url> is http:// (default 443).
  --ca <file>
      PEM file of a CA to trust besides the system's, such as a staging or test certificate.
  --insecure
      Do not verify certificates and grade as if they were valid. For staging and tests only: the
      Observatory itself grades an unverifiable certificate as invalid (-20 or more).
  --resolve <host:address>
      Reach <host> at <address> instead of asking DNS (repeatable), as curl's --resolve does: grade
      a staging server under the production name.
  --timeout <duration>
      Time each of the two sessions may take, redirects included. Default: 10s, as the Observatory.
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        'min-grade': { type: 'string' },
        'min-score': { type: 'string' },
        json: { type: 'boolean', default: false },
        'http-port': { type: 'string' },
        'https-port': { type: 'string' },
        ca: { type: 'string' },
        insecure: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        resolve: { type: 'string', multiple: true },
      },
    })
    try {
      if (positionals.length !== 1)
        throw new ShipshapeError(
          'SHIPSHAPE_E_USAGE',
          positionals.length === 0
            ? 'no URL or host name to scan'
            : `unexpected argument ${positionals[1]}: scan takes one URL or host name`,
        )
      const minGrade = values['min-grade']
      if (minGrade !== undefined && !grades.includes(minGrade))
        throw new ShipshapeError(
          'SHIPSHAPE_E_BAD_OPTION',
          `--min-grade ${minGrade}: expected one of ${grades.join(', ')}`,
        )
      const minScore = optionalNumber('--min-score', values['min-score'], Number.MAX_SAFE_INTEGER)
      const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout, 's')
      if (timeoutMs === undefined && values.timeout !== undefined)
        throw new ShipshapeError(
          'SHIPSHAPE_E_BAD_OPTION',
          `--timeout ${values.timeout}: expected a duration such as 10s`,
        )
      const report = await scanSite(positionals[0] as string, {
        httpPort: optionalNumber('--http-port', values['http-port'], 65535),
        httpsPort: optionalNumber('--https-port', values['https-port'], 65535),
        ca: readCaFile(values.ca),
        insecure: values.insecure,
        timeoutMs,
        resolve: parseResolve(values.resolve ?? []),
      })
      const meetsGrade = minGrade === undefined || gradeRank(report.grade) <= gradeRank(minGrade)
      const meets = meetsGrade && report.score >= (minScore ?? 0)
      process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : describeScan(report))
      if (!meets && !values.json)
        process.stdout.write(
          `\nBelow the threshold (${[minGrade && `grade ${minGrade}`, minScore !== undefined && `score ${minScore}`].filter(Boolean).join(', ')}).\n`,
        )
      return meets ? 0 : 1
    } catch (error) {
      if (!isShipshapeError(error)) throw error
      process.stderr.write(describeFailure('scan', error))
      return 2
    }
  },
}

/** The PEM file given to --ca; a file that cannot be read is a usage error, not a crash. */
export function readCaFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      `--ca: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`,
    )
  }
}

export function parseResolve(entries: string[]): Record<string, string> {
  const resolve: Record<string, string> = {}
  for (const entry of entries) {
    const match = /^([^:\s]+):(\S+)$/.exec(entry)
    if (!match)
      throw new ShipshapeError('SHIPSHAPE_E_BAD_OPTION', `--resolve: expected host:address, got ${entry}`)
    resolve[(match[1] as string).toLowerCase()] = match[2] as string
  }
  return resolve
}

/** Position in the grade table, best first: A+ is 0. */
function gradeRank(grade: string): number {
  return grades.indexOf(grade)
}

function optionalNumber(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!/^\d+$/.test(value) || number > max)
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      `${flag} ${value}: expected a whole number up to ${max}`,
    )
  return number
}

function describeScan(report: SiteScan): string {
  const width = Math.max(...testNames.map((name) => name.length))
  const lines = testNames.map((name) => {
    const test = report.tests[name]
    const modifier = test.scoreModifier > 0 ? `+${test.scoreModifier}` : String(test.scoreModifier)
    return `  ${test.pass ? '✓' : '✗'} ${name.padEnd(width)} ${modifier.padStart(4)}  ${test.result}\n      ${test.description}`
  })
  const { inline, blocked } = report.inlineScripts
  const hydration =
    blocked.length === 0
      ? `  ✓ inline scripts: ${inline} on the page, none blocked by its policy`
      : `  ✗ inline scripts: ${blocked.length} of ${inline} blocked by the page's policy (no nonce or hash): the page would not hydrate\n${blocked.map((text) => `      ${text}`).join('\n')}`
  return `shipshape scan ${report.url}
  Grade ${report.grade}   Score ${report.score}   Tests passed ${report.testsPassed}/${testNames.length}   (MDN HTTP Observatory, algorithm ${report.algorithmVersion})

${lines.join('\n')}
${hydration}
`
}
