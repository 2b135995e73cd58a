// Create a vault in a temporary folder, add a credential, read it back.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createVault, generateMasterKey, openVault, VaultError } from '@aegis/vault'

const dataDir = mkdtempSync(join(tmpdir(), 'aegis-vault-'))
const masterKey = generateMasterKey() // 256-bit, base64url: show it to the user once
try {
  const vault = createVault({ dataDir, name: 'default', masterKey })
  vault.add({
    name: 'slack-bot',
    service: 'slack',
    secret: 'xoxb-0123456789-abcdefghij',
    domains: ['slack.com', '*.slack.com'],
    scopes: ['read', 'write'],
    rateLimit: '100/min',
  })
  vault.close()

  // Later, in another process: the same folder and master key.
  const reopened = openVault({ dataDir, name: 'default', masterKey })
  const credential = reopened.get('slack-bot')
  assert.equal(String(credential.secret), '[REDACTED]') // printing a secret shows nothing
  assert.equal(credential.secret.reveal(), 'xoxb-0123456789-abcdefghij') // only where it is injected
  assert.deepEqual(
    reopened.list().map((c) => c.service),
    ['slack'],
  )
  reopened.close()

  // Every deliberate failure is a VaultError with a stable code and a message without secrets.
  assert.throws(() => openVault({ dataDir, name: 'default', masterKey: generateMasterKey() }), VaultError)
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
