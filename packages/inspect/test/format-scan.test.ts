import { describe, expect, it } from 'vitest'
import { FORMATS, scanFormats } from '../src/index.js'

/**
 * `scanFormats` only runs the formats whose anchor the text holds. That is an optimisation, never a
 * filter: its hits must equal those of the one alternation of every format (the scan as it was),
 * on texts built to put every format, and everything that merely looks like its start, next to
 * everything else.
 */
function referenceScan(text: string): Array<{ kind: string; index: number; length: number }> {
  const re = new RegExp(FORMATS.map((f) => `(${f.regex.source})`).join('|'), 'g')
  const hits = []
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const format = FORMATS[m.findIndex((g, i) => i > 0 && g !== undefined) - 1]
    if (format !== undefined && (format.validate === undefined || format.validate(m[0]))) {
      hits.push({ kind: `format:${format.id}`, index: m.index, length: m[0].length })
    } else {
      re.lastIndex = m.index + 1
    }
  }
  return hits
}

/** Deterministic: the same texts on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NEAR_MISSES = [
  'sk-',
  'sk-ant-',
  'SK',
  'SK0123456789abcdef',
  'AKIA',
  'ASIA12',
  'aegis_',
  'aegis_usr_',
  'ghp_',
  'github_pat_',
  'glpat-',
  'xoxb-',
  'xoxb-123-',
  'https://hooks.slack.com/services/T',
  'sk_live_',
  'rk_test_',
  'AIza',
  '-----BEGIN ',
  '-----BEGIN RSA PRIVATE KEY-----',
  'eyJ',
  'eyJhbGciOiJIUzI1NiJ9.',
  'npm_',
  'SG.',
  '.abcdef.',
  'M.abcdef.',
  'AccountKey=',
  'secret_access_key=',
  'SECRET_ACCESS_KEY: ',
  'SeCrEtAcCeSsKeY="',
  'aws_secret_access_key = ',
]
const FILLER = [' ', '"', ':', ',', '=', '.', '/', '-', '_', '\n', 'a', 'Z', '0', 'é', '{"id":1,"name":"x"}']
const b64url = (text: string) => Buffer.from(text).toString('base64url')
const EXAMPLES = [
  ...FORMATS.map((f) => f.example),
  // A JWT whose header does not start with "alg" (assembled here: no token-shaped literal).
  [b64url('{"typ":"JWT","alg":"HS256"}'), b64url('{"sub":"42"}'), 'c2lnbmF0dXJlLW9mLWEtZmFrZS10b2tlbg'].join(
    '.',
  ),
  // The other spellings a format allows where its example shows one.
  ...FORMATS.filter((f) => f.id === 'aws-access-key-id').map((f) => `ASIA${f.example.slice(4)}`),
  ...FORMATS.filter((f) => f.id === 'openai-key').flatMap((f) => [
    f.example.replace('-proj-', '-svcacct-'),
    f.example.replace('-proj-', '-admin-'),
    ['sk', '-', 'Fake0'.repeat(4), 'T3BlbkFJ', 'fAKE1'.repeat(4)].join(''),
  ]),
  ...FORMATS.filter((f) => f.id === 'anthropic-key').map((f) => f.example.replace('-api03-', '-admin01-')),
  ...FORMATS.filter((f) => f.id === 'stripe-key').map(
    (f) => `r${f.example.slice(1).replace('_live_', '_test_')}`,
  ),
]

/** The example with characters past its first two swapped for others of their class. */
function variant(example: string, random: () => number): string {
  const classes = ['0123456789', 'abcdef', 'ghijklmnopqrstuvwxyz', 'ABCDEF', 'GHIJKLMNOPQRSTUVWXYZ']
  // Mostly few changes (the format's structure survives), sometimes many.
  const rate = random() < 0.5 ? 0.05 : 0.5
  let out = example.slice(0, 2)
  for (const c of example.slice(2)) {
    const cls = classes.find((k) => k.includes(c))
    out += cls !== undefined && random() < rate ? (cls[Math.floor(random() * cls.length)] as string) : c
  }
  return out
}

function generated(random: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  let text = ''
  const parts = 1 + Math.floor(random() * 12)
  for (let i = 0; i < parts; i++) {
    const r = random()
    if (r < 0.2) text += pick(EXAMPLES)
    else if (r < 0.3) text += variant(pick(EXAMPLES), random)
    else if (r < 0.65) text += pick(NEAR_MISSES)
    else if (r < 0.8) text += pick(NEAR_MISSES) + pick(EXAMPLES).slice(Math.floor(random() * 12))
    else text += pick(FILLER).repeat(1 + Math.floor(random() * 3))
  }
  return text
}

describe('scanFormats with anchors', () => {
  it('finds every format on its own, in a string and in bytes', () => {
    for (const format of FORMATS) {
      const text = `{"value": "${format.example}"}`
      expect(scanFormats(text).map((h) => h.kind)).toContain(`format:${format.id}`)
      expect(scanFormats(Buffer.from(text, 'latin1')).map((h) => h.kind)).toContain(`format:${format.id}`)
    }
  })

  it('finds exactly what the scan of every format finds, over 20,000 generated texts', () => {
    const random = prng(18)
    for (let i = 0; i < 20_000; i++) {
      const text = generated(random)
      const expected = referenceScan(text)
      const got = scanFormats(text)
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        // The text is synthetic (formats.ts examples): safe to show.
        expect({ text, got }).toEqual({ text, expected })
      }
    }
  })

  it('finds the AWS label from any of its k, in any case, and past its budget of k through the regex', () => {
    const aws = FORMATS.find((f) => f.id === 'aws-secret-key')?.example as string
    const value = aws.slice(aws.indexOf('=') + 1)
    const labels = [
      'secret_access_key',
      'SECRET_ACCESS_KEY',
      'SecretAccessKey',
      'sEcReT_aCcEsSkEy',
      'secretaccess_key',
    ]
    const misses = [
      'secret-access-key',
      'secret__access_key',
      'secret_access_ke',
      'ecret_access_key',
      'secret_access_\u212aey',
    ]
    // Before the label: no k at all, a few (checked one by one), far more than one per 256 characters
    // (the regex decides), and k-like letters that are not k.
    const before = [
      '',
      'x',
      'kk kK key ',
      'k'.repeat(5000),
      'K'.repeat(300) + 'a'.repeat(20),
      'keys: '.repeat(900),
    ]
    for (const prefix of before) {
      for (const label of [...labels, ...misses]) {
        for (const text of [
          `${prefix}${label}=${value}`,
          `${prefix}${label}`,
          `${label}=${value}${prefix}`,
        ]) {
          const got = scanFormats(text)
          const expected = referenceScan(text)
          if (JSON.stringify(got) !== JSON.stringify(expected))
            expect({ text, got }).toEqual({ text, expected })
        }
      }
    }
    // The control: each label does make the format match.
    for (const label of labels)
      expect(scanFormats(`${label}=${value}`).map((h) => h.kind)).toContain('format:aws-secret-key')
  })

  it('finds nothing, quickly decided, in text that holds no anchor', () => {
    expect(scanFormats(`{"text":"${'a'.repeat(16_384)}"}`)).toEqual([])
    expect(scanFormats(new Uint8Array(4096))).toEqual([])
  })
})
