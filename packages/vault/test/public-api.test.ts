import { describe, expect, it } from 'vitest'
import * as vault from '../src/index.js'

// The public surface is a promise to keep stable; the envelope, key derivation and migrations
// folder are internals (issue 13), so a new export must be added here on purpose.
describe('@aegis/vault public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(vault).sort()).toEqual(
      [
        'AGENT_TOKEN_BYTES',
        'CustodyError',
        'SealableVault',
        'acceptShares',
        'assertOpensEveryVault',
        'custodyPath',
        'readCustody',
        'readUnsealedKey',
        'rebuildKey',
        'requireCustody',
        'splitKey',
        'splitParameterProblem',
        'sqliteVaultStore',
        'LiveCredentialSource',
        'VAULT_PG_MIGRATIONS',
        'unsealedKeyPath',
        'wipeUnsealedKey',
        'writeCustody',
        'writeUnsealedKey',
        'AGENT_TOKEN_PREFIX',
        'MAX_IN_FLIGHT_LIMIT',
        'Secret',
        'Vault',
        'VaultError',
        'agentTokenPrefix',
        'createVault',
        'destroyVault',
        'generateMasterKey',
        'hashAgentToken',
        'isAgentTokenShape',
        'isExpired',
        'listVaults',
        'openVault',
        'prepareVault',
        'stageFile',
        'writeFileAtomic',
      ].sort(),
    )
  })

  it('keeps the PostgreSQL engine in @aegis/vault/pg, so the root never loads pg', async () => {
    const pg = await import('../src/pg.js')
    expect(Object.keys(pg).sort()).toEqual(
      ['PG_VAULT_LOCATION', 'createPgVault', 'destroyPgVault', 'listPgVaults', 'openPgVault'].sort(),
    )
  })
})
