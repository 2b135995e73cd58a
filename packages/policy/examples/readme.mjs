// Load a folder of agent policies and decide a few requests; a broken file denies its agent.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decideForAgent, loadPolicyDir } from '@aegis/policy'

const dir = mkdtempSync(join(tmpdir(), 'aegis-policies-'))
try {
  writeFileSync(
    join(dir, 'research-bot.yaml'),
    `agent: research-bot
rules:
  - service: github
    methods: [GET]
    paths: ["/repos/[^/]+/[^/]+/issues"] # a regular expression over the whole path
    rate_limit: 100/hour
`,
  )
  writeFileSync(
    join(dir, 'broken-bot.yaml'),
    'agent: broken-bot\nrules:\n  - service: github\n    methods: [get]\n',
  )

  const set = loadPolicyDir(dir) // or `new PolicyWatcher(dir, { onReload })` for hot reload
  const now = Date.now()
  const ask = (agent, method, path) =>
    decideForAgent(set, agent, { service: 'github', method, path, now }, { defaultPolicy: 'allow' })

  const allowed = ask('research-bot', 'GET', '/repos/acme/app/issues')
  assert.equal(allowed.allowed, true)
  assert.equal(allowed.rate.key.length > 0, true) // the caller reserves this rule's budget
  assert.equal(ask('research-bot', 'POST', '/repos/acme/app/issues').allowed, false)
  assert.equal(ask('research-bot', 'GET', '/repos/acme/app/../secrets').allowed, false)
  assert.equal(ask('broken-bot', 'GET', '/anything').allowed, false) // a file with errors denies all
  assert.match(set.errors[0].message, /broken-bot\.yaml:4: rules\[0\]\.methods\[0\]: unknown method/) // file:line: field
  assert.equal(ask('no-policy-bot', 'GET', '/x').allowed, true) // defaultPolicy: 'allow'
} finally {
  rmSync(dir, { recursive: true, force: true })
}
