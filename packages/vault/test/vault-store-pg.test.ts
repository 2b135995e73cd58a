import { pgTestUrl } from '@aegis/pg/testing'
import { vaultStoreContract } from './contract/vault-store.js'
import { pgScratch } from './pg/engine.js'

const adminUrl = pgTestUrl('@aegis/vault VaultStore contract (postgres)')

vaultStoreContract('postgres', async () => (adminUrl ? (await pgScratch(adminUrl)).engine : undefined))
