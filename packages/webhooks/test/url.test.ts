import { parseAllowList } from '@aegis/guard'
import { describe, expect, it } from 'vitest'
import { webhookUrlProblem } from '../src/index.js'

describe('webhookUrlProblem', () => {
  it.each([
    ['https://hooks.example.com/aegis', null],
    ['https://93.184.215.14/x', null],
    ['not a url', 'absolute URL'],
    ['ftp://hooks.example.com/x', 'https://'],
    ['http://hooks.example.com/x', 'only for a loopback host'],
    ['http://93.184.215.14/x', 'only for a loopback host'],
    // A name that merely starts like loopback is not loopback.
    ['http://127.0.0.1.nip.io/x', 'only for a loopback host'],
    ['http://localhost.example.com/x', 'only for a loopback host'],
    ['https://user:pass@hooks.example.com/x', 'user or password'],
    ['https://10.0.0.5/x', 'private address'],
    ['https://169.254.169.254/latest', 'cloud-metadata address'],
    ['https://[::ffff:127.0.0.1]/x', 'address'],
    ['https://[fd00::1]/x', 'address'],
    ['https://0.0.0.0/x', 'address'],
    // Loopback over http passes the scheme rule, and then the address guard refuses it.
    ['http://127.0.0.1:8080/x', 'loopback address'],
    ['http://localhost:8080/x', 'loopback address'],
    ['http://[::1]:8080/x', 'loopback address'],
  ])('%s → %s', (url, problem) => {
    const result = webhookUrlProblem(url)
    if (problem === null) expect(result).toBeNull()
    else expect(result).toContain(problem)
  })

  it('allowed private addresses pass (the gate upstream allow_private list)', () => {
    const allow = parseAllowList(['127.0.0.1', '10.0.0.0/8'])
    expect(webhookUrlProblem('http://127.0.0.1:8080/x', allow)).toBeNull()
    expect(webhookUrlProblem('http://localhost:8080/x', allow)).toBeNull()
    expect(webhookUrlProblem('https://10.1.2.3/x', allow)).toBeNull()
    expect(webhookUrlProblem('http://10.1.2.3/x', allow)).toContain('only for a loopback host')
  })
})
