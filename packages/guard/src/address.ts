/**
 * The private-address (SSRF) guard: may the gate dial this resolved address?
 * Parsing is `ipaddr.js`; the range table is explicit so every refusal has a precise reason.
 */
import ipaddr from 'ipaddr.js'

/** Addresses (exact or CIDR) that may be dialled even though they are private. Build with `parseAllowList`. */
export interface AllowList {
  readonly v4: readonly (readonly [base: number, bits: number])[]
  readonly v6: readonly (readonly [parts: readonly number[], bits: number])[]
}

type V4Range = readonly [base: number, bits: number, reason: string]
type V6Range = readonly [parts: readonly number[], bits: number, reason: string]

const v4 = (a: number, b: number, c: number, d: number): number =>
  ((a << 24) >>> 0) + (b << 16) + (c << 8) + d

/** Every IPv4 range that is not ordinary public unicast. Order matters (specific before general). */
const V4_DENIED: readonly V4Range[] = [
  [v4(0, 0, 0, 0), 8, 'unspecified'],
  [v4(127, 0, 0, 0), 8, 'loopback'],
  [v4(10, 0, 0, 0), 8, 'private'],
  [v4(172, 16, 0, 0), 12, 'private'],
  [v4(192, 168, 0, 0), 16, 'private'],
  [v4(100, 64, 0, 0), 10, 'carrierGradeNat'],
  [v4(169, 254, 169, 254), 32, 'cloud-metadata'],
  [v4(169, 254, 0, 0), 16, 'linkLocal'],
  [v4(192, 0, 0, 0), 24, 'reserved'],
  [v4(192, 0, 2, 0), 24, 'documentation'],
  [v4(198, 51, 100, 0), 24, 'documentation'],
  [v4(203, 0, 113, 0), 24, 'documentation'],
  [v4(198, 18, 0, 0), 15, 'benchmarking'],
  [v4(192, 88, 99, 0), 24, 'reserved'],
  [v4(224, 0, 0, 0), 4, 'multicast'],
  [v4(255, 255, 255, 255), 32, 'broadcast'],
  [v4(240, 0, 0, 0), 4, 'reserved'],
  [v4(192, 175, 48, 0), 24, 'as112'],
  [v4(192, 31, 196, 0), 24, 'as112'],
  [v4(192, 52, 193, 0), 24, 'amt'],
]

