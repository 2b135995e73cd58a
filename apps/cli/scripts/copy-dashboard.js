// Copies the built SPA (apps/dashboard/dist) to dist/dashboard, where `aegis dashboard` serves it
// from. Runs after tsup (which empties dist/). A missing SPA build is not an error: the server then
// answers 503 on the SPA routes and the API still works.
import { cpSync, existsSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const from = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url))
const to = fileURLToPath(new URL('../dist/dashboard/', import.meta.url))
rmSync(to, { recursive: true, force: true })
if (existsSync(from)) cpSync(from, to, { recursive: true })
else process.stderr.write(`copy-dashboard: ${from} does not exist; the dashboard will answer 503\n`)
