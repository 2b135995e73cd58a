import { describe, expect, it } from 'vitest'
import {
  buildMatcher,
  createRedactor,
  recordFraming,
  redactBuffer,
  redactParts,
  redactText,
} from '../src/index.js'

const SECRET = 'sk-quirk-0123456789abcdefXYZ'
const matcher = buildMatcher([{ value: SECRET, kind: 'credential:quirk' }])

/** Every way a body reaches the agent: whole, in parts, streamed in one chunk and byte by byte. */
function everyWay(body: Buffer): Buffer[] {
  const streamed = (size: number) => {
    const r = createRedactor(matcher)
    const out: Buffer[] = []
    for (let at = 0; at < body.length; at += size) out.push(r.push(body.subarray(at, at + size)))
    out.push(r.end())
    return Buffer.concat(out)
  }
  const half = body.length >> 1
  const parts = redactParts([body.subarray(0, half), body.subarray(half)], matcher)
  return [
    redactBuffer(body, matcher).bytes,
    parts === null ? body : parts.bytes,
    streamed(body.length),
    streamed(1),
    streamed(7),
  ]
}

describe('a body that ends inside a secret', () => {
  for (let kept = 8; kept < SECRET.length; kept++) {
    it(`the first ${kept} characters at the very end are redacted, whatever the chunking`, () => {
      const body = Buffer.from(`{"echo":"${SECRET.slice(0, kept)}`)
      for (const out of everyWay(body)) expect(out.toString()).toBe('{"echo":"[REDACTED]')
    })
  }

  it('also in an encoded form (base64, hex, percent)', () => {
    const forms = [
      Buffer.from(SECRET).toString('base64').slice(0, 24),
      Buffer.from(SECRET).toString('hex').slice(0, 30).toUpperCase(),
      encodeURIComponent(SECRET).slice(0, 15),
    ]
    for (const form of forms) {
      for (const out of everyWay(Buffer.from(`x=${form}`))) expect(out.toString()).toBe('x=[REDACTED]')
    }
  })

  it('also when some of its characters are escaped (JSON, percent, HTML; quoted-printable in MIME)', () => {
    const forms = [
      'sk\\u002dquirk\\u002d0123456', // JSON, as ASP.NET Core writes `-`
      'sk%2Dquirk-01234',
      'sk-quirk&#45;0123',
    ]
    for (const form of forms) {
      for (const out of everyWay(Buffer.from(`x=${form}`))) expect(out.toString()).toBe('x=[REDACTED]')
    }
    const mime = buildMatcher([{ value: 'qp-secret-0123456789/+==', kind: 'credential:qp' }])
    const body = Buffer.from('key: qp-secret-0123456789/+=3D=\r\n')
    const r = createRedactor(mime, { quotedPrintable: true })
    const out = Buffer.concat([r.push(body), r.end()]).toString()
    expect(out).toBe('key: [REDACTED]')
    expect(redactBuffer(body, mime, { quotedPrintable: true }).bytes.toString()).toBe('key: [REDACTED]')
  })

  it('a header value that ends in it (redactText, its fast path included)', () => {
    expect(redactText(`https://x.test/cb?key=${SECRET.slice(0, 15)}`, matcher)).toMatchObject({
      text: 'https://x.test/cb?key=[REDACTED]',
      count: 1,
    })
    expect(redactText('https://x.test/cb?key=sk-quir', matcher).count).toBe(0)
  })

  it('under 8 characters is left as it is (a public prefix such as `sk-quir`)', () => {
    const body = Buffer.from(`keys look like ${SECRET.slice(0, 7)}`)
    for (const out of everyWay(body)) expect(out.toString()).toBe(body.toString())
  })

  it('only at the end: a secret start followed by other text is not a cut-off secret', () => {
    const body = Buffer.from(`${SECRET.slice(0, 12)} and more`)
    for (const out of everyWay(body)) expect(out.toString()).toBe(body.toString())
  })

  it('a whole secret then its start: both go, as one run when adjacent', () => {
    const body = Buffer.from(`${SECRET} ${SECRET.slice(0, 20)}`)
    for (const out of everyWay(body)) expect(out.toString()).toBe('[REDACTED] [REDACTED]')
  })

  it('an LLM stream that stops inside a secret split across events: the start it sent is cut', () => {
    const events = ['sk-qu', 'irk-01', '2345'].map((d) => `data: {"delta":"${d}"}\n\n`).join('')
    const r = createRedactor(matcher, { records: recordFraming('text/event-stream') })
    const out = Buffer.concat([r.push(Buffer.from(events)), r.end()]).toString()
    expect(out).not.toMatch(/irk-01|2345/)
    expect(out).toContain('[REDACTED]')
    expect(r.count).toBeGreaterThan(0)
  })
})
