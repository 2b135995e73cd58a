import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashAgentToken, Secret, VaultError, type VaultErrorCode, type VaultStore } from '../../src/index.js'

/** One engine as the contract needs it: fresh vaults, a second handle on one, and raw DB access. */
export interface VaultStoreEngine {
  /** A new, empty vault (a new name each call) opened with `key`. */
  create(name: string, key: string): Promise<VaultStore>
  /** Another handle on an existing vault, as a second process would have it (own connection). */
  open(name: string, key: string): Promise<VaultStore>
  /** Replaces a credential's stored envelope behind the store's back (what an attacker with DB access does). */
  setStoredSecret(vault: string, credential: string, envelope: Buffer): Promise<void>
  storedSecret(vault: string, credential: string): Promise<Buffer>
  /** The stored format and key check, to save and put back (what a key-less attacker can do). */
  storedState(vault: string): Promise<StoredState>
  setStoredState(vault: string, state: StoredState): Promise<void>
  /** Turns the vault (closed) back into format 4, as the previous release stored it: needs the key. */
  makeFormat4(vault: string, key: string): Promise<void>
  close(): Promise<void>
}

export interface StoredState {
  format: string
  keyCheck: Buffer
}

/** What every row of a vault whose credentials table no longer matches its sealed state says. */
const TABLE_REFUSED = /its credentials table does not match the set of rows Aegis last wrote/

export const KEY = 'contract-master-key-0123456789abcdefghij'
export const SECRET = 'sk-contract-secret-6f3b9e1d2c4a8b7e5f0a'

let seq = 0
/** A vault name no other test of the run uses. */
export function vaultName(): string {
  seq++
  return `c${process.pid}-${seq}`
}

async function rejects(
  promise: Promise<unknown>,
  code: VaultErrorCode,
  message?: RegExp,
): Promise<VaultError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, `expected VaultError ${code}`).toBeInstanceOf(VaultError)
  const ve = err as VaultError
  expect(ve.code).toBe(code)
  if (message) expect(ve.message).toMatch(message)
  expect(ve.message).not.toContain(SECRET)
  return ve
}

function credential(name: string, service: string, secret = SECRET) {
  return { name, service, secret, domains: ['api.example.com'], scopes: ['read' as const] }
}

/**
 * The VaultStore contract: the same observable behaviour on every engine. `setup` returns
 * undefined when the engine is not available (the suite then skips, loudly, at its caller).
 */
