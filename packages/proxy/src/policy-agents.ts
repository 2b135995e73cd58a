import type { PolicySet } from '@aegis/policy'
import type { Logger } from './logger.js'
import type { Snapshot } from './snapshot.js'

/**
 * Says when a policy file names an agent that is not registered. Policies are looked up by exact
 * agent name, so `agent: reserch-bot` (or `Research-bot`) applies to no one, and the real agent
 * goes on with no policy at all: under `policy_default: allow`, unrestricted. Nothing else would
 * tell the operator. Checked whenever the policies or the agents change; each file is named once
 * until it is fixed (or its agent is registered), not on every reload.
 */
export class PolicyAgentCheck {
  readonly #logger: Logger
  readonly #sealed: () => boolean
  #warned = new Set<string>()

  /** `sealed`: the source's own word; while sealed no agent can be read, so nothing is judged. */
  constructor(logger: Logger, sealed: () => boolean) {
    this.#logger = logger
    this.#sealed = sealed
  }

  check(set: PolicySet, snapshot: Snapshot): void {
    if (this.#sealed()) return
    const registered = new Set<string>()
    for (const agent of snapshot.agentsByHash.values()) registered.add(agent.name)
    for (const agent of snapshot.unavailableAgents) registered.add(agent.name)
    const unknown = new Set<string>()
    for (const entry of set.entries) {
      if (entry.agent === null || registered.has(entry.agent)) continue
      const key = `${entry.agent}\0${entry.file}`
      unknown.add(key)
      if (this.#warned.has(key)) continue
      this.#logger.warn(
        { agent: entry.agent, file: entry.file },
        'policy file names an agent that is not registered: it applies to no one (agent names are exact and case-sensitive; a misspelt name leaves the real agent without this policy)',
      )
    }
    this.#warned = unknown
  }
}
