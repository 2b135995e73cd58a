/**
 * Test support for packages with a PostgreSQL store: which server to use, and a throwaway database
 * per test file so suites run in parallel and leave nothing behind. Test code only; reads
 * `AEGIS_PG_URL` from the environment, which a library proper never does.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * `AEGIS_PG_URL`, or undefined after saying once, visibly, why `suite` does not run
 * (`.ci/run` always sets it; a developer without PostgreSQL still runs every SQLite suite).
 */
export function pgTestUrl(suite: string): string | undefined {
  const url = process.env.AEGIS_PG_URL
  if (url === undefined || url === '') {
    process.stderr.write(
      `SKIPPED ${suite}: AEGIS_PG_URL is not set (scripts/services.sh start DIR sets it)\n`,
    )
    return undefined
  }
  return url
}

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
