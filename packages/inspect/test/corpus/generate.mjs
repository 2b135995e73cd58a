// Writes the false-positive corpus: ordinary API response bodies (GitHub-, Slack-, Stripe-like and
// generic), full of ids, hashes, UUIDs, ULIDs, timestamps, base64 images and file contents, and no
// credentials. Deterministic (seeded). Run: node test/corpus/generate.mjs
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'

let seed = 0x5eed1234
function rand() {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1))
const pick = (list) => list[Math.floor(rand() * list.length)]
const bytes = (n) => Buffer.from(Array.from({ length: n }, () => int(0, 255)))
const chars = (alphabet, n) => Array.from({ length: n }, () => pick(alphabet)).join('')
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const UPPER_NUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const hex = (n) =>
  bytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n)
const sha1 = () => hex(40)
const sha256 = () => createHash('sha256').update(bytes(16)).digest('hex')
const uuid = () => {
  const h = hex(32).split('')
  h[12] = '4'
  h[16] = pick(['8', '9', 'a', 'b'])
  const s = h.join('')
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
}
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const ulid = () => chars(CROCKFORD, 26).replace(/^./, '0')
let clock = Date.UTC(2026, 2, 1, 8, 0, 0)
const iso = () => {
  clock += int(1_000, 9_000_000)
  return new Date(clock).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
const epoch = () => Math.floor(clock / 1000)
const WORDS =
  'the quick brown fox jumps over lazy dog deploy release build test fix feature refactor cache latency request response token budget index query merge branch commit review docs update config service worker queue retry timeout metrics dashboard alert'.split(
    ' ',
  )
const sentence = (n) => Array.from({ length: n }, () => pick(WORDS)).join(' ')
const login = () =>
  `${pick(['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'])}-${int(1, 999)}`
const nodeId = (type, id) => Buffer.from(`0${type.length}:${type}${id}`).toString('base64').replace(/=+$/, '')

function png(size) {
  const header = Buffer.from([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
  ])
  return `data:image/png;base64,${Buffer.concat([header, bytes(size)]).toString('base64')}`
}

function user(id) {
  const l = login()
  return {
    login: l,
    id,
    node_id: nodeId('User', id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: `https://api.github.com/users/${l}`,
    html_url: `https://github.com/${l}`,
    type: 'User',
    site_admin: false,
  }
}

function githubRepos() {
  return Array.from({ length: 8 }, () => {
    const id = int(10_000_000, 900_000_000)
    const owner = user(int(1000, 90_000_000))
    const name = `${pick(WORDS)}-${pick(WORDS)}`
    return {
      id,
      node_id: nodeId('Repository', id),
      name,
      full_name: `${owner.login}/${name}`,
      private: false,
      owner,
      html_url: `https://github.com/${owner.login}/${name}`,
      description: sentence(8),
      fork: rand() < 0.2,
      created_at: iso(),
      updated_at: iso(),
      pushed_at: iso(),
      git_url: `git://github.com/${owner.login}/${name}.git`,
      clone_url: `https://github.com/${owner.login}/${name}.git`,
      size: int(10, 900000),
      stargazers_count: int(0, 50000),
      language: pick(['TypeScript', 'Go', 'Rust', 'Python', null]),
      topics: [pick(WORDS), pick(WORDS)],
      license: { key: 'mit', name: 'MIT License', spdx_id: 'MIT', node_id: 'MDc6TGljZW5zZTEz' },
      default_branch: 'main',
    }
  })
}

function githubCommits() {
  return Array.from({ length: 10 }, () => {
    const sha = sha1()
    return {
      sha,
      node_id: nodeId('Commit', sha.slice(0, 12)),
      commit: {
        author: { name: login(), email: `${login()}@users.noreply.github.com`, date: iso() },
        message: `${pick(['fix', 'feat', 'chore', 'docs'])}: ${sentence(6)}\n\n${sentence(20)}`,
        tree: { sha: sha1(), url: `https://api.github.com/repos/o/r/git/trees/${sha1()}` },
        comment_count: int(0, 5),
        verification: {
          verified: true,
          reason: 'valid',
          signature: `-----BEGIN PGP SIGNATURE-----\n\n${bytes(300)
            .toString('base64')
            .replace(/(.{64})/g, '$1\n')}\n=${chars(ALNUM, 4)}\n-----END PGP SIGNATURE-----\n`,
          payload: `tree ${sha1()}\nparent ${sha1()}\nauthor ${login()} ${epoch()} +0100\n\n${sentence(5)}\n`,
        },
      },
      url: `https://api.github.com/repos/o/r/commits/${sha}`,
      parents: [{ sha: sha1() }],
      stats: { total: int(1, 500), additions: int(0, 400), deletions: int(0, 100) },
      files: [
        {
          sha: sha1(),
          filename: `src/${pick(WORDS)}.ts`,
          status: 'modified',
          patch: `@@ -1,3 +1,4 @@\n-${sentence(4)}\n+${sentence(5)}`,
        },
      ],
    }
  })
}

function githubContents() {
  const source = JSON.stringify(
    {
      name: `@scope/${pick(WORDS)}`,
      version: `${int(0, 9)}.${int(0, 20)}.${int(0, 9)}`,
      dependencies: { lodash: '^4.17.21' },
      description: sentence(10),
    },
    null,
    2,
  )
  const text = `${source}\n// ${sentence(40)}\n`.repeat(int(3, 12))
  return {
    type: 'file',
    encoding: 'base64',
    size: text.length,
    name: 'package.json',
    path: 'package.json',
    content: Buffer.from(text)
      .toString('base64')
      .replace(/(.{60})/g, '$1\n'),
    sha: sha1(),
    url: 'https://api.github.com/repos/o/r/contents/package.json?ref=main',
    git_url: `https://api.github.com/repos/o/r/git/blobs/${sha1()}`,
    _links: { self: 'https://api.github.com/repos/o/r/contents/package.json?ref=main' },
    inline: Buffer.from(JSON.stringify({ a: sentence(3), b: int(0, 99) })).toString('base64'),
  }
}

function githubIssues() {
  return Array.from({ length: 12 }, () => ({
    id: int(1_000_000, 3_000_000_000),
    node_id: `I_kwDO${chars(ALNUM, 16)}`,
    number: int(1, 9000),
    title: sentence(7),
    user: user(int(1000, 90_000_000)),
    labels: [{ id: int(1, 9e9), name: pick(WORDS), color: hex(6), default: false }],
    state: pick(['open', 'closed']),
    body: `## ${sentence(3)}\n\n\`\`\`ts\nconst id = '${uuid()}'\nconst digest = 'sha256:${sha256()}'\n\`\`\`\n\n${sentence(30)}`,
    reactions: { total_count: int(0, 20), '+1': int(0, 10), heart: int(0, 3) },
    created_at: iso(),
    closed_at: rand() < 0.5 ? iso() : null,
    performed_via_github_app: null,
  }))
}

function slackHistory() {
  return {
    ok: true,
    messages: Array.from({ length: 20 }, () => {
      const ts = `${epoch()}.${String(int(0, 999999)).padStart(6, '0')}`
      return {
        type: 'message',
        user: `U${chars(UPPER_NUM, 10)}`,
        text: `${sentence(12)} <@U${chars(UPPER_NUM, 10)}>`,
        ts,
        client_msg_id: uuid(),
        team: `T${chars(UPPER_NUM, 10)}`,
        blocks: [
          {
            type: 'rich_text',
            block_id: chars(ALNUM, 5),
            elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: sentence(6) }] }],
          },
        ],
        thread_ts: rand() < 0.3 ? ts : undefined,
        files:
          rand() < 0.2
            ? [
                {
                  id: `F${chars(UPPER_NUM, 10)}`,
                  name: 'image.png',
                  mimetype: 'image/png',
                  url_private: `https://files.slack.com/files-pri/T${chars(UPPER_NUM, 10)}-F${chars(UPPER_NUM, 10)}/image.png`,
                  permalink: `https://acme.slack.com/files/U${chars(UPPER_NUM, 10)}/F${chars(UPPER_NUM, 10)}/image.png`,
                  thumb_64: `https://files.slack.com/files-tmb/T${chars(UPPER_NUM, 10)}-F${chars(UPPER_NUM, 10)}-${hex(10)}/image_64.png`,
                },
              ]
            : undefined,
      }
    }),
    has_more: true,
    pin_count: 0,
    response_metadata: {
      next_cursor: Buffer.from(`next_ts:${epoch()}${int(100000, 999999)}`).toString('base64'),
    },
  }
}

