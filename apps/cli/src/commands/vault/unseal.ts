import { callAdmin } from '@aegis/proxy'
import {
  acceptShares,
  assertOpensEveryVault,
  rebuildKey,
  requireCustody,
  unsealedKeyPath,
  writeUnsealedKey,
} from '@aegis/vault'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { checked, collectShares, liveGates, userToken } from '../../lib/custody.js'

/** `aegis vault unseal --json` */
export interface UnsealOutput {
  sealed: boolean
  threshold: number
  /** Shares a gate holds towards the threshold (0 once unsealed). */
  progress: number
  /** Where the key went: running gates (memory only) or `<data_dir>/unsealed.key` for CLI commands. */
  target: 'gate' | 'file'
  gates: number
  unsealedKey: string | null
}

export default class VaultUnseal extends AegisCommand<typeof VaultUnseal> {
  static override summary = 'Unseal the vault with key shares (to running gates, or to unsealed.key)'
  static override description =
    'Checks every share (format, checksum, split, duplicates). When a gate of this data dir is running, the ' +
    'shares go to it over its admin socket and it keeps the key in memory only (shares may be given by several ' +
    'people, one at a time, within 10 minutes). Otherwise the rebuilt key is checked and written to ' +
    '<data_dir>/unsealed.key (mode 0600) for CLI commands, until aegis vault seal.'
  static override examples = [
    '<%= config.bin %> vault unseal --key-share - < shares.txt',
    '<%= config.bin %> vault unseal --key-share aegis-share-v1.… --key-share aegis-share-v1.…',
  ]
  static override flags = {
    'key-share': Flags.string({
      description: 'A key share; repeat it, or pass - to read shares from stdin, one per line',
      multiple: true,
      required: true,
    }),
  }

  async run(): Promise<UnsealOutput> {
    const dataDir = this.dataDir()
    const custody = requireCustody(dataDir)
    const texts = await collectShares(this.flags['key-share'], process.stdin)
    const shares = acceptShares(texts, custody)
    const gates = await liveGates(dataDir)
    if (shares.length >= custody.threshold || gates.length === 0) {
      // Proven here first: a wrong key is an error before anything is sent or written.
      const key = await rebuildKey(shares, custody)
      try {
        assertOpensEveryVault(dataDir, key.toString('utf8'))
        if (gates.length === 0) writeUnsealedKey(dataDir, custody, key)
      } finally {
        key.fill(0)
      }
    }
    if (gates.length === 0) {
      const file = unsealedKeyPath(dataDir)
      this.log(`Unsealed: the key is in ${file} (mode 0600) for CLI commands; aegis vault seal removes it.`)
      return {
        sealed: false,
        threshold: custody.threshold,
        progress: 0,
        target: 'file',
        gates: 0,
        unsealedKey: file,
      }
    }
    let last: Record<string, unknown> = {}
    for (const gate of gates) {
      for (const text of texts) {
        last = checked(
          await callAdmin(gate.socket, {
            method: 'POST',
            path: '/unseal',
            body: { share: text },
            token: userToken(),
          }),
          gate.socket,
        )
        if (last.sealed === false) break
      }
    }
    const sealed = last.sealed !== false
    const progress = typeof last.progress === 'number' ? last.progress : 0
    const n = gates.length
    this.log(
      sealed
        ? `The running gate${n === 1 ? ' holds' : 's hold'} ${progress} of ${custody.threshold} shares: give the rest within 10 minutes (aegis vault unseal --key-share -).`
        : `Unsealed ${n} running gate${n === 1 ? '' : 's'}: the key is in memory only, no file was written.`,
    )
    return { sealed, threshold: custody.threshold, progress, target: 'gate', gates: n, unsealedKey: null }
  }
}
