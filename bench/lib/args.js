import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** `--name value` from `args`, or `fallback`. */
export function option(args, name, fallback) {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? fallback : args[i + 1]
}

/**
 * `[--runs n] [checkout …]`, the form of the scripts that compare checkouts run by run: the
 * checkouts (absolute; this one when none is given) and the runs of each.
 */
export function checkoutsAndRuns(args, defaultRuns) {
  let runs = defaultRuns
  const checkouts = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = Number(args[++i])
    else checkouts.push(resolve(args[i]))
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer')
  if (checkouts.length === 0) checkouts.push(fileURLToPath(new URL('../..', import.meta.url)))
  return { checkouts, runs }
}
