import { defineConfig } from 'drizzle-kit'

// PostgreSQL only: the SQLite outbox tables are plain DDL created in the ledger file (src/schema.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/pg/schema.ts',
  out: './drizzle-pg',
  schemaFilter: ['aegis'],
})
