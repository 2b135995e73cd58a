/**
 * Master-key custody: Shamir split into checksummed shares, the custody record with its key check,
 * the unsealed.key file for CLI commands, and a vault a gate can hold sealed.
 */

export type { ParsedShare } from './envelope.js'
export { CustodyError, type CustodyErrorCode } from './errors.js'
export type { KeyCheck } from './key-check.js'
export { type CustodyRecord, custodyPath, readCustody, requireCustody, writeCustody } from './record.js'
export { SealableVault, type SealableVaultOptions, type UnsealStatus } from './sealable.js'
export { SealableLiveSource, type SealableLiveSourceOptions } from './sealable-live.js'
export { acceptShares, rebuildKey } from './shares.js'
export { type SplitResult, splitKey, splitParameterProblem } from './split.js'
export { readUnsealedKey, unsealedKeyPath, wipeUnsealedKey, writeUnsealedKey } from './unsealed-key.js'
export { assertOpensEveryVault } from './verify.js'
