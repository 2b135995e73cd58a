import { ChangeFeed, migrate, openPool } from '@aegis/pg'
import { scratchDatabase } from '@aegis/pg/testing'

// A throwaway database on the server of AEGIS_PG_URL (dropped at the end).
const scratch = await scratchDatabase(
  process.env.AEGIS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
)
const pool = openPool({ url: scratch.url, max: 2 })
try {
  // The core set: schema `aegis`, aegis_versions and the bump_version() trigger function.
  const [core] = await migrate(pool, [])
  if (core.state !== 'current') throw new Error(`core is ${core.state}`)

  // A store's table announces its changes through a statement trigger.
  await pool.query(`CREATE TABLE aegis.notes (body text);
    CREATE TRIGGER notes_changed AFTER INSERT OR UPDATE OR DELETE ON aegis.notes
      FOR EACH STATEMENT EXECUTE FUNCTION aegis.bump_version('notes')`)

  const events = []
  const feed = new ChangeFeed(pool, { url: scratch.url, onEvent: (event) => events.push(event) })
  await feed.start() // emits { kind: 'reload', reason: 'connect' }: load everything now
  await pool.query(`INSERT INTO aegis.notes VALUES ('hello')`)
  for (let i = 0; i < 100 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 10))
  await feed.close()
  const change = events[1]
  if (change?.kind !== 'change' || change.topic !== 'notes') throw new Error('no change event')
} finally {
  await pool.end()
  await scratch.drop()
}
