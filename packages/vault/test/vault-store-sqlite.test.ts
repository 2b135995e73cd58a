import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createVault, listVaults, openVault, sqliteVaultStore } from '../src/index.js'
import { vaultStoreContract } from './contract/vault-store.js'

vaultStoreContract('sqlite', async () => {
  const root = mkdtempSync(join(tmpdir(), 'aegis-vault-store-'))
  const dataDir = join(root, 'data')
  const fileOf = (vault: string) => {
    const entry = listVaults(dataDir).find((v) => v.name === vault)
    if (!entry) throw new Error(`no vault ${vault}`)
    return entry.file
  }
  return {
    create: async (name, masterKey) => sqliteVaultStore(createVault({ dataDir, name, masterKey })),
    open: async (name, masterKey) => sqliteVaultStore(openVault({ dataDir, name, masterKey })),
    async storedSecret(vault, credential) {
      const db = new Database(fileOf(vault))
      try {
        const row = db.prepare('SELECT secret FROM credentials WHERE name = ?').get(credential) as {
          secret: Buffer
        }
        return row.secret
      } finally {
        db.close()
      }
    },
    async setStoredSecret(vault, credential, envelope) {
      const db = new Database(fileOf(vault))
      try {
        db.prepare('UPDATE credentials SET secret = ? WHERE name = ?').run(envelope, credential)
      } finally {
        db.close()
      }
    },
    async close() {
      rmSync(root, { recursive: true, force: true })
    },
  }
})