function slackUsers() {
  return {
    ok: true,
    members: Array.from({ length: 15 }, () => ({
      id: `U${chars(UPPER_NUM, 10)}`,
      team_id: `T${chars(UPPER_NUM, 10)}`,
      name: login(),
      deleted: false,
      color: hex(6),
      tz: pick(['Europe/Berlin', 'America/New_York', 'Asia/Tokyo']),
      tz_offset: pick([3600, -18000, 32400]),
      profile: {
        avatar_hash: hex(12),
        status_text: sentence(2),
        status_emoji: ':coffee:',
        real_name: login(),
        email: `${login()}@example.com`,
        image_72: `https://avatars.slack-edge.com/2026-01-01/${int(1e11, 9e11)}_${hex(20)}_72.jpg`,
        image_192: `https://secure.gravatar.com/avatar/${hex(32)}.jpg?s=192&d=https%3A%2F%2Fa.slack-edge.com%2Fdf10d%2Fimg%2Favatars%2Fava_0010-192.png`,
      },
      is_admin: rand() < 0.1,
      updated: epoch(),
    })),
    cache_ts: epoch(),
  }
}

function stripeCharges() {
  return {
    object: 'list',
    url: '/v1/charges',
    has_more: true,
    data: Array.from({ length: 8 }, () => {
      const id = `ch_3${chars(ALNUM, 23)}`
      return {
        id,
        object: 'charge',
        amount: int(100, 100000),
        amount_captured: int(100, 100000),
        balance_transaction: `txn_3${chars(ALNUM, 23)}`,
        billing_details: {
          address: { city: 'Berlin', country: 'DE', postal_code: '10115' },
          email: null,
          name: login(),
        },
        captured: true,
        created: epoch(),
        currency: 'eur',
        customer: `cus_${chars(ALNUM, 14)}`,
        livemode: false,
        metadata: { order_id: ulid(), trace: uuid() },
        payment_intent: `pi_3${chars(ALNUM, 23)}`,
        payment_method: `pm_1${chars(ALNUM, 23)}`,
        payment_method_details: {
          card: {
            brand: 'visa',
            exp_month: int(1, 12),
            exp_year: 2030,
            fingerprint: chars(ALNUM, 16),
            last4: '4242',
            network: 'visa',
          },
          type: 'card',
        },
        receipt_url: `https://pay.stripe.com/receipts/payment/${chars(ALNUM, 60)}`,
        status: 'succeeded',
      }
    }),
  }
}

