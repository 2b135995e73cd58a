import type { StoredRows } from '@aegis/vault'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'

/** `vault reseal --json`: the rows as stored (what `--confirm` accepts), and whether it did. */
export interface ResealJson extends StoredRows {
  vault: string
  resealed: boolean
}

const mark = (holds: boolean) => (holds ? 'sealed' : 'SEAL BROKEN (stays refused)')

export default class VaultReseal extends AegisCommand<typeof VaultReseal> {
  static override summary = "Accept a vault's rows as they are now, after they were changed outside Aegis"
  static override description =
    "A vault whose credentials, agents or grants were added, removed or put back outside Aegis (an edit of its file or database, an old row replayed), or whose secrets' stored ciphertexts were replaced or damaged (a rotated secret's old ciphertext put back), serves nothing: which rows changed cannot be known. This prints every row as stored — names, services, domains, agents, grants; never a secret, token or hash — and, with --confirm, accepts them as the vault's rows, secrets included: rotate any credential whose secret you are not sure of. Read the list first: restoring the vault from a backup is the other way out. A row whose own seal is broken (its settings were edited) stays refused either way: remove it and add it again; a secret that no longer decrypts stays unavailable until rotated."
  static override examples = [
    '<%= config.bin %> vault reseal --name default',
    '<%= config.bin %> vault reseal --name default --confirm',
  ]
  static override flags = {
    name: Flags.string({ description: 'Vault name (default: the active vault)' }),
    confirm: Flags.boolean({ description: 'Accept the rows listed as the vault’s rows' }),
  }

  async run(): Promise<ResealJson> {
    const name = this.flags.name ?? this.activeVaultName()
    const confirm = this.flags.confirm
    const rows = await this.withVault(async (vault) => {
      const stored = await vault.storedRows()
      if (confirm) await vault.reseal()
      return stored
    }, name)
    this.#print(name, rows)
    if (confirm) this.log(`Resealed vault ${name}: these rows are its rows now.`)
    else if (rows.changed === null)
      this.log(`Vault ${name} matches the rows Aegis last wrote: nothing to reseal.`)
    else {
      this.log(`Nothing changed. To accept these rows: aegis vault reseal --name ${name} --confirm`)
      process.exitCode = 1
    }
    return { vault: name, resealed: confirm, ...rows }
  }

  #print(name: string, rows: StoredRows): void {
    this.log(
      rows.changed === null
        ? `Vault ${name}: every table is the set of rows Aegis last wrote.`
        : `Vault ${name}: its ${rows.changed} table is not the set of rows Aegis last wrote. As stored now:`,
    )
    this.log(`credentials (${rows.credentials.length}):`)
    for (const c of rows.credentials) {
      this.log(
        `  ${c.name}  service ${c.service}  domains ${c.domains}  auth ${c.authType}  scopes ${c.scopes}  rate ${c.rateLimit ?? '-'}  expires ${c.expiresAt ?? 'never'}  inspection ${c.bodyInspection}  ${mark(c.sealHolds)}`,
      )
    }
    this.log(`agents (${rows.agents.length}):`)
    for (const a of rows.agents) {
      this.log(
        `  ${a.name}  prefix ${a.prefix}  rate ${a.rateLimit ?? '-'}  max in flight ${a.maxInFlight ?? '-'}  ${mark(a.sealHolds)}`,
      )
    }
    this.log(`grants (${rows.grants.length}):`)
    for (const g of rows.grants) this.log(`  ${g.agent} -> ${g.credential}  ${mark(g.sealHolds)}`)
  }
}
