import { createHmac, timingSafeEqual } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseAllowList } from '@aegis/guard'
import { openLedger } from '@aegis/ledger'
import { generateSecret, Outbox, Relay, signingKey, sqliteOutboxStore } from '@aegis/webhooks'

// A receiver that checks X-Aegis-Signature the way any GitHub-style verifier does.
const secret = generateSecret()
const got = []
const receiver = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    const expected = `sha256=${createHmac('sha256', signingKey(secret)).update(body).digest('hex')}`
    const sent = String(req.headers['x-aegis-signature'])
    const ok = sent.length === expected.length && timingSafeEqual(Buffer.from(sent), Buffer.from(expected))
    got.push({ ok, event: JSON.parse(body) })
    res.writeHead(ok ? 204 : 401).end()
  })
})
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve))

const dir = mkdtempSync(join(tmpdir(), 'aegis-webhooks-example-'))
// The outbox lives in the ledger's file: an alert commits in the same transaction as its entry.
const outbox = new Outbox()
const ledger = openLedger({ file: join(dir, 'ledger.db'), extensions: [outbox] })
try {
  outbox.addEndpoint({
    url: `http://127.0.0.1:${receiver.address().port}/aegis`,
    events: ['agent_auth_failure'],
    sealedSecret: Buffer.from(secret), // seal it with your own key in real use (the CLI uses the vault's)
  })
  const relay = new Relay({
    outbox: sqliteOutboxStore(outbox), // the relay takes either engine's OutboxStore (or a PgOutbox)
    openSecret: (sealed) => sealed.toString(),
    allowPrivate: parseAllowList(['127.0.0.1']), // webhook targets pass the same address guard as upstreams
  })
  // Ten unauthenticated requests in one moment: one event with count 10, not ten deliveries.
  for (let i = 0; i < 10; i++) {
    void ledger.append({
      requestId: `r${i}`,
      channel: 'gate',
      method: 'GET',
      path: '/github/user',
      decision: 'blocked',
      code: 'agent_auth_required',
    })
  }
  await ledger.flush()
  await relay.deliverDue()
  if (got.length !== 1 || !got[0].ok || got[0].event.data.count !== 10) {
    throw new Error(`unexpected deliveries: ${JSON.stringify(got)}`)
  }
} finally {
  await ledger.close()
  receiver.close()
  rmSync(dir, { recursive: true, force: true })
}
