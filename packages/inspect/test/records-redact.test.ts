// A secret split across the records of a streamed body (SSE events, JSON lines): each record alone
// holds no secret, the text a reader joins from them does.
import { describe, expect, it } from 'vitest'
import { buildMatcher, createRedactor, recordFraming, redactParts } from '../src/index.js'
import { SPECIAL, TOKEN } from './helpers.js'

const matcher = buildMatcher([
  { value: TOKEN, kind: 'credential:slack-bot' },
  { value: SPECIAL, kind: 'agent-token' },
])

/** Cuts `text` into `n` pieces of about the same length. */
function split(text: string, n: number): string[] {
  const size = Math.ceil(text.length / n)
  const out: string[] = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out
}

function openAiEvent(content: string, id = 'chatcmpl-9x'): string {
  return `data: ${JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    model: 'gpt-4o',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })}\n\n`
}

/** What an OpenAI client shows: the deltas joined. */
function joinedOpenAi(body: string): string {
  let text = ''
  for (const event of body.split('\n\n')) {
    const data = event
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n')
    if (data === '' || data === '[DONE]') continue
    text +=
      (JSON.parse(data) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ??
      ''
  }
  return text
}

/**
 * What a reader may see of `text` once redacted: each secret as `[REDACTED]`, after at most its
 * first three characters (a piece shorter than four bytes leaves without waiting: see MIN_HOLD).
 */
function redactedForm(text: string, secrets: readonly string[]): RegExp {
  const literal = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  let pattern = literal(text)
  for (const secret of secrets) {
    const heads = [0, 1, 2, 3].map((k) => literal(secret.slice(0, k))).join('|')
    pattern = pattern.split(literal(secret)).join(`(?:${heads})\\[REDACTED\\]`)
  }
  return new RegExp(`^${pattern}$`)
}

/** Streams `body` through a redactor in chunks of `size` bytes. */
function stream(body: string, framing: 'sse' | 'lines', size: number): { out: string; count: number } {
  const r = createRedactor(matcher, { records: framing })
  const bytes = Buffer.from(body, 'utf8')
  const out: Buffer[] = []
  for (let i = 0; i < bytes.length; i += size) out.push(r.push(bytes.subarray(i, i + size)))
  out.push(r.end())
  return { out: Buffer.concat(out).toString('utf8'), count: r.count }
}

describe('recordFraming', () => {
  it.each([
    ['text/event-stream', 'sse'],
    ['text/event-stream; charset=utf-8', 'sse'],
    ['Text/Event-Stream', 'sse'],
    ['application/x-ndjson', 'lines'],
    ['application/jsonl', 'lines'],
    ['application/json', null],
    ['text/plain', null],
    [undefined, null],
  ])('%s → %s', (type, framing) => {
    expect(recordFraming(type)).toBe(framing)
  })
})

describe('a secret split across SSE events', () => {
  const before = 'Sure, here is the key you asked for: '
  const after = ' (keep it safe).'
  const body = [
    openAiEvent(''),
    ...split(before, 3).map((p) => openAiEvent(p)),
    ...split(TOKEN, 4).map((p) => openAiEvent(p)),
    ...split(after, 2).map((p) => openAiEvent(p)),
    'data: [DONE]\n\n',
  ].join('')

  it('no event holds it, yet the joined text does (the premise)', () => {
    expect(body).not.toContain(TOKEN)
    expect(joinedOpenAi(body)).toBe(before + TOKEN + after)
  })

  it.each([1, 7, 64, 100_000])('is redacted from the joined text, chunks of %i bytes', (size) => {
    const { out, count } = stream(body, 'sse', size)
    expect(count).toBe(1)
    expect(joinedOpenAi(out)).toBe(`${before}[REDACTED]${after}`)
    // Every event is still there, ids and the [DONE] marker untouched.
    expect(out.split('\n\n').length).toBe(body.split('\n\n').length)
    expect(out).toContain('data: [DONE]\n\n')
    expect(out.match(/"id":"chatcmpl-9x"/g)?.length).toBe(body.match(/"id":"chatcmpl-9x"/g)?.length)
  })

  it('one character per event, with keep-alive comments, other fields and CRLF line ends', () => {
    const events = [...TOKEN].map(
      (c, i) =>
        `: ping\r\nevent: content_block_delta\r\nid: ${i}\r\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(c)}}}\r\n\r\n`,
    )
    const crlf = `event: message_start\r\ndata: {"type":"message_start"}\r\n\r\n${events.join('')}event: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n`
    const { out, count } = stream(crlf, 'sse', 13)
    expect(count).toBe(1)
    const texts = [...out.matchAll(/"text":("(?:[^"\\]|\\.)*")/g)].map(
      (m) => JSON.parse(m[1] as string) as string,
    )
    expect(texts.join('')).toMatch(redactedForm(TOKEN, [TOKEN]))
    expect(out).not.toContain(TOKEN)
    // The events keep their other lines and their line ends.
    expect(out.match(/: ping\r\nevent: content_block_delta\r\nid: \d+\r\ndata: /g)?.length).toBe(TOKEN.length)
    expect(out.endsWith('event: message_stop\r\ndata: {"type":"message_stop"}\r\n\r\n')).toBe(true)
  })

  it('in plain-text data lines', () => {
    const plain = `${split(TOKEN, 3)
      .map((p) => `data: ${p}\n\n`)
      .join('')}data: done\n\n`
    const { out, count } = stream(plain, 'sse', 5)
    expect(count).toBe(1)
    expect(out).toBe('data: [REDACTED]\n\ndata: \n\ndata: \n\ndata: done\n\n')
  })

  it('a secret with quotes, backslashes and non-ASCII, split inside its escapes', () => {
    const parts = split(SPECIAL, 5)
    const sse = parts.map((p) => openAiEvent(p)).join('')
    expect(sse).not.toContain(JSON.stringify(SPECIAL).slice(1, -1))
    const { out, count } = stream(sse, 'sse', 3)
    expect(count).toBe(1)
    expect(joinedOpenAi(out)).toBe('[REDACTED]')
  })

  it('leaves a stream without a secret byte for byte, each event as soon as it is complete', () => {
    const clean = [openAiEvent('Hello'), openAiEvent(' world'), ': comment\n\n', 'data: [DONE]\n\n'].join('')
    expect(stream(clean, 'sse', 5)).toEqual({ out: clean, count: 0 })
    const r = createRedactor(matcher, { records: 'sse' })
    const first = openAiEvent('Hello')
    expect(r.push(Buffer.from(first)).toString()).toBe(first)
  })

  it('holds an event that ends with the start of a secret until the next one tells', () => {
    const r = createRedactor(matcher, { records: 'sse' })
    const start = openAiEvent(`text ${TOKEN.slice(0, 6)}`)
    expect(r.push(Buffer.from(start)).length).toBe(0)
    const next = openAiEvent(' and not the rest.')
    expect(r.push(Buffer.from(next)).toString()).toBe(start + next)
    expect(r.count).toBe(0)
  })

  it('an event whose text ends in fewer than four bytes of a possible secret leaves at once', () => {
    const r = createRedactor(matcher, { records: 'sse' })
    for (const text of ['one', `say ${TOKEN.slice(0, 3)}`, 'p']) {
      const event = openAiEvent(text)
      expect(r.push(Buffer.from(event)).toString()).toBe(event)
    }
  })

  it('when a secret grows from such an end, at most its first three bytes have left', () => {
    const deltas = ['t', 'o', 'k', TOKEN.slice(3, 10), TOKEN.slice(10)]
    const r = createRedactor(matcher, { records: 'sse' })
    // One event per push, as a live stream delivers them.
    let out = deltas.map((d) => r.push(Buffer.from(openAiEvent(d))).toString()).join('')
    out += r.end().toString()
    expect(r.count).toBe(1)
    expect(joinedOpenAi(out)).toBe('tok[REDACTED]')
  })

  it('holds at most 64 records, however many places keep a possible start open', () => {
    const r = createRedactor(matcher, { records: 'sse' })
    let out = ''
    // Each event opens a new place (its own key) ending with the secret's first character.
    for (let i = 0; i < 100; i++)
      out += r.push(Buffer.from(`data: {"k${i}":"${TOKEN.slice(0, 6)}"}\n\n`)).toString()
    expect(out.split('\n\n').length - 1).toBe(100 - 64)
    out += r.end().toString()
    expect(out.split('\n\n').length - 1).toBe(100)
  })

  it('a record too long for a token stream passes as it is (nothing held without bound)', () => {
    const r = createRedactor(matcher, { records: 'sse' })
    const long = `data: ${'x'.repeat(70 * 1024)}`
    const out = r.push(Buffer.from(long))
    expect(out.length).toBe(long.length)
  })
})

describe('a secret split across JSON lines', () => {
  it('is redacted from the joined text, the other lines untouched', () => {
    const lines = [
      '{"model":"llama3","response":"The token is ","done":false}',
      ...split(TOKEN, 3).map((p) => JSON.stringify({ model: 'llama3', response: p, done: false })),
      '{"model":"llama3","response":".","done":true,"total_duration":12345}',
    ]
    const body = `${lines.join('\n')}\n`
    const { out, count } = stream(body, 'lines', 9)
    expect(count).toBe(1)
    const parsed = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { response: string })
    expect(parsed.map((l) => l.response).join('')).toBe('The token is [REDACTED].')
    expect(out.split('\n')[0]).toBe(lines[0])
    expect(out.trimEnd().split('\n').at(-1)).toBe(lines.at(-1))
  })
})

