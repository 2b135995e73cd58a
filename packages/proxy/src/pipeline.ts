import type { RequestContext } from './context.js'
import type { StageResult } from './types.js'

/**
 * One step of the pipeline: continue (return nothing) or refuse (return a `Refusal`). Stages are
 * synchronous where they can be; only destination resolution needs to wait.
 */
export type Stage = (ctx: RequestContext) => StageResult | Promise<StageResult>

/** A stage that never waits. */
export type SyncStage = (ctx: RequestContext) => StageResult

/**
 * Runs the stages in order and stops at the first refusal. When every stage passed, the rate
 * budget the stages reserved is spent — synchronously after the last stage, so no other request
 * can slip in between a limiter's check and its commit.
 */
export async function runStages(stages: readonly Stage[], ctx: RequestContext): Promise<StageResult> {
  for (const stage of stages) {
    let result = stage(ctx)
    if (result instanceof Promise) result = await result
    if (result !== undefined) return result
  }
  for (const commit of ctx.commits) commit()
  return undefined
}
