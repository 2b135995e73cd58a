import { readFileSync, rmSync, statSync } from 'node:fs'
import { removeYamlKey } from '@aegis/config'
import {
  assertOpensEveryVault,
  custodyPath,
  splitKey,
  splitParameterProblem,
  wipeUnsealedKey,
  writeCustody,
  writeFileAtomic,
} from '@aegis/vault'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { assertOpensDatabaseVaults } from '../../lib/custody.js'
import { writeFailure, writeStdoutOnce } from '../../lib/stdout-once.js'

/** `aegis vault split --json` (interface.md §6). */
export interface SplitOutput {
  threshold: number
  shares: string[]
}

const NOTE =
  'master_key: removed by aegis vault split; the key now exists only as shares (aegis vault unseal)'

export default class VaultSplit extends AegisCommand<typeof VaultSplit> {
  static override summary = 'Split the master key into N shares, any M of which unseal the vault'
  static override description =
    'Prints the shares once, removes the master key from the config file and seals the vault: every ' +
    'command that needs the key then fails with "Vault is sealed" until aegis vault unseal (or AEGIS_MASTER_KEY). ' +
    'Splitting again makes a new set of shares; the old ones stop working.'
  static override examples = [
    '<%= config.bin %> vault split --shares 5 --threshold 3',
    '<%= config.bin %> vault split --shares 3 --threshold 2 --json > shares.json   # then hand one share to each holder',
  ]
  static override flags = {
    shares: Flags.integer({ description: 'How many shares to make (2-255)', required: true }),
    threshold: Flags.integer({
      description: 'How many shares unseal the vault (2 to --shares)',
      required: true,
    }),
  }

  async run(): Promise<undefined> {
    const { shares: count, threshold } = this.flags
    const problem = splitParameterProblem(count, threshold)
    if (problem) this.fail(`--${problem.field} ${problem.message}`)
    const config = this.loadAegisConfig()
    const dataDir = this.dataDir()
    // Read first: a split that another one overlaps anywhere from here to the commit is refused.
    const custodyFile = custodyPath(dataDir)
    let previous: string | null = null
    try {
      previous = readFileSync(custodyFile, 'utf8')
    } catch {
      // First split.
    }
    const masterKey = this.masterKey()
    // One key per data dir: a split that left a vault unopenable would lock it out for good.
    assertOpensEveryVault(dataDir, masterKey)
    await this.withStorage((storage) => assertOpensDatabaseVaults(storage, masterKey))

    // Everything that can fail is prepared before the first write.
    const configFile = config.source.file
    const configText = configFile === null ? null : readFileSync(configFile, 'utf8')
    const edited = configText === null ? null : removeYamlKey(configText, ['vault', 'master_key'], NOTE)
    const key = Buffer.from(masterKey, 'utf8')
    const result = await splitKey(key, count, threshold).finally(() => key.fill(0))

    // The shares are the only copy of the key once the split is committed: they are delivered
    // first, and a stdout that cannot take them (a full disk, a closed pipe) leaves everything as
    // it was — never a key removed with its shares lost.
    const json = this.jsonEnabled()
    const output: SplitOutput = { threshold, shares: result.shares }
    try {
      await writeStdoutOnce(
        json ? `${JSON.stringify(output, null, 2)}\n` : sharesText(count, threshold, result.shares, previous),
      )
    } catch (error) {
      this.fail(
        `Could not print the key shares (${writeFailure(error)}), so the key was not split: nothing changed, the master key is where it was, and any share that was printed does not work`,
      )
    }

    try {
      writeCustody(dataDir, result.record, previous)
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'changed') throw error
      this.fail(
        'Another aegis vault split finished while this one ran, so this one was not made: the shares printed above do not work (use those of the other split, or split again)',
      )
    }
    if (configFile !== null && edited !== null) {
      try {
        writeFileAtomic(configFile, edited, statSync(configFile).mode & 0o777)
      } catch (error) {
        if (previous === null) rmSync(custodyFile, { force: true })
        else writeFileAtomic(custodyFile, previous)
        throw error
      }
    }
    // A re-split seals: an unsealed.key of the old split would fail the new key check anyway.
    wipeUnsealedKey(dataDir)

    if (process.env.AEGIS_MASTER_KEY) {
      process.stderr.write(
        'Warning: AEGIS_MASTER_KEY is set in this environment, and commands run with it bypass the seal; unset it (and remove it from shell profiles, .env files and service definitions): Aegis never wrote it, so it cannot remove it\n',
      )
    }
    if (edited !== null) this.log(`Removed vault.master_key from ${configFile}.`)
    this.log('The vault is sealed. Unseal it with: aegis vault unseal --key-share - < file-with-shares')
    this.log('Running gates keep their key in memory until aegis vault seal.')
    // Printed above already (with --json, the one document).
    return undefined
  }
}

/** The human form of the one-time print. */
function sharesText(count: number, threshold: number, shares: string[], previous: string | null): string {
  return [
    `Split the master key into ${count} shares; any ${threshold} of them unseal the vault.`,
    `Shares (shown once: give each to a different holder; Aegis keeps none of them${previous === null ? '' : ', and the shares of the previous split no longer work'}):`,
    '',
    ...shares.map((share) => `  ${share}`),
    '',
    '',
  ].join('\n')
}
