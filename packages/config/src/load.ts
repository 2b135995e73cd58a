import { existsSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { type EnvLayer, readEnvLayer } from './env.js'
import { ConfigError, flattenIssues, formatKey, MISSING_KEY, type Problem } from './errors.js'
import { hasPath, mergeLayers, resolveLayerPaths, resolveOutputPaths, withoutUndefined } from './layers.js'
import { type ConfigInput, type ConfigValues, configSchema, layerSchema } from './schema.js'
import { type ConfigFile, readConfigFile } from './yaml-file.js'

/** The default config file name, looked up in `cwd`. */
export const DEFAULT_CONFIG_FILE = 'aegis.config.yaml'

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | undefined }
    : T

/** Overrides from CLI flags, in the file shape; `undefined` values are ignored. */
export type ConfigOverrides = DeepPartial<ConfigInput>

/** Where the configuration came from, and what `doctor` should warn about. */
export interface ConfigSource {
  /** Absolute path of the config file read, or null when none was. */
  file: string | null
  /** The file's folder, or `cwd` when there is no file. */
  dir: string
  /** The file's permission bits (`0o600`), or null. */
  mode: number | null
  /**
   * Secrets the config file exposes: each a secret it holds while group/others may read it, with the
   * chmod that ends it (the CLI fails on them: doctor and config validate). Never printed here.
   */
  warnings: string[]
}

/** The resolved configuration: the file shape (snake_case, absolute paths) plus its source. */
export type AegisConfig = ConfigValues & { source: ConfigSource }

export interface LoadConfigOptions {
  /** Base for the default file and for relative paths from env, flags and defaults. */
  cwd: string
  /** Environment to read AEGIS_* variables from (pass `process.env` in apps). */
  env: Record<string, string | undefined>
  /** `--config` flag: an explicit file, which must exist. */
  file?: string | undefined
  /** Values from CLI flags (highest priority). */
  overrides?: ConfigOverrides | undefined
  /** Fail when no config file is found (instead of using defaults). */
  required?: boolean | undefined
}

interface Located {
  path: string
  origin: 'flag' | 'env' | 'default'
}

function locate(cwd: string, env: Record<string, string | undefined>, file?: string): Located | null {
  if (file !== undefined && file !== '') return { path: resolve(cwd, file), origin: 'flag' }
  const fromEnv = env.AEGIS_CONFIG
  if (fromEnv !== undefined && fromEnv !== '') return { path: resolve(cwd, fromEnv), origin: 'env' }
  const fallback = resolve(cwd, DEFAULT_CONFIG_FILE)
  return existsSync(fallback) ? { path: fallback, origin: 'default' } : null
}

/**
 * The config file to read: `--config` > `AEGIS_CONFIG` > `./aegis.config.yaml` (only if it exists).
 * An explicitly named file is returned even when missing (loading it is then an error).
 */
export function findConfigFile(
  cwd: string,
  env: Record<string, string | undefined>,
  file?: string,
): string | null {
  return locate(resolve(cwd), env, file)?.path ?? null
}

function displayName(cwd: string, file: string): string {
  const rel = relative(cwd, file)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}

function fileProblem(file: ConfigFile, problem: Problem, problems: string[]): ConfigError {
  const line = file.lineOf(problem.path)
  const key = problem.key
  const where = `${file.display}:${line}`
  const message = problem.unknownKey
    ? `${where}: unknown key "${key}"`
    : `${where}: ${key}: ${problem.message}`
  return new ConfigError(message, { file: file.path, key, line, problems })
}

function flagProblem(problem: Problem, problems: string[]): ConfigError {
  const key = problem.key
  const what = problem.unknownKey ? `unknown key "${key}"` : `${key}: ${problem.message}`
  return new ConfigError(`${what} (command-line option)`, { key, problems })
}

/** True when two key paths are the same. */
function samePath(a: readonly PropertyKey[], b: readonly PropertyKey[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i])
}

/**
 * A required key reported missing beside an unknown key is most often a misspelling of it
 * (`secrett:` for `secret:`): the unknown key is named in the message, and ordered first.
 */
function withMisspellings(
  located: { problem: Problem; line: number }[],
): { problem: Problem; line: number }[] {
  return located.map((entry) => {
    const { problem } = entry
    if (problem.unknownKey || problem.message !== MISSING_KEY) return entry
    const parent = problem.path.slice(0, -1)
    const sibling = located.find(
      (other) => other.problem.unknownKey && samePath(other.problem.path.slice(0, -1), parent),
    )
    if (sibling === undefined) return entry
    const name = String(sibling.problem.path.at(-1))
    return {
      problem: {
        ...problem,
        message: `${MISSING_KEY} (is "${name}" on line ${sibling.line} a misspelling of it?)`,
      },
      // Right after the unknown key it probably stands for.
      line: Math.max(entry.line, sibling.line) + 0.5,
    }
  })
}

