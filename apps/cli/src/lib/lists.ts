import { CliError } from './errors.js'

/**
 * Splits the comma-separated value of `flag` (`--domains`, `--scopes`, `--events`) into trimmed
 * items (`"a, b"` → `["a","b"]`). An empty item (`a,,b`, `a,`, `,a`) is refused, naming the flag
 * and its position: dropping it silently would hide a typo (a value lost between two commas). A
 * value with no item at all (``, ` , `) gives `[]`, for the caller's own "empty" refusal.
 */
export function splitList(value: string, flag: string): string[] {
  const items = value.split(',').map((item) => item.trim())
  if (items.every((item) => item === '')) return []
  const empty = items.indexOf('')
  if (empty !== -1) {
    throw new CliError(
      `Invalid ${flag}: entry ${empty + 1} of ${items.length} is empty (a doubled, leading or trailing comma); separate the values with single commas`,
    )
  }
  return items
}
