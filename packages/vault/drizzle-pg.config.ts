import { defineConfig } from 'drizzle-kit'

// PostgreSQL migrations (`drizzle-pg/`), applied by @aegis/pg's `migrate` as VAULT_PG_MIGRATIONS.
export default defineConfig({ dialect: 'postgresql', schema: './src/pg/schema.ts', out: './drizzle-pg' })
