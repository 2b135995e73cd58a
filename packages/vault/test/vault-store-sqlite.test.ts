import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { deriveKeySync } from '../src/crypto.js'
import { createVault, listVaults, openVault, sqliteVaultStore } from '../src/index.js'
import { vaultStoreContract } from './contract/vault-store.js'
import { format4Of, type RawRows } from './fixtures/format4.js'

function readMeta(file: string): Map<string, string> {
  const db = new Database(file, { readonly: true })
  try {
    const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]
    return new Map(rows.map((r) => [r.key, r.value]))
  } finally {
    db.close()
  }
}

function writeMeta(file: string, format: string, keyCheck: Buffer): void {
  const db = new Database(file)
  try {
    db.prepare("UPDATE meta SET value = ? WHERE key = 'format_version'").run(format)
    db.prepare("UPDATE meta SET value = ? WHERE key = 'key_check'").run(keyCheck.toString('base64'))
  } finally {
    db.close()
  }
}

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
    async storedState(vault) {
      const meta = readMeta(fileOf(vault))
      return {
        format: meta.get('format_version') ?? '',
        keyCheck: Buffer.from(meta.get('key_check') ?? '', 'base64'),
      }
    },
    async setStoredState(vault, state) {
      writeMeta(fileOf(vault), state.format, state.keyCheck)
    },
    async makeFormat4(vault, masterKey) {
      const file = fileOf(vault)
      const meta = readMeta(file)
      const key = deriveKeySync(
        masterKey,
        Buffer.from(meta.get('salt') ?? '', 'hex'),
        Number(meta.get('kdf_iterations')),
      )
      const db = new Database(file)
      try {
        const raw: RawRows = {
          credentials: db.prepare('SELECT * FROM credentials ORDER BY id').all() as Record<string, unknown>[],
          agents: db.prepare('SELECT * FROM agents ORDER BY id').all() as Record<string, unknown>[],
          grants: db.prepare('SELECT * FROM grants ORDER BY agent_id, credential_id').all() as Record<
            string,
            unknown
          >[],
        }
        const f4 = format4Of(key, vault, Buffer.from(meta.get('key_check') ?? '', 'base64'), raw)
        const setSeal = {
          credentials: db.prepare('UPDATE credentials SET seal = ? WHERE id = ?'),
          agents: db.prepare('UPDATE agents SET seal = ? WHERE id = ?'),
          grants: db.prepare('UPDATE grants SET seal = ? WHERE agent_id = ? AND credential_id = ?'),
        }
        db.transaction(() => {
          for (const [i, r] of raw.credentials.entries()) setSeal.credentials.run(f4.credentialSeals[i], r.id)
          for (const [i, r] of raw.agents.entries()) setSeal.agents.run(f4.agentSeals[i], r.id)
          for (const [i, r] of raw.grants.entries())
            setSeal.grants.run(f4.grantSeals[i], r.agent_id, r.credential_id)
        })()
        db.close()
        writeMeta(file, '4', f4.keyCheck)
      } finally {
        if (db.open) db.close()
      }
    },
    async close() {
      rmSync(root, { recursive: true, force: true })
    },
  }
})
