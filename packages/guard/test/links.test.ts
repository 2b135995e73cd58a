import { describe, expect, it } from 'vitest'
import {
  hasLinkHeaders,
  type LinkRebase,
  rebaseLinkHeaders,
  rebaseLinkValue,
  rebaseReference,
} from '../src/index.js'

const to: LinkRebase = { host: 'api.github.com', port: 443, base: 'http://127.0.0.1:3100/github' }

describe('rebaseReference', () => {
  it('rebases an absolute URL on the upstream, query and fragment kept', () => {
    expect(rebaseReference('https://api.github.com/repositories/1/issues?page=2#top', to)).toBe(
      'http://127.0.0.1:3100/github/repositories/1/issues?page=2#top',
    )
  })

  it('keeps the path and query as the upstream wrote them; a URL parser would re-encode or resolve', () => {
    expect(rebaseReference("https://api.github.com/search?q=name:'a%2Fb'&x={1}", to)).toBe(
      "http://127.0.0.1:3100/github/search?q=name:'a%2Fb'&x={1}",
    )
    // A dot segment, a backslash, a character a URL encodes: the parser's reading, which the gate serves.
    expect(rebaseReference('https://api.github.com/a/%2e%2e/b', to)).toBe('http://127.0.0.1:3100/github/b')
    expect(rebaseReference('https://api.github.com\\x', to)).toBe('http://127.0.0.1:3100/github/x')
    expect(rebaseReference('https://api.github.com/é', to)).toBe('http://127.0.0.1:3100/github/%C3%A9')
  })

  it('matches the host case-insensitively and the default port written or not', () => {
    expect(rebaseReference('https://API.GitHub.com:443/x', to)).toBe('http://127.0.0.1:3100/github/x')
    expect(rebaseReference('  https://api.github.com  ', to)).toBe('http://127.0.0.1:3100/github/')
  })

  it('rebases an absolute path and a scheme-relative reference to the upstream', () => {
    expect(rebaseReference('/user/repos?page=3', to)).toBe('http://127.0.0.1:3100/github/user/repos?page=3')
    expect(rebaseReference('//api.github.com/x', to)).toBe('http://127.0.0.1:3100/github/x')
  })

  it('leaves every other host, port and scheme as written', () => {
    for (const other of [
      'https://codeload.github.com/o/r/zip',
      'https://api.github.com.evil.example/x',
      'https://evil.example/?https://api.github.com/',
      'https://api.github.com:8443/x',
      'http://api.github.com/x',
      'ftp://api.github.com/x',
      '//evil.example/x',
      'javascript:alert(1)',
    ]) {
      expect(rebaseReference(other, to), other).toBeNull()
    }
  })

  it('never rebases a URL with credentials in its authority', () => {
    expect(rebaseReference('https://user:pw@api.github.com/x', to)).toBeNull()
    expect(rebaseReference('https://evil.example@api.github.com/x', to)).toBeNull()
  })

  it('leaves a reference relative to the request path (the client resolves it against the gate already)', () => {
    expect(rebaseReference('page2', to)).toBeNull()
    expect(rebaseReference('?page=2', to)).toBeNull()
    expect(rebaseReference('#x', to)).toBeNull()
  })

  it('keeps a path a URL parser would read as an authority inside the gate', () => {
    // `/\evil.example` resolved against a base is `https://evil.example/`: never prefixed as a path
    // that would change the authority, and not rebased either.
    expect(rebaseReference('/\\evil.example/x', to)).toBeNull()
    const rebased = rebaseReference('/%2F%2Fevil.example/x', to)
    expect(rebased).toBe('http://127.0.0.1:3100/github/%2F%2Fevil.example/x')
    expect(new URL(rebased as string).host).toBe('127.0.0.1:3100')
  })

  it('answers null for text that is no URL', () => {
    expect(rebaseReference('https://', to)).toBeNull()
    expect(rebaseReference('https://[::1', to)).toBeNull()
  })
})

describe('rebaseLinkValue', () => {
  it("rebases each link's target and keeps its parameters (GitHub's pagination)", () => {
    const value =
      '<https://api.github.com/repositories/1/issues?page=2>; rel="next", ' +
      '<https://api.github.com/repositories/1/issues?page=5>; rel="last"'
    expect(rebaseLinkValue(value, to)).toBe(
      '<http://127.0.0.1:3100/github/repositories/1/issues?page=2>; rel="next", ' +
        '<http://127.0.0.1:3100/github/repositories/1/issues?page=5>; rel="last"',
    )
  })

  it('leaves links to other hosts and malformed values alone', () => {
    const value = '<https://docs.github.com/rest>; rel="help",<https://api.github.com/x>;rel=next'
    expect(rebaseLinkValue(value, to)).toBe(
      '<https://docs.github.com/rest>; rel="help",<http://127.0.0.1:3100/github/x>;rel=next',
    )
    expect(rebaseLinkValue('no brackets here', to)).toBe('no brackets here')
  })
})

describe('rebaseLinkHeaders', () => {
  it('rebases link, location and content-location, arrays included', () => {
    const headers: Record<string, string | string[]> = {
      link: ['<https://api.github.com/a>; rel="next"', '</b>; rel="prev"'],
      location: 'https://api.github.com/repos/o/r',
      'content-location': ['https://other.example/x', '/c'],
      'content-type': 'application/json',
    }
    rebaseLinkHeaders(headers, to)
    expect(headers).toEqual({
      link: ['<http://127.0.0.1:3100/github/a>; rel="next"', '<http://127.0.0.1:3100/github/b>; rel="prev"'],
      location: 'http://127.0.0.1:3100/github/repos/o/r',
      'content-location': ['https://other.example/x', 'http://127.0.0.1:3100/github/c'],
      'content-type': 'application/json',
    })
  })

  it('hasLinkHeaders says whether there is anything to rebase; a null rebase changes nothing', () => {
    expect(hasLinkHeaders({ 'content-type': 'application/json' })).toBe(false)
    expect(hasLinkHeaders({ link: '<x>' })).toBe(true)
    expect(hasLinkHeaders({ 'content-location': '/x' })).toBe(true)
    const linked: Record<string, string | string[]> = { location: 'https://api.github.com/x' }
    rebaseLinkHeaders(linked, null)
    expect(linked.location).toBe('https://api.github.com/x')
  })
})
