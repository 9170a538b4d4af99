/** Checks that the live page's own scripts can run under its policy (frameworks hydrate from inline scripts). */
import { type DeployCheck, Skip } from './types.js'

export const inlineScriptsAllowed: DeployCheck = {
  id: 'inline-scripts',
  subject: 'hydration',
  severity: 'error',
  title: "The page's inline scripts run under its Content-Security-Policy",
  fix: "Give each inline script the request's nonce (cspNonce(); for each framework, docs/frameworks.md) or list its hash; a framework with a policy of its own (SvelteKit's csp) nonces its scripts once that policy is set.",
  run: (context) => {
    const scripts = context.site?.scan.inlineScripts
    if (scripts === undefined) return new Skip('needs --url: only a served page shows its inline scripts')
    return scripts.blocked.map(
      (text) =>
        `the live page's inline script "${text}" has no nonce or hash its policy allows: the page would not hydrate`,
    )
  },
}
