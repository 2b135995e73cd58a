import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { type Credential, hashAgentToken, isAgentTokenShape, type VaultStore } from '@aegis/vault'
import { Flags } from '@oclif/core'
import { AegisCommand } from '../base-command.js'
import { agentEnv, gateUrlFrom, PROVIDERS } from '../lib/agent-env.js'
import { CliError } from '../lib/errors.js'
import { readSecret } from '../lib/secret-input.js'
import { terminalSignalledChild } from '../lib/terminal-keys.js'

/**
 * Signals passed on to the command: every one a terminal, a supervisor, a closed session or a user
 * sends whose default would end this process. One left out killed `aegis run` and left the agent
 * running, orphaned, with the shell told it was over (SIGUSR2, SIGQUIT); SIGUSR1 opened Node's
 * inspector in this process, which holds the master key and every decrypted secret, to anyone who
 * connects to 127.0.0.1:9229 — the agent itself can send it to its parent. A listener for it keeps
 * the inspector shut. (Windows has only these four.)
 */
const FORWARDED: readonly NodeJS.Signals[] =
  process.platform === 'win32'
    ? ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']
    : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM']

/** The signals a terminal's keys send (^C, ^\) to its whole foreground process group. */
const KEYBOARD: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGQUIT'])

export default class Run extends AegisCommand<typeof Run> {
  static override summary = 'Run an agent with its SDKs pointed at the gate and its token as the API key'
  static override description =
    'Sets, for each provider a credential serves (service name openai, anthropic or gemini), the ' +
    "SDK's base-URL variable to the gate and its API-key variable to the agent token: OPENAI_BASE_URL " +
    '+ OPENAI_API_KEY, ANTHROPIC_BASE_URL + ANTHROPIC_API_KEY, GOOGLE_GEMINI_BASE_URL + GEMINI_API_KEY; ' +
    'always AEGIS_GATE_URL, AEGIS_AGENT_TOKEN, and NO_PROXY and no_proxy (with the gate host). The gate takes the token from the key slot ' +
    'and injects the real credential, so the agent needs no code change. The command never gets a ' +
    'real credential: AEGIS_MASTER_KEY, AEGIS_USER_TOKEN, AEGIS_PG_URL, AEGIS_REDIS_URL, ' +
    'AEGIS_METRICS_TOKEN and any variable holding a vault secret are ' +
    "removed from its environment. Signals (INT, TERM, HUP, QUIT, USR1, USR2, ALRM) are forwarded, except a ^C or ^\\ the command got from the terminal itself; the exit status is the command's (128+n " +
    'when a signal ended it). The agent token comes from stdin (--agent-token -) or AEGIS_AGENT_TOKEN.'
  static override examples = [
    '$ <%= config.bin %> agent add --name coder --json | jq -r .token | <%= config.bin %> run --agent-token - -- python agent.py',
    '$ AEGIS_AGENT_TOKEN=aegis_… <%= config.bin %> run -- node agent.js',
  ]
  static override enableJsonFlag = false
  static override strict = false
  static override flags = {
    'agent-token': Flags.string({
      description: 'Read the agent token from stdin ("-"); default: $AEGIS_AGENT_TOKEN',
    }),
    'gate-url': Flags.string({
      description: 'The gate to point at (default: from gate.host, gate.port and gate.tls in the config)',
    }),
  }

