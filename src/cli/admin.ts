import { isIP } from 'node:net'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import pg from 'pg'
import {
  type AdminRole,
  AuthStore,
  checkPasswordPolicy,
  closeRedis,
  connectRedis,
  hashPassword,
  type SessionStore,
  sessionStore,
  sessionsIn,
  signInKeys,
} from '../auth/index.js'
import { authOptions } from '../auth/settings.js'
import { configError } from '../config/index.js'
import { databaseOptions } from '../db/settings.js'
import { reachable } from '../db/tools.js'
import { ShipshapeError } from '../errors/index.js'
import { createLogger } from '../observe/index.js'
import { resolveShipshapeSettings } from '../server/index.js'
import type { Command } from '../types.js'

const actions = ['create', 'reset-password', 'reset-mfa', 'unlock', 'list', 'revoke-sessions'] as const
type Action = (typeof actions)[number]

export const command: Command = {
  help: `Usage: shipshape admin <action> [email|ip] [--role viewer|admin] [--config <file>]

The users of the areas shipshape protects (auth.protect, or protect() in your code): they live in
the database \`shipshape serve\` uses (DATABASE_URL, or the embedded one, started for the command
when no serve runs). Passwords are never arguments: on a terminal you are asked twice, without
echo; otherwise the first line of standard input is read (\`printf '%s\\n' "$PW" | shipshape admin
create ops@example.com\`). See docs/auth.md.

Actions:
  create <email>
      Adds a user. They set up two-factor authentication (TOTP) at their first sign-in when
      auth.mfa is required (the default). The password needs auth.minPasswordLength characters
      (12 by default) and must not be one of the 10,000 most common. --role viewer|admin: in the
      ops console (docs/console.md) a viewer reads every page, an admin also resolves, mutes
      and silences. Default admin.
  reset-password <email>
      Sets a new password; every session of the user ends.
  reset-mfa <email>
      Forgets the user's authenticator and recovery codes (a lost phone); they enrol again at
      their next sign-in. Their sessions end.
  unlock <email|ip>
      Lifts a lockout after failed sign-ins, for a user (and their MFA step) or a client address.
      Running servers apply it within 5 seconds.
  list
      Every user: MFA enrolled or not, recovery codes left, open sessions, created.
  revoke-sessions <email>
      Signs the user out everywhere.

Options:
  --config <file>
      The config file \`shipshape serve\` reads.
      env SHIPSHAPE_CONFIG; default the first of shipshape.{yaml,yml,json,toml} that exists
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { config: { type: 'string' }, role: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    })
    const [action, subject, ...rest] = positionals
    if (!actions.includes(action as Action) || rest.length > 0)
      throw new ShipshapeError('SHIPSHAPE_E_USAGE', `shipshape admin takes one of ${actions.join(', ')}`)
    if ((action === 'list') !== (subject === undefined))
      throw new ShipshapeError(
        'SHIPSHAPE_E_USAGE',
        `shipshape admin ${action} ${action === 'list' ? 'takes no argument' : `needs ${action === 'unlock' ? 'an email or an IP address' : 'an email'}`}`,
      )
    const role = values.role ?? 'admin'
    if (role !== 'admin' && role !== 'viewer')
      throw new ShipshapeError('SHIPSHAPE_E_USAGE', `--role is viewer or admin, not ${role}`)
    if (values.role !== undefined && action !== 'create')
      throw new ShipshapeError('SHIPSHAPE_E_USAGE', '--role goes with create only')
    if (subject !== undefined && action !== 'unlock' && !subject.includes('@'))
      throw new ShipshapeError('SHIPSHAPE_E_USAGE', `${subject} is not an email address`)
    const resolution = resolveShipshapeSettings({ configFile: values.config })
    const own = resolution.problems.filter((problem) => /^(database|server|auth|cache)\./.test(problem.key))
    if (own.length > 0 || resolution.values === undefined) throw configError(own, 'SHIPSHAPE_E_BAD_OPTION')
    const settings = resolution.values
    const { database } = databaseOptions(settings.database, process.cwd(), settings.server.timeout)
    const { auth } = authOptions(settings.auth)
    const logger = createLogger({ level: 'warn', buffered: false })
    // The password is asked before the database starts: a typo in it costs no start-up.
    const password =
      action === 'create' || action === 'reset-password'
        ? await newPassword(auth.minPasswordLength)
        : undefined
    return reachable(database, logger, async () => {
      const pool = new pg.Pool(
        database.url === ''
          ? { host: database.socketDir, user: 'postgres', database: 'postgres', max: 1 }
          : { connectionString: database.url, max: 1 },
      )
      // Sessions where serve keeps them (auth.sessions): in Redis, revoking them is done there.
      const { redisUrl, prefix } = settings.cache
      const inRedis = sessionsIn(auth.sessions, redisUrl) === 'redis' && redisUrl !== undefined
      const redis = inRedis ? await connectRedis(redisUrl) : undefined
      const users = new AuthStore(pool)
      const times = { idleMs: auth.idleTimeoutMs, absoluteMs: auth.absoluteTimeoutMs }
      try {
        const sessions = sessionStore(users, times, redis && { client: redis, prefix })
        const output = await act(
          users,
          sessions,
          action as Action,
          subject ?? '',
          password,
          role as AdminRole,
        )
        process.stdout.write(output)
        return 0
      } finally {
        await Promise.all([pool.end(), redis && closeRedis(redis)])
      }
    })
  },
}

async function act(
  store: AuthStore,
  sessions: SessionStore,
  action: Action,
  subject: string,
  password: string | undefined,
  role: AdminRole,
): Promise<string> {
  switch (action) {
    case 'create': {
      const user = await store.createUser(subject, await hashPassword(password as string), role)
      return `Created ${user.email} (${user.role}). They set up two-factor authentication at their first sign-in.\n`
    }
    case 'reset-password': {
      const user = await store.requireUser(subject)
      await store.setPassword(user.id, await hashPassword(password as string))
      await sessions.revokeAll(user.id) // wherever they live (the database's went with setPassword)
      return `New password set for ${user.email}; their sessions are ended.\n`
    }
    case 'reset-mfa': {
      const user = await store.requireUser(subject)
      await store.resetMfa(user.id)
      await sessions.revokeAll(user.id)
      return `Two-factor authentication reset for ${user.email}: they enrol again at their next sign-in.\n`
    }
    case 'unlock': {
      if (isIP(subject) !== 0) {
        await store.requestUnlock([`ip:${subject}`])
        return `Unlocked ${subject}; running servers apply it within 5 seconds.\n`
      }
      if (!subject.includes('@'))
        throw new ShipshapeError('SHIPSHAPE_E_USAGE', `${subject} is neither an email nor an IP address`)
      const user = await store.userByEmail(subject)
      // An unknown email may be locked too (the lockout does not tell accounts apart).
      const keys = signInKeys('', subject).filter((key) => key.startsWith('user:'))
      await store.requestUnlock(user ? [...keys, `mfa:${user.id}`] : keys)
      return `Unlocked ${subject.trim().toLowerCase()}; running servers apply it within 5 seconds.\n`
    }
    case 'revoke-sessions': {
      const user = await store.requireUser(subject)
      const count = await sessions.revokeAll(user.id)
      return `Ended ${count} session${count === 1 ? '' : 's'} of ${user.email}.\n`
    }
    case 'list': {
      const users = await store.listUsers()
      if (users.length === 0) return 'No admin users yet: `shipshape admin create <email>` adds one.\n'
      const lines = await Promise.all(
        users.map(
          async (user) =>
            `${user.email}  mfa: ${user.totpSecret ? `yes (${user.recoveryLeft} recovery codes left)` : 'NOT ENROLLED'}  sessions: ${await sessions.count(user)}  created: ${user.createdAt.toISOString().slice(0, 10)}  role: ${user.role}`,
        ),
      )
      return `${lines.join('\n')}\n`
    }
  }
}

/** The new password: twice without echo on a terminal, else the first line of standard input. */
async function newPassword(minLength: number): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = ''
    for await (const chunk of process.stdin) text += chunk
    const password = text.split(/\r?\n/)[0] ?? ''
    checkPasswordPolicy(password, minLength)
    return password
  }
  const terminal = hiddenPrompt()
  try {
    for (;;) {
      const first = await terminal.ask('New password: ')
      try {
        checkPasswordPolicy(first, minLength)
      } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`)
        continue
      }
      if ((await terminal.ask('Again: ')) === first) return first
      process.stderr.write('The two did not match; once more.\n')
    }
  } finally {
    terminal.close()
  }
}

/** Lines from the terminal, not echoed: one readline for every question, so no typed-ahead line is lost. */
function hiddenPrompt() {
  const output = process.stderr
  const lines = createInterface({ input: process.stdin, output, terminal: true })
  const write = output.write.bind(output)
  let prompt = ''
  // readline echoes each key through the output: everything but the prompt is dropped.
  ;(lines as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = (text) => {
    if (text.startsWith(prompt)) write(prompt)
  }
  return {
    ask(question: string): Promise<string> {
      prompt = question
      return new Promise((resolve) => {
        lines.question(question, (answer) => {
          write('\n')
          resolve(answer)
        })
      })
    },
    close: () => lines.close(),
  }
}
