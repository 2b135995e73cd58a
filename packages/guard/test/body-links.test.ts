import { describe, expect, it } from 'vitest'
import {
  BODY_LINK_KEYS,
  isJsonContentType,
  JsonLinkRebaser,
  LINK_OBJECT_KEYS,
  type LinkRebase,
  rebaseJsonLinks,
} from '../src/index.js'

const to: LinkRebase = { host: 'graph.example.test', port: 443, base: 'http://127.0.0.1:3100/graph' }
const GATE = 'http://127.0.0.1:3100/graph'

/** The body as the agent gets it, the whole body given in one part. */
function rebased(body: string, target: LinkRebase = to): string {
  const parts = rebaseJsonLinks([Buffer.from(body)], target)
  return parts === null ? body : Buffer.concat(parts).toString()
}

/** The body pushed through a rebaser in chunks of `size` bytes. */
function streamed(body: string, size: number, target: LinkRebase = to): string {
  const rebaser = new JsonLinkRebaser(target)
  const bytes = Buffer.from(body)
  const out: Buffer[] = []
  for (let i = 0; i < bytes.length; i += size) out.push(rebaser.push(bytes.subarray(i, i + size)))
  out.push(rebaser.end())
  return Buffer.concat(out).toString()
}

describe('rebaseJsonLinks: the keys', () => {
  it("rebases Microsoft Graph's @odata.nextLink and @odata.deltaLink, query and encoding kept", () => {
    const body = JSON.stringify({
      '@odata.context': 'https://graph.example.test/v1.0/$metadata#users',
      value: [{ id: '1' }],
      '@odata.nextLink':
        "https://graph.example.test/v1.0/users?$top=2&$filter=startswith(name,'a%2Fb')&$skiptoken=X%3D",
    })
    const got = JSON.parse(rebased(body))
    expect(got['@odata.nextLink']).toBe(
      `${GATE}/v1.0/users?$top=2&$filter=startswith(name,'a%2Fb')&$skiptoken=X%3D`,
    )
    // Not a page link: the metadata context stays as written.
    expect(got['@odata.context']).toBe('https://graph.example.test/v1.0/$metadata#users')
    const delta = rebased(
      '{"value":[],"@odata.deltaLink":"https://graph.example.test/v1.0/users/delta?$deltatoken=a"}',
    )
    expect(JSON.parse(delta)['@odata.deltaLink']).toBe(`${GATE}/v1.0/users/delta?$deltatoken=a`)
  })

  it('rebases every key of the documented set, and href/link in an object under next/prev/first/last', () => {
    for (const key of BODY_LINK_KEYS) {
      const body = JSON.stringify({ [key]: 'https://graph.example.test/p?page=2', count: 1 })
      expect(JSON.parse(rebased(body))[key], key).toBe(`${GATE}/p?page=2`)
    }
    for (const key of LINK_OBJECT_KEYS) {
      for (const member of ['href', 'link']) {
        const body = JSON.stringify({
          _links: { [key]: { title: 'x', n: [1, { a: '}' }], [member]: 'https://graph.example.test/p' } },
        })
        expect(JSON.parse(rebased(body))._links[key][member], `${key}.${member}`).toBe(`${GATE}/p`)
      }
    }
  })

  it('rebases HubSpot paging.next.link, HAL _links.next.href and Zendesk next_page as real APIs write them', () => {
    const hubspot =
      '{"results":[],"paging":{"next":{"after":"NTI1Cg%3D%3D","link":"https://graph.example.test/crm/v3/objects/contacts?after=NTI1Cg%3D%3D"}}}'
    expect(rebased(hubspot)).toBe(hubspot.replace('https://graph.example.test', GATE))
    const hal =
      '{"_links": {\n  "self": {"href": "https://graph.example.test/orders?page=1"},\n  "next": {"href": "https://graph.example.test/orders?page=2"}\n}}'
    expect(rebased(hal)).toBe(
      '{"_links": {\n  "self": {"href": "https://graph.example.test/orders?page=1"},\n' +
        `  "next": {"href": "${GATE}/orders?page=2"}\n}}`,
    )
    const zendesk =
      '{"tickets":[],"next_page":"https://graph.example.test/api/v2/tickets.json?page=2","previous_page":null}'
    expect(rebased(zendesk)).toBe(zendesk.replace('https://graph.example.test', GATE))
  })

  it('leaves keys outside the sets, and href/link outside a link object', () => {
    for (const body of [
      '{"url":"https://graph.example.test/x"}',
      '{"self":"https://graph.example.test/x"}',
      '{"href":"https://graph.example.test/x"}',
      '{"item":{"link":"https://graph.example.test/x"}}',
      '{"nextLinks":"https://graph.example.test/x"}',
      '{"list":["https://graph.example.test/x"]}',
      '["https://graph.example.test/x"]',
      '"https://graph.example.test/x"',
    ]) {
      expect(rebased(body), body).toBe(body)
    }
  })
})