  async run(): Promise<void> {
    const at = this.argv.indexOf('--')
    const command = at === -1 ? [] : this.argv.slice(at + 1)
    if (command.length === 0) {
      // A usage error (exit 2), as the parser's own.
      throw new CliError('Give the command after "--": aegis run [--agent-token -] -- <command…>', {
        exitCode: 2,
      })
    }
    const token = await this.agentToken()
    const config = this.loadAegisConfig()
    const gateUrl =
      this.flags['gate-url'] ?? gateUrlFrom(config.gate.host, config.gate.port, config.gate.tls.enabled)
    if (!/^https?:\/\/[^/\s]+\/?$/.test(gateUrl)) {
      this.fail(`Invalid --gate-url "${gateUrl}": expected http(s)://HOST:PORT`)
    }
    const { services, secrets } = await this.withVault(async (vault) => {
      const hash = hashAgentToken(token)
      if (!(await vault.loadAgents()).some((agent) => agent.tokenHash.equals(hash))) {
        throw new CliError(`The agent token is not an agent of vault "${vault.name}" (aegis agent list)`)
      }
      // Every credential, expired ones too: each secret must be kept out of the agent's environment.
      const credentials = await allCredentials(vault)
      return {
        services: new Set(credentials.map((c) => c.service)),
        secrets: credentials.map((c) => c.secret.reveal()),
      }
    })
    const { env, set, removed } = agentEnv({ parent: process.env, gateUrl, token, services, secrets })
    if (!PROVIDERS.some((p) => services.has(p.service))) {
      this.logToStderr(
        `aegis run: no credential serves ${PROVIDERS.map((p) => p.service).join(', ')}: no SDK variables set`,
      )
    }
    for (const line of set) this.logToStderr(`aegis run: set ${line}`)
    if (removed.length > 0)
      this.logToStderr(`aegis run: removed ${removed.join(', ')} (never passed to the agent)`)
    const status = await runChild(command, env)
    this.exit(status)
  }

  /** The token from stdin (`--agent-token -`) or AEGIS_AGENT_TOKEN; never from argv. */
  private async agentToken(): Promise<string> {
    const flag = this.flags['agent-token']
    if (flag !== undefined && flag !== '-') {
      this.fail(
        '--agent-token takes only "-" (read from stdin): a token in argv is visible to other processes and ' +
          'shell history. Pipe it in, or set AEGIS_AGENT_TOKEN',
      )
    }
    const token = (
      flag === '-' ? await readSecret({ flag, prompt: '' }) : process.env.AEGIS_AGENT_TOKEN
    )?.trim()
    if (!token) {
      this.fail(
        'No agent token: pipe it in with --agent-token -, or set AEGIS_AGENT_TOKEN (aegis agent add prints one)',
      )
    }
    if (!isAgentTokenShape(token)) {
      this.fail(
        'That is not an agent token (expected aegis_ followed by 43 characters, as aegis agent add prints)',
      )
    }
    return token
  }
}

/**
 * Every credential with its secret (what the sync vault's loadAll read): expired ones too, since
 * each secret must stay out of the agent's environment; a damaged one fails the run, as before.
 */
async function allCredentials(vault: VaultStore): Promise<Credential[]> {
  const found = await Promise.all((await vault.list()).map((info) => vault.get(info.name)))
  return found.filter((c): c is Credential => c !== undefined)
}

/** Runs the command with stdio inherited, forwarding signals; resolves with its exit status. */
function runChild(command: readonly string[], env: Record<string, string>): Promise<number> {
  const [file, ...args] = command as [string, ...string[]]
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit', env })
    const forward = (signal: NodeJS.Signals) => {
      // From a key of our terminal, the command (spawned in our process group) got it already:
      // sent again, one ^C arrived twice, which many agents read as "quit now, skip the cleanup".
      if (KEYBOARD.has(signal) && terminalSignalledChild(child.pid)) return
      child.kill(signal)
    }
    for (const signal of FORWARDED) process.on(signal, forward)
    const done = () => {
      for (const signal of FORWARDED) process.off(signal, forward)
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      done()
      // 127 and 126: what a shell answers for "not found" and "not executable".
      if (error.code === 'ENOENT') reject(new CliError(`Command not found: ${file}`, { exitCode: 127 }))
      else if (error.code === 'EACCES')
        reject(new CliError(`Command not executable: ${file}`, { exitCode: 126 }))
      else reject(error)
    })
    child.once('exit', (code, signal) => {
      done()
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0))
    })
  })
}
