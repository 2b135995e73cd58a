import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
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
        'SealableLiveSource',
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
        'rbacHint',
        'rbacRecord',
        'saltFromText',
        'sealedRbacHint',
        'stageFile',
        'writeFileAtomic',
      ].sort(),
    )
  })

  it('offers prepareVault alone as @aegis/vault/prepare, whose modules load no storage engine', async () => {
    const prepare = await import('../src/prepare.js')
    expect(Object.keys(prepare)).toEqual(['prepareVault'])
    // What src/prepare.ts imports, followed through the package's own modules.
    const packages = new Set<string>()
    const seen = new Set<string>()
    const walk = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const source = readFileSync(file, 'utf8')
      const specifiers = source.matchAll(
        /^(?:import|export)\s[^'"]*?\bfrom\s+'([^']+)'|^import\s+'([^']+)'/gm,
      )
      for (const [, from, bare] of specifiers) {
        const spec = from ?? bare
        if (spec?.startsWith('.')) walk(join(dirname(file), spec.replace(/\.js$/, '.ts')))
        else if (spec !== undefined) packages.add(spec)
      }
    }
    walk(fileURLToPath(new URL('../src/prepare.ts', import.meta.url)))
    expect(seen.size).toBeGreaterThan(3) // the walk followed the imports
    expect([...packages].filter((p) => !p.startsWith('node:')).sort()).toEqual([])
  })

  it('keeps the PostgreSQL engine in @aegis/vault/pg, so the root never loads pg', async () => {
    const pg = await import('../src/pg.js')
    expect(Object.keys(pg).sort()).toEqual(
      ['PG_VAULT_LOCATION', 'createPgVault', 'destroyPgVault', 'listPgVaults', 'openPgVault'].sort(),
    )
  })
})
