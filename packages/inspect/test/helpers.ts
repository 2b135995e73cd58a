import { randomBytes } from 'node:crypto'

/** A plain token-like secret (letters, digits, `-`, `_`). */
export const TOKEN = 'tok_3f9Q2kLmZ8xR1vB7nW4pYc'
/** A secret with every kind of special character: space, reserved URL chars, quote, backslash, control, non-ASCII. */
export const SPECIAL = 'p@ss w0rd/"q"\\b\u0001+=&?é~!'

/** Independent reference encoders (the library derives its patterns on its own). */
export const ENCODERS: Record<string, { label: string; encode: (s: string) => string }> = {
  raw: { label: 'raw', encode: (s) => s },
  'percent upper': { label: 'percent', encode: (s) => encodeURIComponent(s) },
  'percent lower': {
    label: 'percent',
    encode: (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  },
  'percent every byte upper': {
    label: 'percent',
    encode: (s) =>
      [...Buffer.from(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  },
  'percent every byte lower': {
    label: 'percent',
    encode: (s) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  },
  'percent every byte mixed case': {
    label: 'percent',
    encode: (s) =>
      [...Buffer.from(s)]
        .map((b) => b.toString(16).padStart(2, '0'))
        .map((h, i) => `%${i % 2 ? h.toUpperCase() : h}`)
        .join(''),
  },
  'base64 standalone': { label: 'base64', encode: (s) => Buffer.from(s).toString('base64') },
  'base64url standalone': { label: 'base64url', encode: (s) => Buffer.from(s).toString('base64url') },
  'hex lower': { label: 'hex', encode: (s) => Buffer.from(s).toString('hex') },
  'hex upper': { label: 'hex', encode: (s) => Buffer.from(s).toString('hex').toUpperCase() },
  'json \\u every char': {
    label: 'json-escape',
    encode: (s) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  },
  'json \\u every char upper hex': {
    label: 'json-escape',
    encode: (s) =>
      [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`).join(''),
  },
}

/** `s` at byte offset `align` (mod 3) inside a larger base64 text; random neighbours. */
export function base64Embedded(s: string, align: number, url = false): string {
  const blob = Buffer.concat([randomBytes(30 + align), Buffer.from(s), randomBytes(31)])
  return blob.toString(url ? 'base64url' : 'base64')
}

/** Split `data` into chunks of the given sizes (the rest goes into the last chunk). */
export function chunksOf(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size))
  return out
}
