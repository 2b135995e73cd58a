/**
 * @aegis/vault — the encrypted credential store: AES-256-GCM secrets bound to their vault and row,
 * a PBKDF2-HMAC-SHA512 key per vault, one SQLite file per vault (or one PostgreSQL database for
 * every vault); agent identities (hashed tokens) and their grants live beside the credentials.
 */
export {
  AGENT_TOKEN_BYTES,
  AGENT_TOKEN_PREFIX,
  agentTokenPrefix,
  hashAgentToken,
  isAgentTokenShape,
} from './agent-token.js'
export { MAX_IN_FLIGHT_LIMIT } from './agent-validate.js'
// The envelope (seal/open), key derivation and the migrations folder are internals: a caller that
// needed them would be bypassing the vault's binding of each secret to its vault and row.
export { generateMasterKey } from './crypto.js'
export {
  acceptShares,
  assertOpensEveryVault,
  CustodyError,
  type CustodyErrorCode,
  type CustodyRecord,
  custodyPath,
  type KeyCheck,
  type ParsedShare,
  readCustody,
  readUnsealedKey,
  rebuildKey,
  requireCustody,
  SealableLiveSource,
  type SealableLiveSourceOptions,
  SealableVault,
  type SealableVaultOptions,
  type SplitResult,
  splitKey,
  splitParameterProblem,
  type UnsealStatus,
  unsealedKeyPath,
  wipeUnsealedKey,
  writeCustody,
  writeUnsealedKey,
} from './custody/index.js'
export { VaultError, type VaultErrorCode } from './errors.js'
export { isExpired } from './expiry.js'
export { stageFile, writeFileAtomic } from './files.js'
export { LiveCredentialSource, type LiveCredentialSourceOptions } from './live-source.js'
export {
  type CreateVaultOptions,
  createVault,
  destroyVault,
  listVaults,
  type OpenVaultOptions,
  openVault,
} from './manage.js'
export { VAULT_PG_MIGRATIONS } from './pg-migrations.js'
export { type PrepareVaultOptions, prepareVault } from './prepare.js'
export { rbacHint, rbacRecord, sealedRbacHint } from './rbac-state.js'
export { saltFromText } from './salt.js'
export { Secret } from './secret.js'
export { sqliteVaultStore, type VaultStore } from './store.js'
export type { StoredRows } from './stored-rows.js'
export type {
  AgentInfo,
  AgentLimits,
  AgentRecord,
  AgentWithToken,
  AuthType,
  BodyInspection,
  Credential,
  CredentialInfo,
  CredentialLoad,
  CredentialPatch,
  NewAgent,
  NewCredential,
  Scope,
  UnavailableCredential,
  VaultInfo,
} from './types.js'
export { Vault } from './vault.js'
