/**
 * Well-known credential formats, as data. Each regex is written without flags so all of them can be
 * joined into one alternation (see format-scan.ts). Examples are synthetic, obviously fake tokens
 * assembled at load time, so no credential-shaped literal sits in the source.
 */
export interface CredentialFormat {
  /** Stable id; findings carry `format:<id>`. */
  readonly id: string
  readonly name: string
  readonly regex: RegExp
  /** A fake token in this format (for tests and docs). */
  readonly example: string
  /** Extra check on a regex match, for formats a regex alone cannot pin down. */
  readonly validate?: (match: string) => boolean
}

/** A case-insensitive spelling of `word` without the `i` flag (the alternation is shared). */
function anyCase(word: string): string {
  return [...word]
    .map((c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toUpperCase()}${c.toLowerCase()}]`))
    .join('')
}

/** `text` repeated (or cut) to exactly `length` characters. */
function fill(text: string, length: number): string {
  return text.repeat(Math.ceil(length / text.length)).slice(0, length)
}

const join = (...parts: string[]): string => parts.join('')

/** Characters that may not touch a token on either side (it would be part of a longer word). */
const NB = '(?<![A-Za-z0-9_-])'
const NA = '(?![A-Za-z0-9_-])'

function decodesToJwtHeader(match: string): boolean {
  const header = match.slice(0, match.indexOf('.'))
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))
    return (
      typeof parsed === 'object' && parsed !== null && typeof (parsed as { alg?: unknown }).alg === 'string'
    )
  } catch {
    return false
  }
}

/** Discord bot tokens start with the bot's numeric user id in base64. */
function startsWithUserId(match: string): boolean {
  const id = Buffer.from(match.slice(0, match.indexOf('.')), 'base64url').toString('latin1')
  return /^[0-9]{17,20}$/.test(id)
}

/** `secret_access_key` in any case, `_` optional (an `aws_` before it is not part of the match: faster). */
const awsSecretLabel = `${anyCase('secret')}_?${anyCase('access')}_?${anyCase('key')}`

export const FORMATS: readonly CredentialFormat[] = [
  {
    // Any Aegis agent token — the gate knows tokens only as hashes, so other agents' tokens are
    // recognised by their shape (the caller's own token is also matched in every encoding).
    id: 'aegis-agent-token',
    name: 'Aegis agent token',
    regex: new RegExp(`${NB}aegis_[A-Za-z0-9_-]{43}${NA}`),
    example: join('aeg', 'is_', fill('FAKEfake0000', 43)),
  },
  {
    // Aegis user tokens (`aegis_user_<id>_<secret><crc>`, guard's user-token.ts; older drafts
    // `aegis_usr_…`): longer than an agent token's 43 characters, so the shape above does not see
    // them. No boundary before: the prefix alone is distinctive, and a letter glued in front
    // (`xaegis_user_…`) must not hide one.
    id: 'aegis-user-token',
    name: 'Aegis user token',
    regex: new RegExp(`aegis_(?:usr|user)_[A-Za-z0-9_-]{20,}${NA}`),
    example: join('aeg', 'is_', 'user_', fill('FAKEfake', 8), '_', fill('FAKEfake0000', 49)),
  },
  {
    id: 'aws-access-key-id',
    name: 'AWS access key id',
    regex: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/,
    example: join('AK', 'IA', 'FAKEEXAMPLE00000'),
  },
  {
    id: 'aws-secret-key',
    name: 'AWS secret access key (after an aws_secret_access_key label)',
    regex: new RegExp(`${awsSecretLabel}["']?\\s{0,5}[:=]\\s{0,5}["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`),
    example: join('aws_secret_access_key', ' = ', fill('FAKE/fake+EXAMPLE0', 40)),
  },
  {
    id: 'github-token',
    name: 'GitHub token (classic: ghp_, gho_, ghu_, ghs_, ghr_)',
    regex: new RegExp(`${NB}gh[pousr]_[A-Za-z0-9]{36}${NA}`),
    example: join('gh', 'p_', fill('FAKEfake0000', 36)),
  },
  {
    id: 'github-fine-grained-token',
    name: 'GitHub fine-grained personal access token',
    regex: new RegExp(`${NB}github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}${NA}`),
    example: join('github', '_pat_', fill('FAKE0', 22), '_', fill('FAKEfake0', 59)),
  },
  {
    id: 'gitlab-token',
    name: 'GitLab personal access token',
    regex: new RegExp(`${NB}glpat-[A-Za-z0-9_-]{20,}`),
    example: join('gl', 'pat-', fill('FAKE-fake-', 20)),
  },
  {
    id: 'slack-token',
    name: 'Slack token (xoxb-, xoxp-, xoxa-, xoxs-, xoxr-)',
    regex: new RegExp(`${NB}xox[abprs]-(?:[0-9]+-){1,3}[A-Za-z0-9]{20,}`),
    example: join('xo', 'xb-', '000000000000-000000000000-', fill('FAKEfake', 24)),
  },
  {
    id: 'slack-webhook',
    name: 'Slack incoming webhook URL',
    regex: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{20,}/,
    example: join('https://hooks.', 'slack.com/services/', 'T00000000/B00000000/', fill('FAKEfake', 24)),
  },
  {
    id: 'stripe-key',
    name: 'Stripe secret or restricted key (sk_live_, rk_live_, sk_test_, rk_test_)',
    regex: new RegExp(`${NB}[sr]k_(?:live|test)_[A-Za-z0-9]{20,}`),
    example: join('sk', '_live_', fill('FAKEfake0000', 24)),
  },
  {
    id: 'openai-key',
    name: 'OpenAI API key (sk-proj-, sk-svcacct-, sk-admin-, legacy sk-…T3BlbkFJ…)',
    regex: new RegExp(
      `${NB}sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}${NA})`,
    ),
    example: join('sk', '-proj-', fill('FAKE-fake_0000', 48)),
  },
  {
    id: 'anthropic-key',
    name: 'Anthropic API key',
    regex: new RegExp(`${NB}sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,}`),
    example: join('sk', '-ant-', 'api03-', fill('FAKE-fake_0000', 93), 'AA'),
  },
  {
    id: 'google-api-key',
    name: 'Google API key',
    regex: new RegExp(`${NB}AIza[0-9A-Za-z_-]{35}${NA}`),
    example: join('AI', 'za', fill('FAKE_fake-0', 35)),
  },
  {
    id: 'private-key',
    name: 'Private key (PEM block)',
    regex: /-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/,
    example: join('-----BEGIN ', 'RSA ', 'PRIVATE KEY-----\nFAKEFAKEFAKE\n-----END RSA PRIVATE KEY-----'),
  },
  {
    id: 'jwt',
    name: 'JSON Web Token (header decodes to JSON with alg)',
    regex: new RegExp(`${NB}eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{16,}${NA}`),
    example: join(
      Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url'),
      '.',
      Buffer.from('{"sub":"fake-user","name":"FAKE"}').toString('base64url'),
      '.',
      fill('FAKEfakeSIGNATURE', 43),
    ),
    validate: decodesToJwtHeader,
  },
  {
    id: 'npm-token',
    name: 'npm access token',
    regex: new RegExp(`${NB}npm_[A-Za-z0-9]{36}${NA}`),
    example: join('np', 'm_', fill('FAKEfake0000', 36)),
  },
  {
    id: 'twilio-api-key',
    name: 'Twilio API key SID',
    regex: /(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])/,
    example: join('S', 'K', fill('0fa4e0fa4e', 32)),
  },
  {
    id: 'sendgrid-key',
    name: 'SendGrid API key',
    regex: new RegExp(`${NB}SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}${NA}`),
    example: join('S', 'G.', fill('FAKEfake00', 22), '.', fill('FAKEfake00', 43)),
  },
  {
    id: 'discord-bot-token',
    name: 'Discord bot token (base64 user id, timestamp, HMAC)',
    regex: new RegExp(`${NB}[MNO][A-Za-z0-9_-]{23,25}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,38}${NA}`),
    example: join(
      Buffer.from('100000000000000000').toString('base64url'),
      '.',
      'FAKEfk',
      '.',
      fill('FAKEfake_HMAC-', 38),
    ),
    validate: startsWithUserId,
  },
  {
    id: 'azure-storage-key',
    name: 'Azure storage account key (connection string)',
    regex: /AccountKey=[A-Za-z0-9+/]{86}==/,
    example: join(
      'DefaultEndpointsProtocol=https;AccountName=fake;Account',
      'Key=',
      fill('FAKE+fake/0', 86),
      '==',
    ),
  },
]
