import type { Hook } from '@oclif/core'
import { nearest } from '../lib/nearest.js'

/**
 * A mistyped command suggests the nearest one (`aegis vualt list` → "Did you mean vault list?"),
 * compared word by word so a typo in the topic still finds the command, and exits 2 (a usage error).
 */
const hook: Hook<'command_not_found'> = async function (options) {
  const typed = options.id.split(':')
  const commands = options.config.commandIDs.map((id) => id.split(':'))
  const topics = [...new Set(commands.filter((words) => words.length > 1).map((words) => words[0] as string))]
  // Match the same number of words first ("vualt list" against two-word commands), then one word.
  const sameLength = commands.filter((words) => words.length === typed.length).map((words) => words.join(' '))
  const guess =
    nearest(typed.join(' '), sameLength) ??
    nearest(typed[0] as string, [
      ...topics,
      ...commands.filter((w) => w.length === 1).map((w) => w[0] as string),
    ])
  const shown = typed.join(' ')
  const hint = guess ? ` Did you mean ${guess}?` : ''
  this.error(`command ${shown} not found.${hint} Run ${options.config.bin} --help for every command.`, {
    exit: 2,
  })
}

export default hook
