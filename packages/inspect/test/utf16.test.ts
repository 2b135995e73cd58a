import { describe, expect, it } from 'vitest'
import { buildMatcher, createRedactor, redactBuffer, redactParts, scan } from '../src/index.js'

const ASCII = 'sk-wide-0123456789abcdefXYZ'
const ACCENTED = 'clé-secrète-ünïcode-42'
const matcher = buildMatcher([
  { value: ASCII, kind: 'credential:ascii' },
  { value: ACCENTED, kind: 'credential:accented' },
])

type Order = 'le' | 'be'
const encode = (text: string, order: Order): Buffer => {
  const le = Buffer.from(text, 'utf16le')
  return order === 'le' ? le : le.swap16()
}
const decode = (bytes: Buffer, order: Order): string =>
  (order === 'le' ? Buffer.from(bytes) : Buffer.from(bytes).swap16()).toString('utf16le')

/** The body redacted whole, in two parts, and streamed in chunks of every size from 1 to 9 bytes. */
function everyWay(body: Buffer): Buffer[] {
  const outs: Buffer[] = [redactBuffer(body, matcher).bytes]
  for (const cut of [1, 7, body.length >> 1]) {
    const parts = redactParts([body.subarray(0, cut), body.subarray(cut)], matcher)
    outs.push(parts === null ? body : parts.bytes)
  }
  for (let size = 1; size <= 9; size++) {
    const r = createRedactor(matcher)
    const out: Buffer[] = []
    for (let at = 0; at < body.length; at += size) out.push(r.push(body.subarray(at, at + size)))
    out.push(r.end())
    outs.push(Buffer.concat(out))
  }
  return outs
}

describe('a secret in UTF-16, whatever the charset says', () => {
  for (const order of ['le', 'be'] as const) {
    for (const [name, secret] of [
      ['ASCII', ASCII],
      ['accented', ACCENTED],
    ] as const) {
      it(`UTF-16${order.toUpperCase()}, ${name}: replaced by [REDACTED] in UTF-16${order.toUpperCase()}, the body still valid`, () => {
        const text = `{"echo":"${secret}","note":"caf\u00e9 \u2603 😀"}`
        for (const bom of ['', '\ufeff']) {
          const body = encode(`${bom}${text}`, order)
          for (const out of everyWay(body)) {
            expect(out.length % 2).toBe(0)
            expect(decode(out, order)).toBe(`${bom}{"echo":"[REDACTED]","note":"caf\u00e9 \u2603 😀"}`)
          }
        }
      })
    }

    it(`UTF-16${order.toUpperCase()}: a body that ends inside the secret loses its start, in kind`, () => {
      const body = encode(`{"echo":"${ASCII.slice(0, 20)}`, order)
      for (const out of everyWay(body)) expect(decode(out, order)).toBe('{"echo":"[REDACTED]')
    })
  }

  it('split in two at every offset, in either byte order, two secrets side by side', () => {
    for (const order of ['le', 'be'] as const) {
      const text = `[${ASCII}${ACCENTED}] "${ASCII}"`
      const body = encode(text, order)
      for (let cut = 0; cut <= body.length; cut++) {
        const r = createRedactor(matcher)
        const out = Buffer.concat([r.push(body.subarray(0, cut)), r.push(body.subarray(cut)), r.end()])
        expect(decode(out, order)).toBe('[[REDACTED]] "[REDACTED]"')
      }
    }
  })

  it('is reported as utf-16le / utf-16be by scan', () => {
    expect(scan(matcher, encode(`x${ASCII}`, 'le')).map((h) => h.encoding)).toContain('utf-16le')
    expect(scan(matcher, encode(`x${ASCII}`, 'be')).map((h) => h.encoding)).toContain('utf-16be')
  })

  it('UTF-16 bytes at an odd offset of another body (no misreading beside them) are redacted too', () => {
    const body = Buffer.concat([
      Buffer.from('bin:'),
      Buffer.from('\u0001'),
      encode(ASCII, 'le'),
      Buffer.from('!'),
    ])
    for (const out of everyWay(body)) {
      expect(out.includes(encode(ASCII.slice(0, 8), 'le'))).toBe(false)
      expect(out.toString('latin1')).toContain(encode('[REDACTED]', 'le').toString('latin1'))
    }
  })

  it('a UTF-8 body keeps its plain [REDACTED]', () => {
    for (const out of everyWay(Buffer.from(`{"a":"${ASCII}"}`)))
      expect(out.toString()).toBe('{"a":"[REDACTED]"}')
  })
})
