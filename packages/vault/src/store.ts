import type { Secret } from './secret.js'
import type { StoredRows } from './stored-rows.js'
import type {
  AgentInfo,
  AgentLimits,
  AgentRecord,
  AgentWithToken,
  Credential,
  CredentialInfo,
  CredentialLoad,
  CredentialPatch,
  NewAgent,
  NewCredential,
} from './types.js'
import type { Vault } from './vault.js'

/**
 * The vault operations of either engine (embedded SQLite or PostgreSQL): what the CLI and the
 * gate use. Same names, semantics and `VaultError` codes as the sync `Vault`'s methods; every
 * failure is a rejected promise, never a synchronous throw (except the two crypto-only methods).
 */
export interface VaultStore {
  readonly name: string
  readonly engine: 'sqlite' | 'postgres'
  add(input: NewCredential): Promise<CredentialInfo>
  get(name: string): Promise<Credential | undefined>
  list(): Promise<CredentialInfo[]>
  loadCredentials(): Promise<CredentialLoad>
  update(name: string, patch: CredentialPatch): Promise<CredentialInfo>
  rotate(name: string, secret: string | Secret): Promise<CredentialInfo>
  remove(name: string): Promise<void>
  addAgent(input: NewAgent): Promise<AgentWithToken>
  listAgents(): Promise<AgentInfo[]>
  getAgent(name: string): Promise<AgentInfo | undefined>
  removeAgent(name: string): Promise<void>
  regenerateAgentToken(name: string): Promise<AgentWithToken>
  grant(agent: string, credential: string): Promise<boolean>
  revoke(agent: string, credential: string): Promise<boolean>
  setAgentLimits(name: string, limits: AgentLimits): Promise<AgentInfo>
  loadAgents(): Promise<AgentRecord[]>
  /** Every row as stored, for `aegis vault reseal` to print in full (see `Vault.storedRows`). */
  storedRows(): Promise<StoredRows>
  /** Accepts the rows as they are now as the vault's set (see `Vault.reseal`). */
  reseal(): Promise<void>
  /** Changes whenever anything in this vault changed, in any process. */
  changeToken(): Promise<string>
  /** Crypto only (no storage), hence sync: see `Vault.sealSecret`. */
  sealSecret(purpose: string, plaintext: string): Buffer
  openSecret(purpose: string, envelope: Buffer): string
  close(): Promise<void>
}

/**
 * A `VaultStore` over an open SQLite `Vault` (the default engine). Each call runs the sync method
 * and hands back its result or `VaultError` as a promise. `close()` closes the Vault.
 */
export function sqliteVaultStore(vault: Vault): VaultStore {
  // `async` turns a synchronous throw into a rejection, as the PostgreSQL engine behaves.
  return {
    name: vault.name,
    engine: 'sqlite',
    add: async (input) => vault.add(input),
    get: async (name) => vault.get(name),
    list: async () => vault.list(),
    loadCredentials: async () => vault.loadCredentials(),
    update: async (name, patch) => vault.update(name, patch),
    rotate: async (name, secret) => vault.rotate(name, secret),
    remove: async (name) => vault.remove(name),
    addAgent: async (input) => vault.addAgent(input),
    listAgents: async () => vault.listAgents(),
    getAgent: async (name) => vault.getAgent(name),
    removeAgent: async (name) => vault.removeAgent(name),
    regenerateAgentToken: async (name) => vault.regenerateAgentToken(name),
    grant: async (agent, credential) => vault.grant(agent, credential),
    revoke: async (agent, credential) => vault.revoke(agent, credential),
    setAgentLimits: async (name, limits) => vault.setAgentLimits(name, limits),
    loadAgents: async () => vault.loadAgents(),
    storedRows: async () => vault.storedRows(),
    reseal: async () => vault.reseal(),
    changeToken: async () => vault.changeToken(),
    sealSecret: (purpose, plaintext) => vault.sealSecret(purpose, plaintext),
    openSecret: (purpose, envelope) => vault.openSecret(purpose, envelope),
    close: async () => vault.close(),
  }
}
