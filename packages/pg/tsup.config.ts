import { defineConfig } from 'tsup'
import { library } from '../../tsup.shared.ts'

// Two entries: the API and `@aegis/pg/testing` (scratch databases for the test suites of every
// package that has a PostgreSQL store).
export default defineConfig({ ...library, entry: ['src/index.ts', 'src/testing.ts'] })
