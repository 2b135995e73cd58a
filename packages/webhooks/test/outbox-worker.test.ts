import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Ledger, LedgerError, openLedger } from '@aegis/ledger'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { Outbox } from '../src/index.js'
import { blocked, seal } from './helpers.js'

// The gate's way: the ledger's batch transaction runs in a writer thread, which builds its own
// outbox from `Outbox.worker`; the outbox made here serves the relay on the other connection.
let dir = ''
let ledger: Ledger | undefined
afterEach(async () => {
  await ledger?.close()
  ledger = undefined
  rmSync(dir, { recursive: true, force: true })
})

function open(outbox: Outbox): { file: string; ledger: Ledger } {
  dir = mkdtempSync(join(tmpdir(), 'aegis-webhooks-worker-'))
  const file = join(dir, 'ledger.db')
  ledger = openLedger({ file, writer: 'worker', extensions: [outbox] })
  return { file, ledger }
}

const hook = (outbox: Outbox) =>
  outbox.addEndpoint({
    url: 'https://hooks.example.com/aegis',
    events: ['agent_auth_failure'],
    sealedSecret: seal('s'.repeat(20)),
  })

describe("the outbox with the ledger's writer thread", () => {
  it('a blocked entry commits with its event and delivery; the relay claims it at once', async () => {
    const outbox = new Outbox()
    const { ledger } = open(outbox)
    const endpoint = hook(outbox)
    const id = await ledger.append(blocked())
    const [claimed] = outbox.claim(10)
    expect(claimed?.endpoint.id).toBe(endpoint.id)
    expect(claimed?.payload).toMatchObject({
      type: 'agent_auth_failure',
      data: { count: 1, code: 'agent_auth_required' },
    })
    expect(ledger.query({}).map((e) => e.id)).toEqual([id])
  })

  it('a flood coalesces into one event, and the counts reach this outbox', async () => {
    const outbox = new Outbox()
    const { ledger } = open(outbox)
    hook(outbox)
    for (let turn = 0; turn < 10; turn++)
      await Promise.all(Array.from({ length: 20 }, () => ledger.append(blocked())))
    const [claimed] = outbox.claim(10)
    expect(claimed?.payload.data.count).toBe(200)
    expect(outbox.claim(10)).toEqual([])
    expect(outbox.counters).toEqual({ coalesced: 199, dropped: 0 })
  })

  it('when the outbox write fails in the thread, the entry does not commit either', async () => {
    const outbox = new Outbox()
    const { file, ledger } = open(outbox)
    hook(outbox)
    await ledger.append(blocked({ decision: 'allowed', code: null })) // the thread is up
    const other = new Database(file)
    other.exec('DROP TABLE webhook_deliveries')
    other.close()
    await expect(ledger.append(blocked())).rejects.toBeInstanceOf(LedgerError)
    expect(ledger.query({}).map((e) => e.decision)).toEqual(['allowed'])
  })

  it('an outbox with its own clock cannot go to another thread: the ledger refuses to open', () => {
    dir = mkdtempSync(join(tmpdir(), 'aegis-webhooks-worker-'))
    const outbox = new Outbox({ now: () => 0 })
    expect(outbox.worker).toBeUndefined()
    expect(() => openLedger({ file: join(dir, 'l.db'), writer: 'worker', extensions: [outbox] })).toThrow(
      LedgerError,
    )
  })
})