describe('rebaseJsonLinks: the whole value, the upstream only', () => {
  it('leaves a text that merely contains the URL, even one that looks like a link key', () => {
    for (const body of [
      '{"comment":"next page: https://graph.example.test/x?page=2"}',
      '{"comment":"\\"next\\": \\"https://graph.example.test/x\\""}',
      '{"next":"see https://graph.example.test/x"}',
      '{"next":"https://graph.example.test/x is the next page"}',
      '{"next":" https://graph.example.test/x"}',
      '{"next":"https://graph.example.test/x\\n"}',
    ]) {
      expect(rebased(body), body).toBe(body)
    }
  })

  it('leaves other hosts, ports, schemes, look-alike hosts and credentials in the authority', () => {
    for (const value of [
      'https://other.example.test/x',
      'https://graph.example.test.evil.example/x',
      'https://evil.example/?u=https://graph.example.test/x',
      'https://graph.example.test:8443/x',
      'http://graph.example.test/x',
      'https://user@graph.example.test/x',
      'https://graph.example.testing/x',
    ]) {
      const body = JSON.stringify({ next: value })
      expect(rebased(body), value).toBe(body)
    }
  })

  it('rebases the default port written out, an upstream on another port, and keeps escapes as written', () => {
    expect(rebased('{"next":"https://graph.example.test:443/x"}')).toBe(`{"next":"${GATE}/x"}`)
    const onPort = { ...to, port: 8443 }
    expect(rebased('{"next":"https://graph.example.test:8443/x"}', onPort)).toBe(`{"next":"${GATE}/x"}`)
    expect(rebased('{"next":"https://graph.example.test/x"}', onPort)).toBe(
      '{"next":"https://graph.example.test/x"}',
    )
    // PHP's json_encode writes `\/`; Go's writes `\u0026`: only the origin changes, the rest keeps its bytes.
    expect(rebased('{"next":"https:\\/\\/graph.example.test\\/x?a=1\\u0026b=2"}')).toBe(
      `{"next":"${GATE}\\/x?a=1\\u0026b=2"}`,
    )
  })

  it('writes the serialized URL when the upstream wrote one a URL parser reads otherwise', () => {
    expect(rebased('{"next":"https://graph.example.test/a/../b?x"}')).toBe(`{"next":"${GATE}/b?x"}`)
    expect(rebased('{"next":"https://graph.example.test"}')).toBe(`{"next":"${GATE}/"}`)
  })

  it('escapes a gate base that JSON must escape', () => {
    const odd = { ...to, base: 'http://[::1]:3100/gra"ph' }
    expect(JSON.parse(rebased('{"next":"https://graph.example.test/x"}', odd)).next).toBe(
      'http://[::1]:3100/gra"ph/x',
    )
  })

  it('answers null (parts untouched) when nothing is rebased, and stops growing the body past maxGrowth', () => {
    expect(rebaseJsonLinks([Buffer.from('{"a":1}'), Buffer.from('{"b":2}')], to)).toBeNull()
    const body = Buffer.from(
      '[{"next":"https://graph.example.test/1"},{"next":"https://graph.example.test/2"}]',
    )
    const parts = rebaseJsonLinks([body], to, { maxGrowth: 1 })
    expect(Buffer.concat(parts ?? []).toString()).toBe(
      `[{"next":"${GATE}/1"},{"next":"https://graph.example.test/2"}]`,
    )
  })
})

