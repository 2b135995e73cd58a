/**
 * @aegis/config — one validated configuration object from aegis.config.yaml, AEGIS_* environment
 * variables and CLI flags. Never reads process.env itself, never prints.
 */
export { type EnvVariable, envVariables, isPlaceholder, placeholderVariable } from './env.js'
export { ConfigError, type ConfigErrorDetails } from './errors.js'
export {
  type AegisConfig,
  type ConfigOverrides,
  type ConfigSource,
  DEFAULT_CONFIG_FILE,
  findConfigFile,
  type LoadConfigOptions,
  loadConfig,
} from './load.js'
export { type RenderOptions, renderConfig, SECRET_MASK } from './render.js'
// The zod schema itself is internal (its type would make zod's API part of ours); the shapes are
// `ConfigInput` (what a file may hold) and `ConfigValues` / `AegisConfig` (what loading returns).
export {
  type ConfigInput,
  type ConfigValues,
  LOG_FORMATS,
  LOG_LEVELS,
  LOG_REQUESTS,
  MCP_TRANSPORTS,
  POLICY_DEFAULTS,
  POLICY_MODES,
  RATE_LIMIT_FAILURE_MODES,
  WEBHOOK_EVENTS,
} from './schema.js'
export { type StarterOptions, starterConfigYaml } from './starter.js'
export { type DecodedText, decodeUtf8Text } from './text-file.js'
export { parseResolveEntry, type ResolveEntry } from './upstream.js'
export { removeYamlKey } from './yaml-edit.js'
export { type YamlPath, yamlLineFinder } from './yaml-lines.js'
export {
  type YamlProblem,
  type YamlValue,
  yamlPlainValue,
  yamlSyntaxProblem,
} from './yaml-problems.js'
