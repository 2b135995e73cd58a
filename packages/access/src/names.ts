import { AccessError } from './errors.js'

// Letters, digits and `._@-`, starting with a letter or digit: safe in a table, a log line and a
// shell, and room for an e-mail-like name.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/

/** A user name, or an AccessError. The refused value is not echoed (it may be a pasted token). */
export function checkUserName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new AccessError(
      'invalid_input',
      'Invalid user name: use 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
    )
  }
  return name
}
