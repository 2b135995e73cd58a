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
 * first three characters (a start that short holds no record back: see SHORT_START_BYTES).
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

  it('a record too long for a token stream passes as it is (nothing held without bound)', () => {
    const r = createRedactor(matcher, { records: 'sse' })
    const long = `data: ${'x'.repeat(70 * 1024)}`
    const out = r.push(Buffer.from(long))
    expect(out.length).toBe(long.length)
  })
})

describe('bounds on what is held do not let a split secret through', () => {
  const done = 'data: [DONE]\n\n'
  const perChar = (text: string) => [...text].map((c) => openAiEvent(c)).join('')

  it('a record too long to hold passes as it comes; the records after it are still joined', () => {
    const long = openAiEvent('x'.repeat(70 * 1024))
    const body = `${long}${perChar(`key ${TOKEN} end`)}${done}`
    // In 4 KiB chunks, the long event never arrives whole in one push.
    const { out, count } = stream(body, 'sse', 4096)
    expect(joinedOpenAi(out)).toBe(`${'x'.repeat(70 * 1024)}key [REDACTED] end`)
    expect(count).toBe(1)
  })

  it('a long record whose CRLF ends fall across chunks ends where it ends', () => {
    const long = `data: ${JSON.stringify({ choices: [{ delta: { content: 'y'.repeat(70 * 1024) } }] })}\r\n\r\n`
    const body = `${long}${perChar(TOKEN).replaceAll('\n', '\r\n')}`
    const r = createRedactor(matcher, { records: 'sse' })
    const bytes = Buffer.from(body)
    const cut = long.length - 3 // …}\r | \n\r\n
    const out = Buffer.concat([
      r.push(bytes.subarray(0, cut)),
      r.push(bytes.subarray(cut)),
      r.end(),
    ]).toString()
    expect(out.startsWith(long)).toBe(true)
    expect(joinedOpenAi(out.replaceAll('\r\n', '\n'))).toBe(`${'y'.repeat(70 * 1024)}[REDACTED]`)
  })

  it('an event that never ends passes as it comes, nothing held past the bound', () => {
    const r = createRedactor(matcher, { records: 'sse' })
    const piece = Buffer.from(`data: ${'z'.repeat(16 * 1024)}`)
    let passed = 0
    for (let i = 0; i < 64; i++) passed += r.push(piece).length
    expect(passed).toBeGreaterThan(63 * piece.length - 64 * 1024)
    expect(passed + r.end().length).toBe(64 * piece.length)
  })

  it('more held events than the bound between two halves: the start is cut, the rest still redacted', () => {
    const pings = ': ping\n\n'.repeat(300)
    const body = `${openAiEvent(`key ${TOKEN.slice(0, 10)}`)}${pings}${openAiEvent(`${TOKEN.slice(10)} end`)}${done}`
    const { out } = stream(body, 'sse', 64)
    const text = joinedOpenAi(out)
    expect(text).toBe('key [REDACTED][REDACTED] end')
    // Every event, in order.
    expect(out.split('\n\n').length).toBe(body.split('\n\n').length)
  })

  it('a start of a few bytes let out by the bound is ordinary text; the rest is redacted', () => {
    const pings = ': ping\n\n'.repeat(300)
    const body = `${openAiEvent(`yes ${TOKEN.slice(0, 3)}`)}${pings}${perChar(TOKEN.slice(3))}${done}`
    const { out, count } = stream(body, 'sse', 64)
    expect(joinedOpenAi(out)).toBe(`yes ${TOKEN.slice(0, 3)}[REDACTED]`)
    expect(count).toBe(1)
  })

  it('a short start let out by the bound that no secret follows changes nothing', () => {
    const pings = ': ping\n\n'.repeat(300)
    const body = `${openAiEvent(`hello ${TOKEN.slice(0, 1)}`)}${pings}${openAiEvent(' bye')}${done}`
    expect(stream(body, 'sse', 64).out).toBe(body)
  })
})

