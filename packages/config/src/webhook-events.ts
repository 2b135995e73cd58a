/**
 * The webhook event types, alone in a module without dependencies: the ledger's writer thread
 * imports the webhook outbox, and through `@aegis/config/webhook-events` it does not load zod and
 * the YAML parser for one list (about 7 MB of the thread's memory).
 */
export const WEBHOOK_EVENTS = [
  'blocked_request',
  'credential_expiry',
  'rate_limit_exceeded',
  'agent_auth_failure',
  'body_inspection',
] as const
