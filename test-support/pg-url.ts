/**
 * The PostgreSQL server the test suites use: `AEGIS_PG_URL` (`.ci/run` always sets it), or
 * undefined after saying once, visibly, why `suite` does not run — a developer without PostgreSQL
 * still runs every SQLite suite. Test code reads the environment; the libraries never do, which is
 * why this lives here and not in `@aegis/pg/testing`.
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
