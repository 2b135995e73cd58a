import { type ProblemDocument, problemDocument, type Refusal } from '@aegis/guard'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'

/** A refusal as a tool result: `isError`, with the problem+json document as its text. */
export function problemResult(problem: ProblemDocument<string>): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(problem) }] }
}

/** A refusal built here (not by the pipeline), with the same document shape the gate sends. */
export function refusalResult(refusal: Refusal, requestId?: string): CallToolResult {
  return problemResult(problemDocument(refusal, requestId))
}

/** A successful result: the JSON text for clients that read content, the same object as structured content. */
export function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value }
}
