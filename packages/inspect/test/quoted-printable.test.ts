import { describe, expect, it } from 'vitest'
import {
  buildMatcher,
  createRedactor,
  mayHoldQuotedPrintable,
  redactBuffer,
  redactParts,
} from '../src/index.js'

/** A secret with `=` (base64 padding), as many API keys and signed tokens have. */
const SECRET = 'AKIAQP0123456789abcdefghijXYZ+/=='
const matcher = buildMatcher([{ value: SECRET, kind: 'credential:qp' }])
const QP = { quotedPrintable: true }

/**
 * The secret as a quoted-printable encoder writes it: `=` as `=3D`, and a soft line break after
 * every `every` characters or escapes (never inside an escape).
 */
function encoded(every = 0, lower = false): string {
  const tokens = [...SECRET].map((c) => (c === '=' ? (lower ? '=3d' : '=3D') : c))
  if (every === 0) return tokens.join('')
  const lines: string[] = []
  for (let at = 0; at < tokens.length; at += every) lines.push(tokens.slice(at, at + every).join(''))
  return lines.join('=\r\n')
}

function everyWay(body: Buffer, options = QP): string[] {
  const outs = [redactBuffer(body, matcher, options).bytes.toString()]
  const parts = redactParts([body.subarray(0, 40), body.subarray(40)], matcher, options)
  outs.push((parts?.bytes ?? body).toString())
  for (const size of [1, 2, 3, 5, 64]) {
    const r = createRedactor(matcher, options)
    const out: Buffer[] = []
    for (let at = 0; at < body.length; at += size) out.push(r.push(body.subarray(at, at + size)))
    out.push(r.end())
    outs.push(Buffer.concat(out).toString())
  }
  return outs
}

const part = (text: string) =>
  Buffer.from(
    `--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nkey: ${text}\r\nbye\r\n--b--\r\n`,
  )

describe('a secret in quoted-printable text (a MIME part)', () => {
  for (const [name, text] of [
    ['`=` written `=3D`', encoded()],
    ['`=3d` in lower case', encoded(0, true)],
    ['split by soft line breaks every 10 characters', encoded(10)],
    ['split by a soft line break after each character', encoded(1)],
    ['soft line breaks written `=` LF, with trailing blanks', encoded(7).replaceAll('=\r\n', '=  \n')],
  ] as const) {
    it(`${name}: the whole spelling becomes [REDACTED], however the body is cut`, () => {
      for (const out of everyWay(part(text))) {
        expect(out).toBe(part('[REDACTED]').toString())
      }
    })
  }

  it('only when the body may hold quoted-printable: elsewhere `=3D` is left as text', () => {
    const body = part(encoded(10))
    expect(redactBuffer(body, matcher).bytes.toString()).toBe(body.toString())
  })

  it('multipart and message bodies may; JSON and text may not', () => {
    expect(mayHoldQuotedPrintable('multipart/mixed; boundary=b')).toBe(true)
    expect(mayHoldQuotedPrintable('Message/RFC822')).toBe(true)
    expect(mayHoldQuotedPrintable('application/json')).toBe(false)
    expect(mayHoldQuotedPrintable(undefined)).toBe(false)
  })

  it('ordinary quoted-printable text around it is left as it is', () => {
    const text = 'caf=C3=A9 =3D a long line that goes on=\r\nand on'
    for (const out of everyWay(part(text))) expect(out).toBe(part(text).toString())
  })
})
