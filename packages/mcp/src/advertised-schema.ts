import { z } from 'zod'

/**
 * An input schema for `McpServer.registerTool` that lets every object through to the tool but is
 * advertised in `tools/list` as `strict` — the JSON Schema the SDK would have made of `strict`
 * itself (draft-07, input side). The tool checks its arguments against `strict` on its own, so a
 * call whose arguments have the wrong types is refused the tool's way (a problem document, a
 * ledger row) instead of by the SDK's unrecorded input-validation error.
 *
 * Zod's documented override (`_zod.toJSONSchema`) replaces the generated schema wholesale: what
 * clients read is `strict`'s, with no trace of the permissive object behind it.
 */
export function checkedByTheTool(strict: z.ZodObject) {
  const advertised: Record<string, unknown> = z.toJSONSchema(strict, { target: 'draft-07', io: 'input' })
  // The SDK's conversion adds its own `$schema` at the root.
  delete advertised.$schema
  const accepting = z.looseObject({})
  accepting._zod.toJSONSchema = () => structuredClone(advertised)
  return accepting
}
