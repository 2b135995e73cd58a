/**
 * Test support for packages with a PostgreSQL store: a throwaway database per test file, so suites
 * run in parallel and leave nothing behind. The caller says which server (it reads no environment).
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export interface ScratchDatabase {
  /** The new database's URL (same server and user as the admin URL). */
  url: string
  /** Drops it, closing whatever connection is still open to it. */
  drop(): Promise<void>
}

async function withAdmin<R>(adminUrl: string, fn: (client: pg.Client) => Promise<R>): Promise<R> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'aegis-tests' })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** `CREATE DATABASE aegis_t_<random>` on the server of `adminUrl`. */
export async function scratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const name = `aegis_t_${randomBytes(6).toString('hex')}`
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`))
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: () =>
      withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  }
}
