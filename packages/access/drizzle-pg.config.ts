import { defineConfig } from 'drizzle-kit'

// PostgreSQL: its own schema file and migration folder (drizzle has no dialect-agnostic schema).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/pg/schema.ts',
  out: './drizzle-pg',
  schemaFilter: ['aegis'],
})
