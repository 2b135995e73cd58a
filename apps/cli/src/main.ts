/**
 * What bin/run.js starts: oclif's `execute`, from the bundle (tsup.config.ts inlines @oclif/core),
 * so that oclif and the commands it loads share one copy of it.
 */
export { execute } from '@oclif/core'
