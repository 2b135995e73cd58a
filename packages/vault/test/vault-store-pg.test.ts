import { pgTestUrl } from '../../../test-support/pg-url.js'
import { vaultStoreContract } from './contract/vault-store.js'
import { pgScratch } from './pg/engine.js'

const adminUrl = pgTestUrl('@aegis/vault VaultStore contract (postgres)')

vaultStoreContract('postgres', async () => (adminUrl ? (await pgScratch(adminUrl)).engine : undefined))
