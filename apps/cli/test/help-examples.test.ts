/**
 * Every example of every command reads as one thing to type: `aegis --help` shows each as a `$ `
 * line. oclif adds the `$ ` only to an example that starts with the binary, so one that starts with
 * `printf … |` or `AEGIS_X=… ` must carry it itself; a new command cannot slip out of line.
 */
import { type Command, Config, Help } from '@oclif/core'
import { describe, expect, it } from 'vitest'
import { CLI_ROOT } from './helpers/run-cli.js'

/** oclif's help, as `aegis <id> --help` prints it (formatCommand is protected). */
class CommandHelpText extends Help {
  of(command: Command.Loadable): string {
    return this.formatCommand(command)
  }
}

/** The lines of the EXAMPLES section of `aegis <id> --help`, as a terminal shows them (no colour). */
function exampleLines(help: CommandHelpText, config: Config, id: string): string[] {
  const command = config.findCommand(id)
  if (command === undefined) throw new Error(`no command ${id}`)
  const lines = help.of(command).split('\n')
  const start = lines.indexOf('EXAMPLES')
  if (start === -1) return []
  const end = lines.findIndex((line, i) => i > start && /^\S/.test(line))
  return lines.slice(start + 1, end === -1 ? undefined : end).filter((line) => line.trim() !== '')
}

describe('command examples', () => {
  it('every command has examples, and each shows as one `$ ` command line', async () => {
    const config = await Config.load(CLI_ROOT)
    const help = new CommandHelpText(config, { stripAnsi: true, maxWidth: 10_000 })
    const ids = config.commands.map((c) => c.id).filter((id) => id !== 'help')
    expect(ids.length).toBeGreaterThan(40)
    const unprefixed: string[] = []
    for (const id of ids) {
      const lines = exampleLines(help, config, id)
      if (lines.length === 0) unprefixed.push(`${id}: no example`)
      for (const line of lines) {
        if (!line.startsWith('  $ ')) unprefixed.push(`${id}: ${line.trim()}`)
      }
    }
    expect(unprefixed).toEqual([])
  })
})
