/**
 * @aegis/access — operators: users with one of three roles, the 16 permissions, the one
 * `authorize(actor, permission)` every app calls, and the command → permission table of the CLI.
 * Importing it opens nothing: the roles, permissions, `authorize` and the tables are plain data and
 * pure functions; only `AccessStore` / `resolveActor` touch `<data_dir>/access.db`; the PostgreSQL
 * store, `openPgUserStore`, is `@aegis/access/pg`.
 */
export { type Actor, BOOTSTRAP, type UserActor } from './actor.js'
export { authorize, type Decision } from './authorize.js'
export { guardBootstrap, lostUsersMessage, type RbacRecord } from './bootstrap-guard.js'
export { type AccessCheck, AUTHENTICATION_REQUIRED, checkAccess, checkUserAccess } from './check.js'
export { COMMAND_PERMISSIONS, type CommandId, commandPermission } from './commands.js'
export { AccessError, type AccessErrorCode } from './errors.js'
export {
  authorizeLedgerRead,
  LEDGER_VIEW_ROWS,
  type LedgerRead,
  ledgerReadPermission,
  ledgerViewRows,
} from './ledger-read.js'
export { isPermission, PERMISSIONS, type Permission, ROLE_PERMISSIONS } from './permissions.js'
export { ACCESS_PG_MIGRATIONS } from './pg-migrations.js'
export { isRole, ROLES, type Role } from './roles.js'
export { INVALID_USER_TOKEN, invalidUserToken } from './rules.js'
export {
  AccessStore,
  type AddUserOptions,
  accessFile,
  addUser,
  type DeliverToken,
  type IssuedToken,
  resolveActor,
  type UserInfo,
} from './store.js'
export { sqliteUserStore, type UserStore } from './user-store.js'
