/**
 * @aegis/mcp — the Model Context Protocol face of Aegis. The tools build the same canonical
 * request as the HTTP gate and run it through the same engine, so every check, the ledger entry
 * and the credential injection are the gate's own.
 */
export { createMcpHttpServer, type McpHttpServer, type McpHttpServerOptions } from './http.js'
export { DEFAULT_MAX_RESPONSE_BYTES, type ProxyResponse } from './response.js'
export { createMcpServer, type McpServerOptions } from './server.js'
// `toGateRequest`, the stdio wiring and the config mapping are internals of the tools and
// `startMcp`; a host builds a server with `createMcpServer` / `createMcpHttpServer` / `startMcp`.
export { type McpConfig, McpStartError, type RunningMcp, type StartMcpOptions, startMcp } from './start.js'
export type { StdioStreams } from './stdio.js'
export { HEALTH_TOOL } from './tools/health.js'
export { LIST_SERVICES_TOOL, type ServiceListing } from './tools/list-services.js'
export { HTTP_METHODS, PROXY_REQUEST_TOOL } from './tools/proxy-request.js'
export { MCP_PACKAGE_VERSION } from './version.js'