describe('a secret split the way an SDK joins, not field by field', () => {
  const sse = (value: unknown, event?: string) =>
    `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(value)}\n\n`

  it('OpenAI n=2: the choices interleave, each joined by its index', () => {
    const other = 'The other choice says something else entirely, at length.'
    let body = ''
    for (let i = 0; i < TOKEN.length; i++) {
      body += sse({ choices: [{ index: 0, delta: { content: TOKEN[i] } }] })
      body += sse({ choices: [{ index: 1, delta: { content: other[i] } }] })
    }
    const { out, count } = stream(body, 'sse', 50)
    const byIndex: Record<number, string> = {}
    for (const event of out.split('\n\n').filter(Boolean)) {
      const choice = (
        JSON.parse(event.slice(6)) as { choices: [{ index: number; delta: { content: string } }] }
      ).choices[0]
      byIndex[choice.index] = (byIndex[choice.index] ?? '') + choice.delta.content
    }
    expect(byIndex[0]).toMatch(redactedForm(TOKEN, [TOKEN]))
    expect(byIndex[1]).toBe(other.slice(0, TOKEN.length))
    expect(count).toBe(1)
  })

  it("Anthropic: the text of content_block_start, then the deltas' text", () => {
    const body = [
      sse({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: TOKEN.slice(0, 9) },
      }),
      sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: TOKEN.slice(9) } }),
      sse({ type: 'content_block_stop', index: 0 }),
    ].join('')
    const { out, count } = stream(body, 'sse', 30)
    const events = out
      .split('\n\n')
      .filter(Boolean)
      .map((e) => JSON.parse(e.slice(6)))
    expect(events[0].content_block.text + events[1].delta.text).toBe('[REDACTED]')
    expect(count).toBe(1)
  })

  it('Anthropic: the start in content_block_start, let out by the bound, the rest per delta', () => {
    const body = [
      sse({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: TOKEN.slice(0, 6) },
      }),
      ...Array.from({ length: 300 }, () => sse({ type: 'ping' }, 'ping')),
      ...[...TOKEN.slice(6)].map((c) =>
        sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: c } }),
      ),
    ].join('')
    const { out } = stream(body, 'sse', 100)
    const events = out
      .split('\n\n')
      .filter((e) => e.includes('text'))
      .map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)))
    const text = events.map((e) => e.content_block?.text ?? e.delta.text).join('')
    expect(text).toBe('[REDACTED][REDACTED]')
  })

  it('Gemini: the parts of one candidate, in one event', () => {
    const parts = split(TOKEN, 3).map((text) => ({ text }))
    const body = sse({ candidates: [{ content: { parts, role: 'model' }, index: 0 }] })
    const { out, count } = stream(body, 'sse', 1000)
    const got = JSON.parse(out.slice(6)) as { candidates: [{ content: { parts: Array<{ text: string }> } }] }
    expect(got.candidates[0].content.parts.map((p) => p.text).join('')).toBe('[REDACTED]')
    expect(count).toBe(1)
  })
})