export function vaultStoreContract(
  engineName: string,
  setup: () => Promise<VaultStoreEngine | undefined>,
): void {
  describe(`VaultStore contract: ${engineName}`, () => {
    let engine: VaultStoreEngine | undefined
    beforeAll(async () => {
      engine = await setup()
    })
    afterAll(async () => {
      await engine?.close()
    })

    function eng(): VaultStoreEngine {
      if (!engine) throw new Error('engine not set up')
      return engine
    }

    async function fresh(): Promise<{ store: VaultStore; name: string }> {
      const name = vaultName()
      return { store: await eng().create(name, KEY), name }
    }

    const maybe = (title: string, fn: () => Promise<void>) =>
      it(title, async (ctx) => {
        if (!engine) ctx.skip()
        await fn()
      })

    maybe('add / get / list: the secret comes back only from get, list is ordered by name', async () => {
      const { store } = await fresh()
      expect(store.engine).toBe(engineName)
      const info = await store.add(credential('zeta', 'zeta-svc'))
      expect(JSON.stringify(info)).not.toContain(SECRET)
      expect(info).toMatchObject({ name: 'zeta', service: 'zeta-svc', authType: 'bearer', scopes: ['read'] })
      await store.add(credential('Alpha', 'alpha', `${SECRET}-2`))
      await store.add(credential('beta', 'beta'))
      await store.add(credential('Zulu', 'zulu'))
      // Byte order, as SQLite compares: upper case first, whatever the database's collation.
      expect((await store.list()).map((c) => c.name)).toEqual(['Alpha', 'Zulu', 'beta', 'zeta'])
      const got = await store.get('zeta')
      expect(got?.secret).toBeInstanceOf(Secret)
      expect(got?.secret.reveal()).toBe(SECRET)
      expect(await store.get('nope')).toBeUndefined()
      await store.close()
    })

    maybe('add refuses invalid input and duplicates, changing nothing', async () => {
      const { store } = await fresh()
      await store.add(credential('one', 'svc'))
      await rejects(store.add(credential('one', 'other')), 'duplicate', /credential named "one"/)
      await rejects(
        store.add(credential('two', 'svc')),
        'duplicate',
        /Service "svc" is already used by credential "one"/,
      )
      await rejects(store.add({ ...credential('bad name!', 'x') }), 'invalid_input')
      await rejects(store.add({ ...credential('three', 'three'), extra: 1 } as never), 'invalid_input')
      await rejects(store.add({ ...credential('three', 'three'), domains: [] }), 'invalid_input')
      expect((await store.list()).map((c) => c.name)).toEqual(['one'])
      await rejects(store.get('bad name!'), 'invalid_input')
      await store.close()
    })

    maybe('update changes metadata, keeps the secret; not_found and invalid_input', async () => {
      const { store } = await fresh()
      await store.add(credential('c', 'c'))
      const updated = await store.update('c', {
        domains: ['a.example.com'],
        rateLimit: '10/min',
        authType: 'header',
        headerName: 'X-Key',
      })
      expect(updated).toMatchObject({
        domains: ['a.example.com'],
        rateLimit: '10/min',
        authType: 'header',
        headerName: 'X-Key',
      })
      expect((await store.get('c'))?.secret.reveal()).toBe(SECRET)
      expect((await store.list())[0]).toMatchObject({ rateLimit: '10/min', headerName: 'X-Key' })
      await rejects(
        store.update('missing', { rateLimit: null }),
        'not_found',
        /No credential named "missing"/,
      )
      await rejects(store.update('c', { rateLimit: 'fast' }), 'invalid_input')
      expect((await store.list())[0]?.rateLimit).toBe('10/min')
      await store.close()
    })

    maybe('rotate replaces the secret and sets rotatedAt; not_found and invalid_input', async () => {
      const { store } = await fresh()
      await store.add(credential('c', 'c'))
      const rotated = await store.rotate('c', new Secret(`${SECRET}-new`))
      expect(rotated.rotatedAt).not.toBeNull()
      expect((await store.get('c'))?.secret.reveal()).toBe(`${SECRET}-new`)
      await rejects(store.rotate('missing', 'x-secret-value'), 'not_found')
      await rejects(store.rotate('c', ''), 'invalid_input')
      expect((await store.get('c'))?.secret.reveal()).toBe(`${SECRET}-new`)
      await store.close()
    })

    maybe('remove deletes the credential and its grants; not_found', async () => {
      const { store } = await fresh()
      await store.add(credential('c', 'c'))
      await store.addAgent({ name: 'bot' })
      await store.grant('bot', 'c')
      await store.remove('c')
      expect(await store.list()).toEqual([])
      expect((await store.getAgent('bot'))?.grants).toEqual([])
      expect((await store.loadAgents())[0]?.grants).toEqual([])
      await rejects(store.remove('c'), 'not_found')
      // Re-added under the same name: a new row, no grants carried over.
      await store.add(credential('c', 'c'))
      expect((await store.getAgent('bot'))?.grants).toEqual([])
      await store.close()
    })

    maybe('loadCredentials serves every usable credential, decrypted', async () => {
      const { store } = await fresh()
      await store.add(credential('a', 'a', `${SECRET}-a`))
      await store.add(credential('b', 'b', `${SECRET}-b`))
      const load = await store.loadCredentials()
      expect(load.unavailable).toEqual([])
      expect(load.credentials.map((c) => [c.name, c.secret.reveal()])).toEqual([
        ['a', `${SECRET}-a`],
        ['b', `${SECRET}-b`],
      ])
      await store.close()
    })

    maybe('agents: add (token once), get, list, duplicate, invalid input, remove, not_found', async () => {
      const { store } = await fresh()
      const { agent, token } = await store.addAgent({ name: 'bot', rateLimit: '5/min', maxInFlight: 2 })
      expect(token.startsWith(agent.prefix)).toBe(true)
      expect(JSON.stringify(agent)).not.toContain(token)
      expect(agent).toMatchObject({ name: 'bot', rateLimit: '5/min', maxInFlight: 2, grants: [] })
      await store.addAgent({ name: 'Another' })
      expect((await store.listAgents()).map((a) => a.name)).toEqual(['Another', 'bot'])
      expect((await store.getAgent('bot'))?.id).toBe(agent.id)
      expect(await store.getAgent('ghost')).toBeUndefined()
      await rejects(store.addAgent({ name: 'bot' }), 'duplicate', /agent named "bot"/)
      await rejects(store.addAgent({ name: '-bad' }), 'invalid_input')
      await rejects(store.addAgent({ name: 'x', maxInFlight: 0 }), 'invalid_input')
      await rejects(store.getAgent(token), 'invalid_input')
      await store.removeAgent('bot')
      expect((await store.listAgents()).map((a) => a.name)).toEqual(['Another'])
      const err = await rejects(store.removeAgent('bot'), 'not_found', /No agent named "bot"/)
      expect(err.message).not.toContain(token)
      await store.close()
    })

    maybe('regenerateAgentToken replaces the hash, keeps grants and limits; not_found', async () => {
      const { store } = await fresh()
      await store.add(credential('c', 'c'))
      const first = await store.addAgent({ name: 'bot', rateLimit: '5/min' })
      await store.grant('bot', 'c')
      const second = await store.regenerateAgentToken('bot')
      expect(second.token).not.toBe(first.token)
      expect(second.agent).toMatchObject({ grants: ['c'], rateLimit: '5/min' })
      expect(second.agent.tokenRotatedAt).not.toBeNull()
      const [record] = await store.loadAgents()
      expect(record?.tokenHash.equals(hashAgentToken(second.token))).toBe(true)
      expect(record?.tokenHash.equals(hashAgentToken(first.token))).toBe(false)
      await rejects(store.regenerateAgentToken('ghost'), 'not_found')
      await store.close()
    })

    maybe('grant / revoke are idempotent and name the unknown side', async () => {
      const { store } = await fresh()
      const c2 = await store.add(credential('zz', 'zz'))
      const c1 = await store.add(credential('aa', 'aa'))
      await store.addAgent({ name: 'bot' })
      expect(await store.grant('bot', 'zz')).toBe(true)
      expect(await store.grant('bot', 'zz')).toBe(false)
      expect(await store.grant('bot', 'aa')).toBe(true)
      expect((await store.getAgent('bot'))?.grants).toEqual(['aa', 'zz'])
      expect((await store.listAgents())[0]?.grants).toEqual(['aa', 'zz'])
      expect([...((await store.loadAgents())[0]?.grants ?? [])].sort()).toEqual([c1.id, c2.id].sort())
      expect(await store.revoke('bot', 'zz')).toBe(true)
      expect(await store.revoke('bot', 'zz')).toBe(false)
      expect((await store.getAgent('bot'))?.grants).toEqual(['aa'])
      await rejects(store.grant('ghost', 'aa'), 'not_found', /No agent named "ghost"/)
      await rejects(store.grant('bot', 'ghost'), 'not_found', /No credential named "ghost"/)
      await rejects(store.revoke('bot', 'ghost'), 'not_found')
      await rejects(store.revoke('ghost', 'aa'), 'not_found')
      await store.close()
    })

    maybe('setAgentLimits sets, keeps and clears; invalid_input and not_found', async () => {
      const { store } = await fresh()
      await store.addAgent({ name: 'bot', rateLimit: '5/min' })
      expect(await store.setAgentLimits('bot', { maxInFlight: 3 })).toMatchObject({
        rateLimit: '5/min',
        maxInFlight: 3,
      })
      expect(await store.setAgentLimits('bot', { rateLimit: null })).toMatchObject({
        rateLimit: null,
        maxInFlight: 3,
      })
      await rejects(store.setAgentLimits('bot', { maxInFlight: -1 }), 'invalid_input')
      await rejects(store.setAgentLimits('ghost', {}), 'not_found')
      const [record] = await store.loadAgents()
      expect(record).toMatchObject({ name: 'bot', rateLimit: null, maxInFlight: 3 })
      await store.close()
    })

    maybe('changeToken moves after a change made through another handle', async () => {
      const { store, name } = await fresh()
      const other = await eng().open(name, KEY)
      const before = await store.changeToken()
      expect(await store.changeToken()).toBe(before)
      await other.add(credential('c', 'c'))
      const afterAdd = await store.changeToken()
      expect(afterAdd).not.toBe(before)
      await other.addAgent({ name: 'bot' })
      expect(await store.changeToken()).not.toBe(afterAdd)
      await other.close()
      await store.close()
    })

    maybe('sealSecret / openSecret: bound to vault and purpose, opens through another handle', async () => {
      const { store, name } = await fresh()
      const envelope = store.sealSecret('webhook:1', SECRET)
      expect(envelope.includes(Buffer.from(SECRET))).toBe(false)
      expect(store.openSecret('webhook:1', envelope)).toBe(SECRET)
      expect(() => store.openSecret('webhook:2', envelope)).toThrow(VaultError)
      const other = await eng().open(name, KEY)
      expect(other.openSecret('webhook:1', envelope)).toBe(SECRET)
      const { store: elsewhere } = await fresh()
      expect(() => elsewhere.openSecret('webhook:1', envelope)).toThrow(/authentication/)
      await Promise.all([other.close(), store.close(), elsewhere.close()])
    })

    maybe('a closed store refuses every call with io', async () => {
      const { store } = await fresh()
      await store.close()
      await store.close()
      await rejects(store.list(), 'io', /closed/)
      await rejects(store.add(credential('c', 'c')), 'io')
      await rejects(store.loadAgents(), 'io')
      expect(() => store.sealSecret('p', 'x')).toThrow(VaultError)
    })

    maybe('a wrong master key is invalid_master_key', async () => {
      const { store, name } = await fresh()
      await store.add(credential('c', 'c'))
      await rejects(eng().open(name, `${KEY}-wrong`), 'invalid_master_key', /^Invalid master key$/)
      expect((await store.list()).length).toBe(1)
      await store.close()
    })

    maybe(
      'a tampered ciphertext refuses the credentials table; accepted (reseal), only that credential is unavailable',
      async () => {
        const { store, name } = await fresh()
        await store.add(credential('good', 'good', `${SECRET}-good`))
        await store.add(credential('bad', 'bad', `${SECRET}-bad`))
        const stored = await eng().storedSecret(name, 'bad')
        const flipped = Buffer.from(stored)
        flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1
        await eng().setStoredSecret(name, 'bad', flipped)
        // The envelope is part of the set of rows: a damaged one refuses every credential, naming the table.
        const refused = await store.loadCredentials()
        expect(refused.credentials).toEqual([])
        for (const u of refused.unavailable) expect(u.reason).toMatch(TABLE_REFUSED)
        expect((await store.storedRows()).changed).toBe('credentials')
        await store.reseal()
        const load = await store.loadCredentials()
        expect(load.credentials.map((c) => c.name)).toEqual(['good'])
        expect(load.unavailable).toHaveLength(1)
        expect(load.unavailable[0]).toMatchObject({ name: 'bad', service: 'bad', secret: null })
        expect(load.unavailable[0]?.reason).toMatch(
          /^cannot be decrypted: its stored ciphertext failed authentication/,
        )
        await rejects(store.get('bad'), 'corrupt', /^Credential "bad" cannot be decrypted/)
        expect((await store.list()).map((c) => c.name)).toEqual(['bad', 'good'])
        // The envelope of another credential (bound to its row) does not open here either.
        await eng().setStoredSecret(name, 'bad', await eng().storedSecret(name, 'good'))
        await store.reseal()
        expect((await store.loadCredentials()).unavailable.map((u) => u.name)).toEqual(['bad'])
        // Truncated.
        await eng().setStoredSecret(name, 'bad', Buffer.from([1, 2, 3]))
        await store.reseal()
        expect((await store.loadCredentials()).unavailable[0]?.reason).toMatch(/truncated/)
        // Rotating repairs it.
        await store.rotate('bad', `${SECRET}-new`)
        expect((await store.loadCredentials()).unavailable).toEqual([])
        await store.close()
      },
    )

    maybe(
      'a rotated secret whose old envelope is written back is not served: the credentials table is refused until reseal',
      async () => {
        const { store, name } = await fresh()
        await store.add(credential('api', 'api', `${SECRET}-old`))
        await store.add(credential('other', 'other', `${SECRET}-other`))
        const old = await eng().storedSecret(name, 'api')
        await store.rotate('api', `${SECRET}-new`)
        await eng().setStoredSecret(name, 'api', old)
        for (const handle of [store, await eng().open(name, KEY)]) {
          const load = await handle.loadCredentials()
          expect(load.credentials).toEqual([])
          expect(load.unavailable.map((u) => [u.name, u.secret])).toEqual([
            ['api', null],
            ['other', null],
          ])
          for (const u of load.unavailable) expect(u.reason).toMatch(TABLE_REFUSED)
          await rejects(handle.get('api'), 'corrupt', TABLE_REFUSED)
          await rejects(handle.list(), 'corrupt', TABLE_REFUSED)
          // No write launders it either (a rotate would record the replayed set).
          await rejects(handle.rotate('other', `${SECRET}-x`), 'corrupt', /aegis vault reseal --name/)
          expect((await handle.storedRows()).changed).toBe('credentials')
        }
        // The operator accepts the rows as they are (vault reseal --confirm): what is stored is served.
        await store.reseal()
        expect((await store.storedRows()).changed).toBeNull()
        expect((await store.get('api'))?.secret.reveal()).toBe(`${SECRET}-old`)
        await store.close()
      },
    )

    maybe('every write that stores an envelope records it in the set: add, rotate, reseal', async () => {
      const { store, name } = await fresh()
      await store.add(credential('api', 'api'))
      expect((await store.storedRows()).changed).toBeNull()
      await store.rotate('api', `${SECRET}-2`)
      expect((await store.storedRows()).changed).toBeNull()
      const second = await eng().open(name, KEY)
      await second.rotate('api', `${SECRET}-3`)
      expect((await store.get('api'))?.secret.reveal()).toBe(`${SECRET}-3`)
      await store.reseal()
      expect((await second.loadCredentials()).credentials.map((c) => c.secret.reveal())).toEqual([
        `${SECRET}-3`,
      ])
      await second.close()
      await store.close()
    })

    /** A closed vault at format 4 holding credential api (`secret`), agent bot granted api. */
    async function format4Vault(secret: string): Promise<string> {
      const { store, name } = await fresh()
      await store.add(credential('api', 'api', secret))
      await store.addAgent({ name: 'bot' })
      await store.grant('bot', 'api')
      await store.close()
      await eng().makeFormat4(name, KEY)
      expect((await eng().storedState(name)).format).toBe('4')
      return name
    }

    maybe('a format-4 vault is upgraded to 5 on open and keeps working', async () => {
      const name = await format4Vault(`${SECRET}-4`)
      const store = await eng().open(name, KEY)
      expect((await eng().storedState(name)).format).toBe('5')
      expect((await store.storedRows()).changed).toBeNull()
      expect((await store.loadCredentials()).credentials.map((c) => c.secret.reveal())).toEqual([
        `${SECRET}-4`,
      ])
      expect((await store.loadAgents()).map((a) => [a.name, a.grants.length, a.damaged])).toEqual([
        ['bot', 1, undefined],
      ])
      await store.rotate('api', `${SECRET}-5`)
      await store.close()
      const again = await eng().open(name, KEY)
      expect((await again.get('api'))?.secret.reveal()).toBe(`${SECRET}-5`)
      await again.close()
    })

    maybe(
      'a format-4 state put back after the upgrade, with the envelope of a rotated secret, serves nothing',
      async () => {
        const name = await format4Vault(`${SECRET}-old`)
        const format4 = await eng().storedState(name)
        const old = await eng().storedSecret(name, 'api')
        const store = await eng().open(name, KEY)
        await store.rotate('api', `${SECRET}-new`)
        await eng().setStoredSecret(name, 'api', old)
        await eng().setStoredState(name, format4)
        // A handle opened before (a running gate) refuses it too: a format-4 set never matches.
        expect((await store.loadCredentials()).credentials).toEqual([])
        await store.close()
        const replayed = await eng().open(name, KEY)
        const load = await replayed.loadCredentials()
        expect(load.credentials).toEqual([])
        expect(load.unavailable[0]?.reason).toMatch(TABLE_REFUSED)
        await rejects(replayed.get('api'), 'corrupt', TABLE_REFUSED)
        for (const agent of await replayed.loadAgents()) expect(agent.grants).toEqual([])
        await replayed.close()
      },
    )

    maybe(
      'a format-4 vault whose rows changed behind its back is still refused after the upgrade',
      async () => {
        const name = await format4Vault(`${SECRET}-a`)
        const onlyApi = await eng().storedState(name)
        const store = await eng().open(name, KEY)
        await store.add(credential('more', 'more', `${SECRET}-b`))
        await store.close()
        await eng().makeFormat4(name, KEY)
        // The format-4 state of before `more` was added, put back: its credentials set is not the table.
        await eng().setStoredState(name, onlyApi)
        const upgraded = await eng().open(name, KEY)
        expect((await eng().storedState(name)).format).toBe('5')
        expect((await upgraded.loadCredentials()).credentials).toEqual([])
        expect((await upgraded.storedRows()).changed).toBe('credentials')
        await upgraded.reseal()
        expect((await upgraded.loadCredentials()).credentials.map((c) => c.name)).toEqual(['api', 'more'])
        await upgraded.close()
      },
    )

    maybe('two handles granting and revoking at once stay consistent', async () => {
      const { store: a, name } = await fresh()
      const b = await eng().open(name, KEY)
      const creds = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']
      for (const c of creds) await a.add(credential(c, c))
      await a.addAgent({ name: 'bot' })
      // Each pair is granted by one handle and revoked by the other, concurrently; every grant
      // returns true exactly once per pair and state ends as the last committed operation left it.
      const grantsA = creds.map((c) => a.grant('bot', c))
      const grantsB = creds.map((c) => b.grant('bot', c))
      const results = await Promise.all([...grantsA, ...grantsB])
      expect(results.filter(Boolean)).toHaveLength(creds.length)
      expect((await b.getAgent('bot'))?.grants).toEqual(creds)
      const revokes = await Promise.all([
        ...creds.map((c) => a.revoke('bot', c)),
        ...creds.map((c) => b.revoke('bot', c)),
      ])
      expect(revokes.filter(Boolean)).toHaveLength(creds.length)
      expect((await a.getAgent('bot'))?.grants).toEqual([])
      // A credential removed while the other handle grants it: the grant either fails with
      // not_found or lands first and goes with the credential, never an error or a dangling row.
      for (let round = 0; round < 10; round++) {
        const [removed, granted] = await Promise.allSettled([a.remove('c1'), b.grant('bot', 'c1')])
        expect(removed.status).toBe('fulfilled')
        if (granted.status === 'rejected') expect((granted.reason as VaultError).code).toBe('not_found')
        expect((await a.loadAgents())[0]?.grants).toEqual([])
        await a.add(credential('c1', 'c1'))
      }
      await Promise.all([a.close(), b.close()])
    })

    maybe(
      'two handles adding the same name or service at once: exactly one wins, the others get duplicate',
      async () => {
        const { store: a, name } = await fresh()
        const b = await eng().open(name, KEY)
        // Several attempts per handle at once (on separate connections where the engine has a
        // pool) so the transactions really overlap: with one attempt per handle a mutation test
        // (no row lock) went unnoticed for 25 rounds.
        const rounds = 8
        const each = 3
        const side = (h: VaultStore) => (h === a ? 'a' : 'b')
        // Started only when its group runs (a rejection must never wait unobserved).
        const attempts =
          <T>(make: (handle: VaultStore, i: number) => Promise<T>) =>
          () =>
            Array.from({ length: each }, (_, i) => [make(a, i), make(b, i)]).flat()
        for (let round = 0; round < rounds; round++) {
          const groups = [
            {
              ops: attempts((h, i) => h.add(credential(`same-${round}`, `svc-${side(h)}-${i}-${round}`))),
              message: new RegExp(`^A credential named "same-${round}" already exists$`),
            },
            {
              ops: attempts((h, i) => h.add(credential(`n-${side(h)}-${i}-${round}`, `shared-${round}`))),
              message: new RegExp(
                `^Service "shared-${round}" is already used by credential "n-[ab]-[0-9]-${round}"$`,
              ),
            },
            {
              ops: attempts((h) => h.addAgent({ name: `agent-${round}` })),
              message: new RegExp(`^An agent named "agent-${round}" already exists$`),
            },
          ]
          for (const group of groups) {
            const results = await Promise.allSettled(group.ops())
            expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
            for (const r of results) {
              if (r.status === 'fulfilled') continue
              // The same specific message as a sequential duplicate: the loser saw the winner's row.
              expect(r.reason).toBeInstanceOf(VaultError)
              expect((r.reason as VaultError).code).toBe('duplicate')
              expect((r.reason as VaultError).message).toMatch(group.message)
            }
          }
        }
        expect(await a.list()).toHaveLength(2 * rounds)
        expect(await b.listAgents()).toHaveLength(rounds)
        await Promise.all([a.close(), b.close()])
      },
    )
  })
}
