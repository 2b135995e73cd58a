import { describe, expect, it } from 'vitest'
import { addressVerdict, parseAllowList } from '../src/index.js'

/** Teredo address for a client IPv4 (obscured: XOR 0xffffffff) behind a given server IPv4. */
function teredo(server: [number, number, number, number], client: [number, number, number, number]): string {
  const hex = (a: number, b: number) => ((a << 8) | b).toString(16)
  const inv = client.map((o) => o ^ 0xff) as [number, number, number, number]
  return `2001:0:${hex(server[0], server[1])}:${hex(server[2], server[3])}:8000:ffff:${hex(inv[0], inv[1])}:${hex(inv[2], inv[3])}`
}

describe('addressVerdict: public unicast may be dialled', () => {
  const publicAddresses = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '100.63.255.255', // just below CGNAT
    '100.128.0.0', // just above CGNAT
    '172.15.255.255', // just below 172.16/12
    '172.32.0.0', // just above 172.16/12
    '169.253.255.255',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1', // 6to4 of 8.8.8.8
    teredo([65, 54, 227, 120], [8, 8, 8, 8]),
  ]
  it.each(publicAddresses)('%s', (ip) => {
    expect(addressVerdict(ip)).toBeNull()
  })
})

describe('addressVerdict: every special range is refused with its reason', () => {
  const cases: [ip: string, reason: string][] = [
    // IPv4
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['100.100.100.200', 'carrierGradeNat'],
    ['169.254.169.254', 'cloud-metadata'],
    ['169.254.0.1', 'linkLocal'],
    ['169.254.170.2', 'linkLocal'],
    ['192.0.0.1', 'reserved'],
    ['192.0.0.192', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['192.88.99.1', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['192.175.48.1', 'as112'],
    ['192.52.193.1', 'amt'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fd00:ec2::254', 'cloud-metadata'],
    ['fd00:0ec2:0:0:0:0:0:254', 'cloud-metadata'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456:789a::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['febf::1', 'linkLocal'],
    ['fec0::1', 'siteLocal'],
    ['ff02::1', 'multicast'],
    ['ff05::1:3', 'multicast'],
    ['100::1', 'discard'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001:2::1', 'benchmarking'],
    ['2001:3::1', 'reserved'],
    ['2001:10::1', 'reserved'],
    ['2001:1ff::1', 'reserved'],
    ['64:ff9b:1::1', 'nat64-local'],
    ['5f00::1', 'reserved'],
    ['4000::1', 'reserved'],
    ['::2:1', 'ipv4-compatible:unspecified'],
    ['2620:4f:8000::1', 'as112v6'],
    ['2001:4860::1%eth0', 'scoped'],
    // IPv4 embedded in IPv6, judged by the IPv4
    ['::ffff:127.0.0.1', 'ipv4-mapped:loopback'],
    ['::ffff:7f00:1', 'ipv4-mapped:loopback'],
    ['::ffff:10.0.0.1', 'ipv4-mapped:private'],
    ['::ffff:169.254.169.254', 'ipv4-mapped:cloud-metadata'],
    ['::ffff:0.0.0.0', 'ipv4-mapped:unspecified'],
    ['0:0:0:0:0:ffff:c0a8:101', 'ipv4-mapped:private'],
    ['::127.0.0.1', 'ipv4-compatible:loopback'],
    ['::10.0.0.1', 'ipv4-compatible:private'],
    ['::ffff:0:127.0.0.1', 'ipv4-translated:loopback'],
    ['64:ff9b::127.0.0.1', 'nat64:loopback'],
    ['64:ff9b::a00:1', 'nat64:private'],
    ['64:ff9b::169.254.169.254', 'nat64:cloud-metadata'],
    ['2002:7f00:1::', '6to4:loopback'],
    ['2002:a00:1::1', '6to4:private'],
    ['2002:a9fe:a9fe::', '6to4:cloud-metadata'],
    ['2002:c0a8:101:1::1', '6to4:private'],
    [teredo([65, 54, 227, 120], [127, 0, 0, 1]), 'teredo:loopback'],
    [teredo([65, 54, 227, 120], [10, 1, 2, 3]), 'teredo:private'],
    [teredo([65, 54, 227, 120], [169, 254, 169, 254]), 'teredo:cloud-metadata'],
    [teredo([10, 0, 0, 1], [8, 8, 8, 8]), 'teredo:private'],
  ]
  it.each(cases)('%s → %s', (ip, reason) => {
    expect(addressVerdict(ip)).toBe(reason)
  })
})

describe('addressVerdict: unparseable or non-canonical text is refused', () => {
  const invalid = [
    '',
    'localhost',
    'api.slack.com',
    '127.1',
    '2130706433',
    '0x7f.0.0.1',
    '0x7f000001',
    '0177.0.0.1',
    '010.0.0.1',
    '127.0.0.1.',
    ' 127.0.0.1',
    '127.0.0.1 ',
    '256.0.0.1',
    '1.2.3',
    '[::1]',
    '1::2::3',
    ':::1',
    '::ffff:127.1',
    '12345::1',
    'fe80::1%',
  ]
  it.each(invalid)('%j', (ip) => {
    expect(addressVerdict(ip)).toBe('invalid')
  })
  it('non-string input', () => {
    expect(addressVerdict(undefined as unknown as string)).toBe('invalid')
  })
})

describe('parseAllowList', () => {
  const allow = parseAllowList(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', ' 192.168.1.0/24 '])

  const cases: [ip: string, verdict: string | null][] = [
    ['127.0.0.1', null],
    ['127.0.0.2', 'loopback'],
    ['10.200.3.4', null],
    ['11.0.0.1', null],
    ['172.16.0.1', 'private'],
    ['192.168.1.77', null],
    ['192.168.2.1', 'private'],
    ['::1', null],
    ['::ffff:127.0.0.1', null],
    ['::ffff:10.1.1.1', null],
    ['::ffff:127.0.0.2', 'ipv4-mapped:loopback'],
    ['fd12::1', null],
    ['fc00::1', 'uniqueLocal'],
    ['169.254.169.254', 'cloud-metadata'],
    ['bogus', 'invalid'],
  ]
  it.each(cases)('%s → %s', (ip, verdict) => {
    expect(addressVerdict(ip, allow)).toBe(verdict)
  })

  it('a /0 allows everything of its family only', () => {
    const all4 = parseAllowList(['0.0.0.0/0'])
    expect(addressVerdict('127.0.0.1', all4)).toBeNull()
    expect(addressVerdict('::1', all4)).toBe('loopback')
  })

  it('an empty list allows nothing extra', () => {
    expect(addressVerdict('127.0.0.1', parseAllowList([]))).toBe('loopback')
  })

  const badEntries = [
    'localhost',
    '10.0.0.0/33',
    '::1/129',
    '10.0.0.0/',
    '10.0.0.0/08',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '127.1',
    '',
    '/8',
    '010.0.0.0/8',
  ]
  it.each(badEntries)('throws naming %j', (entry) => {
    expect(() => parseAllowList(['127.0.0.1', entry])).toThrow(
      `Invalid address or CIDR in allow list: "${entry}"`,
    )
  })
})

describe('addressVerdict: IPv6 text with an embedded dotted quad must be canonical', () => {
  it.each(['::ffff:0177.0.0.1', '::ffff:0x7f.0.0.1', '64:ff9b::010.0.0.1', '::0177.0.0.1'])('%j', (ip) => {
    expect(addressVerdict(ip)).toBe('invalid')
  })
})
