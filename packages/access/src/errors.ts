/** Why an access operation was refused. */
export type AccessErrorCode =
  | 'authentication_required'
  | 'invalid_token'
  | 'forbidden'
  | 'first_user_must_be_admin'
  | 'last_admin'
  | 'user_exists'
  | 'user_not_found'
  | 'invalid_input'
  | 'corrupt'
  /** Bootstrap refused: access.db holds no user although RBAC was turned on (see `guardBootstrap`). */
  | 'users_lost'

/** Every refusal of this package: a stable `code` and one line that never holds a token. */
export class AccessError extends Error {
  override readonly name = 'AccessError'
  constructor(
    readonly code: AccessErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
