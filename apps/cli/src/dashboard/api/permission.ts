/** The permission of a dashboard write: the same row as the CLI command that does the same thing. */
import { type CommandId, commandPermission, type Permission } from '@aegis/access'

export function cliPermission(id: CommandId): Permission {
  const permission = commandPermission(id)
  // Every command a write mirrors has a permission; an open or unmapped one would be a table bug.
  if (permission === null || permission === undefined) throw new Error(`internal: ${id} has no permission`)
  return permission
}
