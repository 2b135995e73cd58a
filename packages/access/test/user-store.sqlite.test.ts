import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { AccessStore, accessFile, sqliteUserStore } from '../src/index.js'
import { userStoreContract } from './contract/user-store.js'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

userStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-access-contract-'))
  dirs.push(dir)
  return sqliteUserStore(AccessStore.open({ file: accessFile(dir), create: true }) as AccessStore)
})
