import { callAdmin } from '@aegis/proxy/internal'
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
import {
  assertOpensDatabaseVaults,
  checked,
  collectShares,
  type LiveGate,
  liveGates,
  userToken,
} from '../../lib/custody.js'

/** `aegis vault unseal --json` */
export interface UnsealOutput {
  sealed: boolean
  threshold: number
  /** Shares a gate holds towards the threshold (0 once unsealed). */
  progress: number
  /** Where the shares went: running gates (memory only), or only `<data_dir>/unsealed.key`. */
  target: 'gate' | 'file'
  gates: number
  /** `<data_dir>/unsealed.key` when it was written (no gate running, or `--key-file`). */
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
    '<%= config.bin %> vault unseal --key-share - --key-file < shares.txt   # a gate runs, and CLI commands need the key too',
  ]
  static override flags = {
    'key-share': Flags.string({
      description: 'A key share; repeat it, or pass - to read shares from stdin, one per line',
      multiple: true,
      required: true,
    }),
    'key-file': Flags.boolean({
      description:
        'Also write <data_dir>/unsealed.key for CLI commands when a gate is running (without a running gate it is always written)',
      default: false,
    }),
  }

  async run(): Promise<UnsealOutput> {
    const dataDir = this.dataDir()
    const custody = requireCustody(dataDir)
    const texts = await collectShares(this.flags['key-share'], process.stdin)
    const shares = acceptShares(texts, custody)
    const gates = await liveGates(dataDir)
    const toFile = gates.length === 0 || this.flags['key-file']
    // Proven here first: a wrong key is an error before anything is sent or written. Fewer shares
    // than the threshold can only go to a gate, which adds them to those other holders gave it.
    const key = shares.length >= custody.threshold || toFile ? await rebuildKey(shares, custody) : null
    try {
      if (key !== null) {
        assertOpensEveryVault(dataDir, key.toString('utf8'))
        await this.withStorage((storage) => assertOpensDatabaseVaults(storage, key.toString('utf8')))
      }
      const status = await this.#sendToGates(gates, texts)
      // Written last, so a gate that refused leaves no file behind.
      if (toFile && key !== null) writeUnsealedKey(dataDir, custody, key)
      // The key is proven: PostgreSQL's sealed state is lifted (a gate that unsealed did it too).
      if (key !== null) await this.#liftSharedSeal()
      return this.#report(dataDir, custody.threshold, gates.length, status, toFile)
    } finally {
      key?.fill(0)
    }
  }

  /**
   * PostgreSQL: the deployment is no longer sealed, so gates that start with the key serve. Gates
   * that were sealed while running forgot their key: each stays sealed until it is unsealed itself.
   */
  async #liftSharedSeal(): Promise<void> {
    await this.withStorage(async (storage) => {
      if (storage.pool === undefined) return
      const { writeSealState } = await import('@aegis/pg')
      await writeSealState(storage.pool, false, this.actor?.kind === 'user' ? this.actor.name : null)
    })
  }

  /**
   * Sends the shares to every running gate; the last gate's status (sealed when there is none),
   * with `repeated`: how many shares it already held (its progress did not move: counted once).
   */
  async #sendToGates(gates: LiveGate[], texts: string[]): Promise<Record<string, unknown>> {
    let last: Record<string, unknown> = { sealed: true, progress: 0 }
    for (const gate of gates) {
      let progress = gate.status.progress
      let repeated = 0
      for (const text of texts) {
        const reply = await callAdmin(gate.socket, {
          method: 'POST',
          path: '/unseal',
          body: { share: text },
          token: userToken(),
        })
        last = checked(reply, gate.socket)
        if (last.sealed === false) break
        if (last.progress === progress) repeated++
        progress = last.progress
      }
      last = { ...last, repeated }
    }
    return last
  }

  #report(
    dataDir: string,
    threshold: number,
    n: number,
    status: Record<string, unknown>,
    toFile: boolean,
  ): UnsealOutput {
    const file = toFile ? unsealedKeyPath(dataDir) : null
    if (n === 0) {
      this.log(`Unsealed: the key is in ${file} (mode 0600) for CLI commands; aegis vault seal removes it.`)
      return { sealed: false, threshold, progress: 0, target: 'file', gates: 0, unsealedKey: file }
    }
    const sealed = status.sealed !== false
    const progress = typeof status.progress === 'number' ? status.progress : 0
    const repeated = typeof status.repeated === 'number' ? status.repeated : 0
    // A share the gate already held is counted once: say so, or its holder reads "1 of 2" as lost.
    const again =
      repeated === 0
        ? ''
        : `${repeated === 1 ? 'That share was' : `${repeated} of these shares were`} given already (counted once). `
    this.log(
      sealed
        ? `${again}The running gate${n === 1 ? ' holds' : 's hold'} ${progress} of ${threshold} shares: give the rest within 10 minutes (aegis vault unseal --key-share -).`
        : `Unsealed ${n} running gate${n === 1 ? '' : 's'}: the key is in ${n === 1 ? 'its' : 'their'} memory only${file === null ? '; CLI commands stay sealed (add --key-file to write unsealed.key for them too)' : ''}.`,
    )
    if (file !== null)
      this.log(`The key is also in ${file} (mode 0600) for CLI commands; aegis vault seal removes it.`)
    return { sealed, threshold, progress, target: 'gate', gates: n, unsealedKey: file }
  }
}
