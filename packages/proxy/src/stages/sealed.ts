import { refuse } from '@aegis/guard'
import type { Stage } from '../pipeline.js'
import type { LiveState } from '../snapshot.js'

/** What a request gets while the vault is sealed (the health answer names it too). */
export const SEALED = refuse('sealed', 'The vault is sealed: an operator must unseal it (aegis vault unseal)')

/**
 * While the credential source is sealed every request is refused (503 `sealed`), whatever the
 * snapshot still says: sealing stops the next request, without waiting for a reload.
 */
export function sealed(state: LiveState): Stage {
  return () => (state.isSealed() ? SEALED : undefined)
}
