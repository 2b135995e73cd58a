import { renderConfig } from '@aegis/config'
import { parse } from 'yaml'
import { AegisCommand } from '../../base-command.js'
import { requireWorkspace } from '../../lib/workspace.js'

export default class ConfigShow extends AegisCommand<typeof ConfigShow> {
  static override summary = 'Print the resolved configuration (flags > env > file > defaults), secrets masked'
  static override examples = ['<%= config.bin %> config show', '<%= config.bin %> config show --json']

  async run(): Promise<unknown> {
    const config = this.loadAegisConfig()
    // Defaults printed in a folder that is not a workspace read as if one were here.
    requireWorkspace(config, process.cwd())
    const yaml = renderConfig(config, { maskSecrets: true })
    if (config.source.file) this.log(`# from ${config.source.file}`)
    this.log(yaml.trimEnd())
    // The JSON view is derived from the masked YAML, so it can never hold more than the YAML does.
    return parse(yaml) as unknown
  }
}
