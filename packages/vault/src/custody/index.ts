/**
 * Master-key custody: Shamir split into checksummed shares, the custody record with its key check,
 * the unsealed.key file for CLI commands, and a vault a gate can hold sealed.
 */

export type { ParsedShare } from './envelope.ts'
export { CustodyError, type CustodyErrorCode } from './errors.ts'
export type { KeyCheck } from './key-check.ts'
export { type CustodyRecord, custodyPath, readCustody, requireCustody, writeCustody } from './record.ts'
export { SealableVault, type SealableVaultOptions, type UnsealStatus } from './sealable.ts'
export { acceptShares, rebuildKey } from './shares.ts'
export { type SplitResult, splitKey, splitParameterProblem } from './split.ts'
export { readUnsealedKey, unsealedKeyPath, wipeUnsealedKey, writeUnsealedKey } from './unsealed-key.ts'
export { assertOpensEveryVault } from './verify.ts'
