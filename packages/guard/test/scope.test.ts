import { describe, expect, it } from 'vitest'
import { isScope, neverForwarded, type Scope, scopeAllows } from '../src/index.js'

describe('scopeAllows', () => {
  const cases: [method: string, scopes: Scope[], allowed: boolean][] = [
    ['GET', ['read'], true],
    ['HEAD', ['read'], true],
    ['OPTIONS', ['read'], true],
    ['POST', ['read'], false],
    ['PUT', ['read'], false],
    ['PATCH', ['read'], false],
    ['DELETE', ['read'], false],
    ['POST', ['write'], true],
    ['PUT', ['write'], true],
    ['PATCH', ['write'], true],
    ['DELETE', ['write'], true],
    ['GET', ['write'], false],
    ['GET', ['read', 'write'], true],
    ['DELETE', ['read', 'write'], true],
    ['TRACE', ['read', 'write'], false],
    ['CONNECT', ['read', 'write'], false],
    ['PROPFIND', ['read', 'write'], false],
    ['TRACE', ['*'], true],
    ['CONNECT', ['*'], true],
    ['PURGE', ['*'], true],
    ['GET', ['*'], true],
    // Methods are case-sensitive (RFC 9110 §9.1): lower-case is not GET.
    ['get', ['read'], false],
    ['Get', ['read'], false],
    ['post', ['write'], false],
    ['get', ['*'], true],
    ['GET ', ['read'], false],
    ['', ['read', 'write'], false],
    ['GET', [], false],
  ]
  it.each(cases)('%j under %j → %s', (method, scopes, allowed) => {
    expect(scopeAllows(method, scopes)).toBe(allowed)
  })
})

describe('isScope', () => {
  it.each([
    ['read', true],
    ['write', true],
    ['*', true],
    ['READ', false],
    ['admin', false],
    [undefined, false],
  ])('%j → %s', (value, expected) => {
    expect(isScope(value)).toBe(expected)
  })
})

describe('neverForwarded', () => {
  it.each([
    ['TRACE', 'TRACE'],
    ['TRACK', 'TRACK'],
    ['CONNECT', 'CONNECT'],
    ['trace', 'TRACE'],
    ['Track', 'TRACK'],
    ['GET', null],
    ['OPTIONS', null],
    ['PROPFIND', null],
    ['TRACEX', null],
    ['', null],
  ])('%j → %j', (method, expected) => {
    expect(neverForwarded(method)).toBe(expected)
  })
})