function stripeInvoices() {
  return {
    object: 'list',
    data: Array.from({ length: 5 }, () => ({
      id: `in_1${chars(ALNUM, 23)}`,
      object: 'invoice',
      account_country: 'DE',
      amount_due: int(0, 90000),
      customer: `cus_${chars(ALNUM, 14)}`,
      hosted_invoice_url: `https://invoice.stripe.com/i/acct_1${chars(ALNUM, 15)}/test_${Buffer.from(`acct_1${chars(ALNUM, 15)},${chars(ALNUM, 40)}`).toString('base64url')}?s=ap`,
      invoice_pdf: `https://pay.stripe.com/invoice/acct_1${chars(ALNUM, 15)}/test_${chars(ALNUM, 60)}/pdf?s=ap`,
      lines: {
        object: 'list',
        data: [
          {
            id: `il_1${chars(ALNUM, 23)}`,
            price: { id: `price_1${chars(ALNUM, 23)}`, product: `prod_${chars(ALNUM, 14)}` },
          },
        ],
      },
      number: `${chars(UPPER_NUM, 8)}-${String(int(1, 9999)).padStart(4, '0')}`,
      status: 'paid',
      period_start: epoch(),
    })),
  }
}

function media() {
  return {
    items: Array.from({ length: 3 }, () => ({
      id: uuid(),
      kind: 'thumbnail',
      sha256: sha256(),
      etag: `"${hex(32)}"`,
      data: png(int(2000, 9000)),
      created_at: iso(),
    })),
  }
}

function events() {
  return {
    events: Array.from({ length: 40 }, () => ({
      id: ulid(),
      request_id: uuid(),
      at: iso(),
      at_ms: clock,
      trace_id: hex(32),
      span_id: hex(16),
      image: `registry.example.com/${pick(WORDS)}@sha256:${sha256()}`,
      commit: sha1(),
      tree_sha256: sha256(),
      integrity: `sha512-${bytes(64).toString('base64')}`,
      checksum: { md5: hex(32), crc32c: bytes(4).toString('base64') },
      version: `${int(0, 9)}.${int(0, 30)}.${int(0, 9)}-rc.${int(1, 9)}`,
      message: sentence(10),
      user_agent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
      ip: `${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
      ipv6: `2001:db8:${hex(4)}:${hex(4)}::${hex(4)}`,
    })),
    next: `/v1/events?cursor=${encodeURIComponent(Buffer.from(JSON.stringify({ after: ulid() })).toString('base64'))}`,
  }
}

function jwks() {
  return {
    keys: Array.from({ length: 2 }, () => ({
      kty: 'RSA',
      use: 'sig',
      alg: 'RS256',
      kid: hex(40),
      n: bytes(256).toString('base64url'),
      e: 'AQAB',
      x5t: bytes(20).toString('base64url'),
    })),
    openid: {
      issuer: 'https://login.example.com',
      jwks_uri: 'https://login.example.com/.well-known/jwks.json',
    },
  }
}

const generators = [
  ['github-repos', githubRepos, 6],
  ['github-commits', githubCommits, 6],
  ['github-contents', githubContents, 5],
  ['github-issues', githubIssues, 5],
  ['slack-history', slackHistory, 6],
  ['slack-users', slackUsers, 4],
  ['stripe-charges', stripeCharges, 6],
  ['stripe-invoices', stripeInvoices, 4],
  ['media', media, 5],
  ['events', events, 6],
  ['jwks', jwks, 2],
]
const dir = new URL('.', import.meta.url)
let total = 0
let files = 0
for (const [name, make, count] of generators) {
  for (let i = 1; i <= count; i++) {
    const body = `${JSON.stringify(make(), null, i % 2 === 0 ? 2 : 0)}\n`
    writeFileSync(new URL(`${name}-${i}.body`, dir), body)
    total += body.length
    files++
  }
}
process.stdout.write(`${files} bodies, ${total} bytes\n`)