describe('a string that is not a delta (an id, a model) holds nothing', () => {
  // The id ends with the first character of TOKEN: joined, "…-9xtchatcmpl-9xt…" always ends with it.
  const id = `chatcmpl-9x${TOKEN[0]}`

  it('each event leaves as soon as it is complete', () => {
    const r = createRedactor(matcher, { records: 'sse' })
    const events = ['', 'Hello', ' there', ', friend!', ' Bye.'].map((c) => openAiEvent(c, id))
    // The first event may wait for the second (its id is new there); none waits after that.
    const [first, second, ...rest] = events as [string, string, ...string[]]
    expect(r.push(Buffer.from(first)).toString() + r.push(Buffer.from(second)).toString()).toBe(
      first + second,
    )
    for (const event of rest) expect(r.push(Buffer.from(event)).toString()).toBe(event)
    expect(r.end().length).toBe(0)
  })

  /** JSON lines with one string in a field no LLM API streams text in; what a reader joins. */
  const notes = (pieces: string[]) => pieces.map((note) => `${JSON.stringify({ note })}\n`).join('')
  const joinedNotes = (out: string) =>
    out
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as { note: string }).note)
      .join('')

  it('a longer start in a repeated string holds it, and the secret is redacted whole', () => {
    const start = TOKEN.slice(0, 10)
    const { out } = stream(notes([start, start, ...TOKEN.slice(10)]), 'lines', 37)
    expect(joinedNotes(out)).toBe(`${start}[REDACTED]`)
  })

  it('a short start in a first or repeated string goes out as it is; the rest is redacted', () => {
    const start = TOKEN.slice(0, 1)
    const { out, count } = stream(notes([start, start, ...TOKEN.slice(1)]), 'lines', 37)
    expect(joinedNotes(out)).toBe(`${start}${start}[REDACTED]`)
    expect(count).toBe(1)
  })

  it('in a field LLM APIs stream text in too, a start of three bytes or fewer holds nothing', () => {
    const r = createRedactor(matcher, { records: 'sse' })
    // Each event leaves as it comes while the possible start is short (a token ending in `t`).
    for (const c of TOKEN.slice(0, 3)) {
      const event = openAiEvent(c)
      expect(r.push(Buffer.from(event)).toString()).toBe(event)
    }
    // A fourth byte of the secret's start holds; the rest of it is redacted.
    let out = ''
    for (const c of TOKEN.slice(3)) out += r.push(Buffer.from(openAiEvent(c))).toString()
    out += r.end().toString()
    expect(`${TOKEN.slice(0, 3)}${joinedOpenAi(out)}`).toBe(`${TOKEN.slice(0, 3)}[REDACTED]`)
    expect(r.count).toBe(1)
  })

  it('a field with a very long name (kept as a digest) is joined as any other', () => {
    const key = 'k'.repeat(5000)
    const body = [...TOKEN].map((c) => `${JSON.stringify({ [key]: c })}\n`).join('')
    const { out, count } = stream(body, 'lines', 4096)
    const joined = out
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as Record<string, string>)[key])
      .join('')
    // Not a field LLMs stream text in: its first, short start goes out (see the describe above).
    expect(joined).toMatch(redactedForm(TOKEN, [TOKEN]))
    expect(count).toBe(1)
  })

  it('fields flooded between two parts of a secret do not push its start out of memory', () => {
    const r = createRedactor(matcher, { records: 'lines' })
    const lines = [JSON.stringify({ note: TOKEN.slice(0, 1) })]
    for (let j = 0; j < 3; j++) {
      // 500 fresh fields, each ending with the secret's first character: 1000 starts to keep.
      lines.push(
        JSON.stringify(Object.fromEntries(Array.from({ length: 500 }, (_, k) => [`f${j}_${k}`, TOKEN[0]]))),
      )
    }
    for (const c of TOKEN.slice(1)) lines.push(JSON.stringify({ note: c }))
    const out = Buffer.concat([...lines.map((l) => r.push(Buffer.from(`${l}\n`))), r.end()]).toString()
    const notes = out
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as { note?: string }).note ?? '')
      .join('')
    expect(notes).not.toContain(TOKEN.slice(1))
    expect(notes).toMatch(/^t?\[REDACTED\]$/)
  })

  it('starts kept for fields that never come back cost the events after them nothing', () => {
    // A first event with 500 fields that each end with a secret's first character (1000 starts
    // kept), then ordinary events: each release used to revisit every kept start (20× slower).
    const timed = (flood: boolean) => {
      const r = createRedactor(matcher, { records: 'sse' })
      if (flood) {
        const fields = Object.fromEntries(Array.from({ length: 500 }, (_, k) => [`f${k}`, `x${TOKEN[0]}`]))
        r.push(Buffer.from(`data: ${JSON.stringify(fields)}\n\n`))
      }
      const start = performance.now()
      for (let i = 0; i < 3000; i++) r.push(Buffer.from(openAiEvent(` word${i}`)))
      return performance.now() - start
    }
    timed(true) // warm up
    const clean = Math.min(timed(false), timed(false))
    const flooded = Math.min(timed(true), timed(true))
    expect(flooded).toBeLessThan(clean * 5)
  })

  it("message_start's model, first and only of its channel, holds nothing after it", () => {
    const r = createRedactor(matcher, { records: 'lines' })
    const start = `${JSON.stringify({ type: 'message_start', message: { id: 'msg_1', model: `claude-${TOKEN[0]}` } })}\n`
    const next = `${JSON.stringify({ type: 'content_block_delta', delta: { text: 'Hello' } })}\n`
    expect(r.push(Buffer.from(start)).toString()).toBe(start)
    expect(r.push(Buffer.from(next)).toString()).toBe(next)
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
