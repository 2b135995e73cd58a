// The checks the gate runs on every request, called by hand on a few agent-supplied values.
import assert from 'node:assert/strict'
import {
  addressVerdict,
  matchesAllowlist,
  parseAllowList,
  parseDomainPattern,
  parseRate,
  parseTargetHost,
  problemDocument,
  RateLimiter,
  refuse,
  scopeAllows,
  splitGatePath,
} from '@aegis/guard'

// At write time (the vault): validate what the operator typed.
const domains = ['*.slack.com'].map((text) => parseDomainPattern(text))
assert.ok(domains.every((d) => d.ok))
assert.equal(parseDomainPattern('*.com').ok, false) // a wildcard over a public suffix
const rate = parseRate('2/min')

// Per request: the target, the scope, the destination host and its address.
const target = splitGatePath('/slack/api/chat.postMessage?x=1')
assert.deepEqual([target.ok, target.service, target.path], [true, 'slack', '/api/chat.postMessage'])
assert.equal(splitGatePath('/slack/%2e%2e/admin').ok, false) // encoded traversal is refused
assert.equal(scopeAllows('POST', ['read']), false) // read: GET, HEAD, OPTIONS only

const host = parseTargetHost('API.Slack.com.')
assert.deepEqual(host, { ok: true, host: 'api.slack.com', port: null })
const patterns = domains.map((d) => d.pattern)
assert.equal(matchesAllowlist(host.host, host.port, patterns), true)
assert.equal(matchesAllowlist('slack.com.evil.test', null, patterns), false)
assert.notEqual(addressVerdict('::ffff:10.0.0.1', parseAllowList([])), null) // a private address in disguise

// Budgets: checked and spent in one step; a request refused later gets its unit back.
const limiter = new RateLimiter()
const now = 1_700_000_000_000
assert.equal(limiter.reserve('agent:bot', rate, now).ok, true)
const second = limiter.reserve('agent:bot', rate, now)
second.refund()
assert.equal(limiter.reserve('agent:bot', rate, now).ok, true)
assert.equal(limiter.reserve('agent:bot', rate, now).ok, false)

// Every refusal becomes one RFC 9457 problem document.
const problem = problemDocument(refuse('scope_denied', 'POST is not allowed for this credential'))
assert.deepEqual([problem.status, problem.code], [403, 'scope_denied'])
