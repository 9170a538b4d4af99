/**
 * The MDN HTTP Observatory's grader: runs every test on a retrieval, adds up the score modifiers
 * (bonuses only when the penalties leave at least 90) and looks up the grade. What differs from
 * the Observatory, and why, is listed in docs/security.md (section "shipshape scan").
 */
import type { HtmlTag } from './_html-tags.js'
import { inlineScripts } from './_hydration.js'
import { readHttpEquiv } from './_responses.js'
import { cookiesTest } from './tests/cookies.js'
import { crossOriginResourceSharingTest } from './tests/cors.js'
import { crossOriginResourcePolicyTest } from './tests/cross-origin-resource-policy.js'
import { contentSecurityPolicyTest } from './tests/csp.js'
import { redirectionTest } from './tests/redirection.js'
import { referrerPolicyTest } from './tests/referrer-policy.js'
import { strictTransportSecurityTest } from './tests/strict-transport-security.js'
import { subresourceIntegrityTest } from './tests/subresource-integrity.js'
import { xContentTypeOptionsTest } from './tests/x-content-type-options.js'
import { xFrameOptionsTest } from './tests/x-frame-options.js'
import type { Retrieval, ScanReport, TestName, TestResult } from './types.js'

/** The grade for a score, from the Observatory's table (scores above 100 are A+). */
const gradeChart: ReadonlyArray<readonly [number, string]> = [
  [100, 'A+'],
  [90, 'A'],
  [85, 'A-'],
  [80, 'B+'],
  [70, 'B'],
  [65, 'B-'],
  [60, 'C+'],
  [50, 'C'],
  [45, 'C-'],
  [40, 'D+'],
  [30, 'D'],
  [25, 'D-'],
  [0, 'F'],
]

/** Bonuses count only when the score without them (penalties alone) is already at least this. */
const minimumScoreForExtraCredit = 90

export const grades = gradeChart.map(([, grade]) => grade)

/** The grade for a score: the score floored at 0, then the table entry at its multiple of 5. */
export function gradeForScore(rawScore: number): { score: number; grade: string } {
  const score = Math.max(rawScore, 0)
  const key = Math.min(score - (score % 5), 100)
  const grade = gradeChart.find(([floor]) => key >= floor)?.[1] ?? 'F'
  return { score, grade }
}

/** Runs every test on a retrieval and grades it. */
export function grade(retrieval: Retrieval, tags: readonly HtmlTag[]): ScanReport {
  const equiv = readHttpEquiv(retrieval, tags)
  const csp = contentSecurityPolicyTest(retrieval, equiv)
  const hsts = strictTransportSecurityTest(retrieval)
  const results: TestResult[] = [
    csp,
    cookiesTest(retrieval, hsts),
    crossOriginResourceSharingTest(retrieval),
    redirectionTest(retrieval),
    referrerPolicyTest(retrieval, equiv),
    hsts,
    subresourceIntegrityTest(retrieval, tags),
    xContentTypeOptionsTest(retrieval),
    xFrameOptionsTest(retrieval, csp),
    crossOriginResourcePolicyTest(retrieval),
  ]
  let withExtraCredit = 100
  let penaltiesOnly = 100
  for (const test of results) {
    withExtraCredit += test.scoreModifier
    if (test.scoreModifier < 0) penaltiesOnly += test.scoreModifier
  }
  const { score, grade } = gradeForScore(
    penaltiesOnly >= minimumScoreForExtraCredit ? withExtraCredit : penaltiesOnly,
  )
  const testsPassed = results.filter((test) => test.pass).length
  return {
    algorithmVersion: 4,
    grade,
    score,
    statusCode: retrieval.auto?.status ?? null,
    testsPassed,
    testsFailed: results.length - testsPassed,
    tests: Object.fromEntries(results.map((test) => [test.name, test])) as Record<TestName, TestResult>,
    inlineScripts: inlineScripts(retrieval, tags),
  }
}