describe('JsonLinkRebaser: chunk by chunk', () => {
  const body = JSON.stringify({
    comment: `${'x'.repeat(5000)} https://graph.example.test/not-a-link`,
    value: [{ id: 1, self: 'https://graph.example.test/users/1' }],
    _links: { next: { title: 'Next', href: 'https:\\/\\/graph.example.test/v1/u?p=2' } },
    '@odata.nextLink': 'https://graph.example.test/v1.0/users?$skiptoken=abc',
  })
  const whole = rebased(body)

  it('rebases the same links whatever the chunk boundaries', () => {
    expect(whole).not.toBe(body)
    expect(JSON.parse(whole)['@odata.nextLink']).toBe(`${GATE}/v1.0/users?$skiptoken=abc`)
    for (const size of [1, 2, 3, 7, 13, 64, 1000, 4096])
      expect(streamed(body, size), `chunks of ${size}`).toBe(whole)
  })

  it('passes a chunk without the host on as it came (the same buffer, never copied)', () => {
    const rebaser = new JsonLinkRebaser(to)
    const chunk = Buffer.from('{"value":[{"id":1,"url":"https://other.example.test/x"}],')
    expect(rebaser.push(chunk)).toBe(chunk)
  })

  it('holds back only a value still open at the end of a chunk, at most MAX_LINK_LENGTH', () => {
    const rebaser = new JsonLinkRebaser(to)
    expect(rebaser.push(Buffer.from('{"a":1,"next":"https://graph')).toString()).toBe('{"a":1,"next":')
    expect(rebaser.push(Buffer.from('.example.test/x?p=2"}')).toString()).toBe(`"${GATE}/x?p=2"}`)
    const long = `{"next":"https://graph.example.test/${'a'.repeat(20_000)}"}`
    expect(streamed(long, 1000)).toBe(long)
  })

  it('never holds back a value under another key: it streams on as it came', () => {
    const rebaser = new JsonLinkRebaser(to)
    expect(rebaser.push(Buffer.from('{"url":"https://graph.example.test/x')).toString()).toBe(
      '{"url":"https://graph.example.test/x',
    )
    expect(rebaser.push(Buffer.from('?p=2","next":"https://gra')).toString()).toBe('?p=2","next":')
  })

  it('gives what it held back at the end of a body cut short', () => {
    const rebaser = new JsonLinkRebaser(to)
    const head = rebaser.push(Buffer.from('{"next":"https://graph.example.test/x'))
    expect(Buffer.concat([head, rebaser.end()]).toString()).toBe('{"next":"https://graph.example.test/x')
  })
})

describe('isJsonContentType', () => {
  it('accepts application/json and +json types, parameters included', () => {
    expect(isJsonContentType('application/json')).toBe(true)
    expect(isJsonContentType('application/json;odata.metadata=minimal;charset=utf-8')).toBe(true)
    expect(isJsonContentType('application/hal+json')).toBe(true)
    expect(isJsonContentType(['Application/Problem+JSON; charset=utf-8'])).toBe(true)
  })

  it('refuses everything else', () => {
    for (const type of [
      'text/plain',
      'text/json',
      'application/jsonl',
      'application/x-ndjson',
      'application/json-seq',
      undefined,
    ]) {
      expect(isJsonContentType(type), String(type)).toBe(false)
    }
  })
})
