import { readFileSync } from 'node:fs'
import { isatty } from 'node:tty'

/** `pgrp` and `tpgid` of a process from /proc/<pid>/stat (Linux), or null where there is none. */
function processGroups(pid: number | 'self'): { pgrp: number; tpgid: number } | null {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // After "pid (comm) ": state ppid pgrp session tty_nr tpgid … (comm may hold spaces and parentheses).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const pgrp = Number(fields[2])
  const tpgid = Number(fields[5])
  return Number.isInteger(pgrp) && Number.isInteger(tpgid) ? { pgrp, tpgid } : null
}

/**
 * Whether a key of our terminal that became a signal (^C → SIGINT, ^\ → SIGQUIT) reached the child
 * too: the terminal sends it to its whole foreground process group, so it did when this process is
 * in that group (`tpgid` is -1 without a terminal) and the child still shares our group — one that
 * made a group of its own (setsid, setpgid) got nothing. Linux reads both from /proc; elsewhere a
 * terminal on stdin, stdout or stderr stands for it (as `uv run` decides whether to forward SIGINT).
 */
export function terminalSignalledChild(childPid: number | undefined): boolean {
  const own = processGroups('self')
  if (own === null) return isatty(0) || isatty(1) || isatty(2)
  if (own.pgrp <= 0 || own.pgrp !== own.tpgid) return false
  const child = childPid === undefined ? null : processGroups(childPid)
  return child === null || child.pgrp === own.pgrp
}
