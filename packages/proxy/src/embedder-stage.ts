import type { Refusal } from '@aegis/guard'
import type { RequestContext } from './context.js'

/**
 * What an embedder's stage may read about a request, once every built-in stage has passed it: the
 * canonical request, the authenticated agent (null without a token), the credential and the
 * checked destination. Read-only: budgets, the ledger fields and the forwarded headers stay the
 * pipeline's own.
 */
export type StageContext = Readonly<
  Pick<RequestContext, 'req' | 'now' | 'service' | 'agent' | 'credential' | 'path' | 'query' | 'target'>
>

/**
 * An embedder's own check (`PipelineOptions.stages`): return nothing to continue, or a guard
 * `Refusal` (`refuse(code, detail)`) to stop — answered and recorded like a built-in refusal.
 */
export type Stage = (ctx: StageContext) => Refusal | undefined | Promise<Refusal | undefined>
