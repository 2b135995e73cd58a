import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AccessStore,
  accessFile,
  addUser,
  authorize,
  BOOTSTRAP,
  commandPermission,
  resolveActor,
} from '@aegis/access'

const dataDir = mkdtempSync(join(tmpdir(), 'aegis-access-example-'))
try {
  const file = accessFile(dataDir) // <data_dir>/access.db: users are per data directory

  // No user yet: bootstrap, the one unauthenticated actor, may do everything.
  assert.equal(resolveActor({ file, token: undefined }), BOOTSTRAP)

  // The first user must be an admin; adding it ends bootstrap for good. The token is shown once.
  const root = addUser({ file, actor: BOOTSTRAP, name: 'root', role: 'admin' })
  assert.match(root.token, /^aegis_user_[0-9A-Za-z]{8}_[0-9A-Za-z]{49}$/)

  // Later changes name who makes them; the store re-checks them inside its write transaction.
  const store = AccessStore.open({ file })
  const admin = store.resolveActor(root.token)
  const alice = store.addUser(admin, { name: 'alice', role: 'operator' })
  assert.throws(() => store.removeUser(admin, { name: 'root' }), /last admin/)
  store.close()

  // Every app asks the same pure function, with the command table where it has commands.
  const operator = resolveActor({ file, token: alice.token })
  assert.deepEqual(authorize(operator, commandPermission('gate')), { allowed: true })
  assert.deepEqual(authorize(operator, commandPermission('vault:add')), {
    allowed: false,
    reason: 'operator may not vault:write',
  })
  assert.throws(() => resolveActor({ file, token: undefined }), /Authentication required/)
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
