/**
 * @aegis/config — one validated configuration object from aegis.config.yaml, AEGIS_* environment
 * variables and CLI flags. Never reads process.env itself, never prints.
 */
export { type EnvVariable, envVariables } from './env.ts'
export { ConfigError, type ConfigErrorDetails } from './errors.ts'
export {
  type AegisConfig,
  type ConfigOverrides,
  type ConfigSource,
  DEFAULT_CONFIG_FILE,
  findConfigFile,
  type LoadConfigOptions,
  loadConfig,
} from './load.ts'
export { type RenderOptions, renderConfig, SECRET_MASK } from './render.ts'
export {
  type ConfigInput,
  type ConfigValues,
  configSchema,
  LOG_FORMATS,
  LOG_LEVELS,
  MCP_TRANSPORTS,
  POLICY_DEFAULTS,
  POLICY_MODES,
  WEBHOOK_EVENTS,
} from './schema.ts'
export { type StarterOptions, starterConfigYaml } from './starter.ts'
export { parseResolveEntry, type ResolveEntry } from './upstream.ts'
export { type YamlPath, yamlLineFinder } from './yaml-lines.ts'
