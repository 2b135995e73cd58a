import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Ledger, type LedgerEntryInput, openLedger } from '@aegis/ledger'
import { Outbox, type OutboxOptions } from '../src/index.js'

/** A clock the tests move by hand. */
export class Clock {
  constructor(public ms = Date.parse('2026-12-01T12:00:00.000Z')) {}
  now = (): number => this.ms
  advance(ms: number): void {
    this.ms += ms
  }
}

export interface Harness {
  dir: string
  file: string
  ledger: Ledger
  outbox: Outbox
  clock: Clock
  reopen(options?: OutboxOptions): Promise<void>
  cleanup(): Promise<void>
}

/** A ledger file in a temp dir with an outbox attached; `reopen` is a restart on the same file. */
export function harness(options: OutboxOptions = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-webhooks-'))
  const file = join(dir, 'ledger.db')
  const clock = new Clock()
  const open = (extra: OutboxOptions) => {
    const outbox = new Outbox({ now: clock.now, ...options, ...extra })
    const ledger = openLedger({ file, extensions: [outbox] })
    return { outbox, ledger }
  }
  const h: Harness = {
    dir,
    file,
    clock,
    ...open({}),
    async reopen(extra = {}) {
      await h.ledger.close()
      Object.assign(h, open(extra))
    },
    async cleanup() {
      await h.ledger.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return h
}

let seq = 0
/** A blocked request entry; fields default to an unauthenticated request. */
export function blocked(overrides: Partial<LedgerEntryInput> = {}): LedgerEntryInput {
  seq++
  return {
    requestId: `req-${seq}`,
    channel: 'gate',
    method: 'GET',
    path: '/github/user',
    decision: 'blocked',
    code: 'agent_auth_required',
    status: 401,
    service: 'github',
    credential: 'github',
    agent: null,
    ...overrides,
  }
}

/** The sealing the tests use: a reversible marker, so a test can see the outbox stores it opaque. */
export const seal = (secret: string): Buffer => Buffer.from(`sealed:${secret}`)
export const unseal = (sealed: Buffer): string => sealed.toString().slice('sealed:'.length)
