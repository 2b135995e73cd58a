import { defineConfig } from 'tsup'
import { library } from '../../tsup.shared.ts'

// Two entries: the API and `@aegis/config/webhook-events` (the event types without zod and yaml,
// for the webhook outbox in the ledger's writer thread).
export default defineConfig({ ...library, entry: ['src/index.ts', 'src/webhook-events.ts'] })
