// Catch a secret leaving in an encoded form, and redact it from a response.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { buildMatcher, inspectOutbound, redactStream, redactText } from '@aegis/inspect'

const secret = 'sk-live-0123456789abcdefghij'
// Rebuild when the secrets change (about 80 ms for 1,000 secrets).
const matcher = buildMatcher([{ value: secret, kind: 'credential:stripe' }])

// Outbound: the agent tries to send the secret base64-encoded in a JSON body and in the query.
const body = Buffer.from(JSON.stringify({ note: Buffer.from(secret).toString('base64') }))
const findings = inspectOutbound({ body, query: `k=${encodeURIComponent(secret)}`, path: '/v1/x' }, matcher)
assert.deepEqual(
  findings.map((f) => [f.kind, f.where, f.encoding]),
  [
    ['credential:stripe', 'query', 'raw'],
    ['credential:stripe', 'body', 'base64'],
  ],
)
// A well-known key format is found without being in the list (labels only, never the value).
const github = inspectOutbound({ body: Buffer.from(`ghp_${'a'.repeat(36)}`) }, matcher)
assert.equal(github[0].kind, 'format:github-token')

// Inbound: a response that echoes the secret, split across chunks, comes back redacted.
const upstream = Readable.from([
  Buffer.from(`{"echo":"${secret.slice(0, 10)}`),
  Buffer.from(`${secret.slice(10)}"}`),
])
const redactor = redactStream(matcher) // replacement defaults to '[REDACTED]'
assert.equal(await text(upstream.pipe(redactor)), '{"echo":"[REDACTED]"}')
assert.equal(redactor.count, 1)
assert.equal(redactText(`Bearer ${secret}`, matcher).text, 'Bearer [REDACTED]') // header values
