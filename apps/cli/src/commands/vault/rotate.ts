import { Flags } from '@oclif/core'
import { AegisCommand } from '../../base-command.js'
import { type CredentialJson, credentialJson } from '../../lib/credential-view.js'
import { CliError } from '../../lib/errors.js'
import { readSecret } from '../../lib/secret-input.js'

export default class VaultRotate extends AegisCommand<typeof VaultRotate> {
  static override summary = "Replace a credential's secret"
  static override description = 'The old secret stops being used as soon as the gate picks up the change.'
  static override examples = [
    '$ printf %s "$NEW_TOKEN" | <%= config.bin %> vault rotate --name slack-bot --secret -',
    '<%= config.bin %> vault rotate --name slack-bot   # prompts without echo',
  ]
  static override flags = {
    name: Flags.string({ description: 'Credential name', required: true }),
    secret: Flags.string({ description: 'The new secret; "-" reads it from stdin; omit it to be prompted' }),
  }

  async run(): Promise<CredentialJson> {
    const { name } = this.flags
    const info = await this.withVault(async (vault) => {
      // Fail on an unknown name before anyone types a secret (the vault would refuse it afterwards).
      if (!(await vault.list()).some((c) => c.name === name))
        throw new CliError(`No credential named "${name}"`)
      const secret = await readSecret({ flag: this.flags.secret, prompt: `New secret for ${name}` })
      return vault.rotate(name, secret)
    })
    this.log(`Rotated the secret of ${info.name}`)
    return credentialJson(info)
  }
}
