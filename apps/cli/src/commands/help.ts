import { Args, Command, loadHelpClass } from '@oclif/core'

/** `aegis help [COMMAND…]`: oclif's built-in help renderer (what @oclif/plugin-help's command does). */
export default class Help extends Command {
  static override summary = 'Display help for aegis'
  static override strict = false
  static override args = {
    command: Args.string({ description: 'Command to show help for, e.g. "vault add"', required: false }),
  }
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help vault add']

  async run(): Promise<void> {
    const { argv } = await this.parse(Help)
    const HelpClass = await loadHelpClass(this.config)
    const help = new HelpClass(
      this.config,
      this.config.pjson.oclif.helpOptions ?? this.config.pjson.helpOptions,
    )
    await help.showHelp(argv.map(String))
  }
}