describe('redactParts with records', () => {
  it('redacts a secret split across the events of a small buffered body', () => {
    const body = split(TOKEN, 3)
      .map((p) => openAiEvent(p))
      .join('')
    const parts = [Buffer.from(body.slice(0, 50)), Buffer.from(body.slice(50))]
    expect(redactParts(parts, matcher)).toBeNull()
    const redacted = redactParts(parts, matcher, { records: 'sse' })
    expect(redacted?.count).toBe(1)
    expect(joinedOpenAi(redacted?.bytes.toString() ?? '')).toBe('[REDACTED]')
  })

  it('is null for a clean event stream', () => {
    expect(redactParts([Buffer.from(openAiEvent('hi'))], matcher, { records: 'sse' })).toBeNull()
  })
})

describe('random splits, random chunks', () => {
  /** A small seeded generator, so a failure can be replayed. */
  function random(seed: number): () => number {
    let s = seed >>> 0
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0
      return s / 2 ** 32
    }
  }

  it.each(Array.from({ length: 40 }, (_, i) => i + 1))(
    'trial %i: the joined text never holds the secret',
    (seed) => {
      const next = random(seed)
      const words = ['alpha ', 'beta ', 'gamma ', 'tok ', 'p@ ', 'delta. ']
      const say = (n: number) =>
        Array.from({ length: n }, () => words[Math.floor(next() * words.length)]).join('')
      const secret = next() < 0.5 ? TOKEN : SPECIAL
      const text = `${say(5)}${secret}${say(3)}${secret}${say(4)}`
      const deltas: string[] = []
      for (let i = 0; i < text.length; ) {
        const size = 1 + Math.floor(next() * 9)
        deltas.push(text.slice(i, i + size))
        i += size
      }
      const body = `${deltas.map((d) => openAiEvent(d)).join('')}data: [DONE]\n\n`
      const size = 1 + Math.floor(next() * 200)
      const { out, count } = stream(body, 'sse', size)
      expect(joinedOpenAi(out)).toMatch(redactedForm(text, [secret]))
      expect(joinedOpenAi(out)).not.toContain(secret)
      expect(count).toBe(2)
    },
  )
})