/** IPv6 ranges denied outright (the IPv4-embedding ranges are handled before this table). */
const V6_DENIED: readonly V6Range[] = [
  [[0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254], 128, 'cloud-metadata'],
  [[0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, 'uniqueLocal'],
  [[0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, 'linkLocal'],
  [[0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, 'siteLocal'],
  [[0xff00, 0, 0, 0, 0, 0, 0, 0], 8, 'multicast'],
  [[0x0100, 0, 0, 0, 0, 0, 0, 0], 64, 'discard'],
  [[0x0064, 0xff9b, 0x0001, 0, 0, 0, 0, 0], 48, 'nat64-local'],
  [[0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32, 'documentation'],
  [[0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, 'documentation'],
  [[0x2001, 0x0002, 0, 0, 0, 0, 0, 0], 48, 'benchmarking'],
  [[0x2001, 0, 0, 0, 0, 0, 0, 0], 23, 'reserved'],
  [[0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, 'reserved'],
]

function matchV4(addr: number, base: number, bits: number): boolean {
  if (bits === 0) return true
  const mask = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits) >>> 0
  return (addr & mask) >>> 0 === (base & mask) >>> 0
}

function matchV6(parts: readonly number[], base: readonly number[], bits: number): boolean {
  for (let i = 0; i < 8; i++) {
    const rest = bits - i * 16
    if (rest <= 0) return true
    const a = parts[i] ?? 0
    const b = base[i] ?? 0
    if (rest >= 16) {
      if (a !== b) return false
    } else {
      const mask = (0xffff << (16 - rest)) & 0xffff
      return (a & mask) === (b & mask)
    }
  }
  return true
}

function parseStrict(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return null
  // Only canonical dotted-quad IPv4: `127.1`, `0x7f.0.0.1`, `0177.0.0.1` or `2130706433` are refused
  // because other parsers read them differently.
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text)
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return null
  const zoneAt = text.indexOf('%')
  const bare = zoneAt === -1 ? text : text.slice(0, zoneAt)
  if (bare.includes('.')) {
    // An embedded dotted quad must be canonical too (ipaddr.js would read `0177` as octal).
    const dotted = bare.slice(bare.lastIndexOf(':') + 1)
    if (!ipaddr.IPv4.isValidFourPartDecimal(dotted)) return null
    // ipaddr.js reads `::a.b.c.d` as IPv4-mapped; RFC 4291 says it is IPv4-compatible (::/96).
    if (bare === `::${dotted}`) {
      const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(dotted).octets
      const addr = new ipaddr.IPv6([0, 0, 0, 0, 0, 0, (a << 8) | b, (c << 8) | d])
      if (zoneAt !== -1) addr.zoneId = text.slice(zoneAt + 1)
      return addr
    }
  }
  return ipaddr.IPv6.parse(text)
}

function v4Number(addr: ipaddr.IPv4): number {
  const [a = 0, b = 0, c = 0, d = 0] = addr.octets
  return v4(a, b, c, d)
}

function verdictV4(addr: number): string | null {
  for (const [base, bits, reason] of V4_DENIED) if (matchV4(addr, base, bits)) return reason
  return null
}

const embedded = (label: string, addr: number): string | null => {
  const reason = verdictV4(addr)
  return reason === null ? null : `${label}:${reason}`
}

function verdictV6(addr: ipaddr.IPv6): string | null {
  const p = addr.parts
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0] = p
  const low32 = ((p6 << 16) >>> 0) + p7
  if (p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0) {
    if (p4 === 0 && p5 === 0) {
      if (p6 === 0 && p7 === 0) return 'unspecified'
      if (p6 === 0 && p7 === 1) return 'loopback'
      return embedded('ipv4-compatible', low32) // ::/96, deprecated
    }
    if (p4 === 0 && p5 === 0xffff) return embedded('ipv4-mapped', low32) // ::ffff:0:0/96
    if (p4 === 0xffff && p5 === 0) return embedded('ipv4-translated', low32) // ::ffff:0:0:0/96 (SIIT)
  }
  if (p0 === 0x64 && p1 === 0xff9b && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0) {
    return embedded('nat64', low32) // 64:ff9b::/96
  }
  if (p0 === 0x2002) return embedded('6to4', ((p1 << 16) >>> 0) + p2) // 2002::/16
  if (p0 === 0x2001 && p1 === 0) {
    // Teredo 2001::/32: server IPv4 in bits 32-63, client IPv4 in the last 32 bits, inverted.
    return embedded('teredo', ~low32 >>> 0) ?? embedded('teredo', ((p2 << 16) >>> 0) + p3)
  }
  for (const [base, bits, reason] of V6_DENIED) if (matchV6(p, base, bits)) return reason
  // Only 2000::/3 is allocated global unicast; anything else is reserved or special-purpose.
  if ((p0 & 0xe000) !== 0x2000) return 'reserved'
  const range = addr.range()
  if (range !== 'unicast') return range
  // A zone index (`%eth0`) only makes sense for link-scoped addresses; refuse it everywhere.
  if (addr.zoneId !== undefined && addr.zoneId !== '') return 'scoped'
  return null
}

function allowed(addr: ipaddr.IPv4 | ipaddr.IPv6, allow: AllowList | undefined): boolean {
  if (allow === undefined) return false
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6
    for (const [base, bits] of allow.v6) if (matchV6(v6.parts, base, bits)) return true
    if (!v6.isIPv4MappedAddress()) return false
    addr = v6.toIPv4Address()
  }
  const n = v4Number(addr as ipaddr.IPv4)
  for (const [base, bits] of allow.v4) if (matchV4(n, base, bits)) return true
  return false
}

/**
 * Why the gate must not dial `ip`, or `null` when it may. Denied: unparseable or non-canonical
 * text (`'invalid'`), and every address that is not public unicast — `unspecified`, `loopback`,
 * `private` (RFC 1918), `carrierGradeNat`, `linkLocal`, `cloud-metadata` (169.254.169.254,
 * fd00:ec2::254), `documentation`, `benchmarking`, `multicast`, `broadcast`, `reserved`,
 * `uniqueLocal`, `siteLocal`, `discard`, `nat64-local`, and any other non-unicast `ipaddr.js` range.
 * IPv6 carrying an IPv4 address is judged by that address, the reason prefixed by the form:
 * `ipv4-mapped:`, `ipv4-compatible:`, `ipv4-translated:`, `nat64:`, `6to4:`, `teredo:` (client and
 * server address). Addresses covered by `allow` (see `parseAllowList`) are always permitted.
 */
export function addressVerdict(ip: string, allow?: AllowList): string | null {
  const addr = parseStrict(ip)
  if (addr === null) return 'invalid'
  if (allowed(addr, allow)) return null
  if (addr.kind() === 'ipv4') {
    const reason = verdictV4(v4Number(addr as ipaddr.IPv4))
    if (reason !== null) return reason
    // Any range ipaddr.js knows as special and the table above does not.
    const range = (addr as ipaddr.IPv4).range()
    return range === 'unicast' ? null : range
  }
  return verdictV6(addr as ipaddr.IPv6)
}

/**
 * Builds an allow list from exact addresses and CIDRs (`127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`).
 * Throws an `Error` naming the first entry that is not a canonical address or CIDR.
 */
export function parseAllowList(cidrs: readonly string[]): AllowList {
  const v4List: [number, number][] = []
  const v6List: [number[], number][] = []
  for (const entry of cidrs) {
    const text = typeof entry === 'string' ? entry.trim() : ''
    const slash = text.indexOf('/')
    const addrText = slash === -1 ? text : text.slice(0, slash)
    const bitsText = slash === -1 ? null : text.slice(slash + 1)
    const addr = parseStrict(addrText)
    const max = addr?.kind() === 'ipv4' ? 32 : 128
    const bits = bitsText === null ? max : /^(0|[1-9][0-9]{0,2})$/.test(bitsText) ? Number(bitsText) : -1
    if (addr === null || bits < 0 || bits > max) {
      throw new Error(`Invalid address or CIDR in allow list: "${String(entry)}"`)
    }
    if (addr.kind() === 'ipv4') v4List.push([v4Number(addr as ipaddr.IPv4), bits])
    else v6List.push([[...(addr as ipaddr.IPv6).parts], bits])
  }
  return { v4: v4List, v6: v6List }
}