function validateFile(file: ConfigFile): void {
  const parsed = layerSchema.safeParse(file.value)
  if (parsed.success) return
  const withLines = withMisspellings(
    flattenIssues(parsed.error.issues).map((problem) => ({
      problem,
      line: file.lineOf(problem.path),
    })),
  )
  withLines.sort((a, b) => a.line - b.line)
  const errors = withLines.map(({ problem }) => fileProblem(file, problem, []))
  const first = withLines[0]
  if (first)
    throw fileProblem(
      file,
      first.problem,
      errors.map((error) => error.message),
    )
}

function validateOverrides(overrides: Record<string, unknown>): void {
  const parsed = layerSchema.safeParse(overrides)
  if (parsed.success) return
  const problems = flattenIssues(parsed.error.issues)
  const first = problems[0]
  if (first)
    throw flagProblem(
      first,
      problems.map((problem) => flagProblem(problem, []).message),
    )
}

/** Names the layer responsible for a problem found only once the layers are merged. */
function mergedProblem(
  problem: Problem,
  layers: { flags: unknown; env: EnvLayer; file: ConfigFile | null },
): ConfigError {
  for (let length = problem.path.length; length > 0; length--) {
    const path = problem.path.slice(0, length)
    if (hasPath(layers.flags, path)) return flagProblem(problem, [])
    const variable = layers.env.origins.get(formatKey(path))
    if (variable !== undefined) {
      const key = problem.key
      return new ConfigError(`${variable}: ${key}: ${problem.message}`, { variable, key })
    }
    if (layers.file && hasPath(layers.file.value, path)) return fileProblem(layers.file, problem, [])
  }
  const key = problem.key
  return new ConfigError(`${key}: ${problem.message}`, { key })
}

function insecureModeWarnings(file: ConfigFile): string[] {
  if (process.platform === 'win32' || (file.mode & 0o077) === 0) return []
  const value = file.value as {
    vault?: { master_key?: unknown }
    observability?: { metrics_token?: unknown }
    rate_limit?: { redis?: { url?: unknown } }
    storage?: { postgres?: { url?: unknown } }
    webhooks?: unknown
  }
  const hasPassword = (url: unknown) => typeof url === 'string' && /^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(url)
  const hasWebhookSecret =
    Array.isArray(value.webhooks) && value.webhooks.some((hook) => hasPath(hook, ['secret']))
  const held = [
    ...(hasPath(value, ['vault', 'master_key']) ? ['vault.master_key'] : []),
    ...(hasPath(value, ['observability', 'metrics_token']) ? ['observability.metrics_token'] : []),
    ...(hasWebhookSecret ? ['webhooks[].secret'] : []),
    ...(hasPassword(value.rate_limit?.redis?.url) ? ['a password in rate_limit.redis.url'] : []),
    ...(hasPassword(value.storage?.postgres?.url) ? ['a password in storage.postgres.url'] : []),
  ]
  if (held.length === 0) return []
  const mode = `0${file.mode.toString(8).padStart(3, '0')}`
  return [
    `${file.display} holds ${held.join(' and ')} but is readable by group/others (mode ${mode}); run: chmod 600 ${file.display}`,
  ]
}

/**
 * Loads the configuration: flags (`overrides`) > environment > config file > defaults.
 * Synchronous. Every layer is validated; throws ConfigError naming file, line, key or variable.
 */
export function loadConfig(opts: LoadConfigOptions): AegisConfig {
  const cwd = resolve(opts.cwd)
  const located = locate(cwd, opts.env, opts.file)
  if (!located && opts.required) {
    throw new ConfigError(
      `no config file: ${DEFAULT_CONFIG_FILE} not found in ${cwd} (use --config or AEGIS_CONFIG)`,
    )
  }
  let file: ConfigFile | null = null
  if (located) {
    const display = displayName(cwd, located.path)
    if (!existsSync(located.path)) {
      const via = located.origin === 'env' ? 'AEGIS_CONFIG' : '--config'
      throw new ConfigError(`${display}: config file not found (named by ${via})`, {
        file: located.path,
        ...(located.origin === 'env' && { variable: 'AEGIS_CONFIG' }),
      })
    }
    file = readConfigFile(located.path, display)
    validateFile(file)
  }
  const env = readEnvLayer(opts.env)
  const flags = withoutUndefined(opts.overrides ?? {}) as Record<string, unknown>
  validateOverrides(flags)

  const fileLayer = file ? resolveLayerPaths(file.value, dirname(file.path)) : {}
  const merged = mergeLayers(mergeLayers(fileLayer, env.value), flags)
  const parsed = configSchema.safeParse(merged)
  if (!parsed.success) {
    const problems = flattenIssues(parsed.error.issues).map((problem) =>
      mergedProblem(problem, { flags, env, file }),
    )
    const first = problems[0] ?? new ConfigError('invalid configuration')
    throw new ConfigError(first.message, {
      file: first.file,
      key: first.key,
      line: first.line,
      variable: first.variable,
      problems: problems.map((error) => error.message),
    })
  }
  return {
    ...resolveOutputPaths(parsed.data, cwd),
    source: {
      file: file?.path ?? null,
      dir: file ? dirname(file.path) : cwd,
      mode: file?.mode ?? null,
      warnings: file ? insecureModeWarnings(file) : [],
    },
  }
}
