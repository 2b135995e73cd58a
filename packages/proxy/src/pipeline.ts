import type { RequestContext } from './context.js'
import type { StageResult } from './types.js'

/**
 * One step of the pipeline: continue (return nothing) or refuse (return a `Refusal`). Stages are
 * synchronous where they can be; only the expensive ones (destination lookup, body inspection)
 * wait.
 */
export type Stage = (ctx: RequestContext) => StageResult | Promise<StageResult>

/** A stage that never waits. */
export type SyncStage = (ctx: RequestContext) => StageResult

/**
 * Runs the stages in order and stops at the first refusal. Synchronous stages run back to back
 * without yielding, so a budget stage checks and spends in one step: no other request can slip in
 * between. Budget a stage spent is given back by the caller if a later stage refuses. The result is
 * immediate when every stage decided synchronously (no promise, no microtask); only a stage that
 * waits makes it a promise.
 */
export function runStages(stages: readonly Stage[], ctx: RequestContext): StageResult | Promise<StageResult> {
  return runFrom(stages, 0, ctx)
}

function runFrom(
  stages: readonly Stage[],
  from: number,
  ctx: RequestContext,
): StageResult | Promise<StageResult> {
  for (let i = from; i < stages.length; i++) {
    const result = (stages[i] as Stage)(ctx)
    if (result instanceof Promise) {
      return result.then((settled) => (settled !== undefined ? settled : runFrom(stages, i + 1, ctx)))
    }
    if (result !== undefined) return result
  }
  return undefined
}
