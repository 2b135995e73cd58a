import type { TestProject } from 'vitest/node'
import { removeDir } from '../helpers/run-cli.js'
import { prepareTemplate, type Template } from './fixture.js'

declare module 'vitest' {
  export interface ProvidedContext {
    dashboardTemplate: Template
  }
}

/** Builds the template project once (the CLI calls are the slow part); each file copies it. */
export default async function setup(project: TestProject): Promise<() => void> {
  const template = await prepareTemplate()
  project.provide('dashboardTemplate', template)
  return () => removeDir(template.dir)
}
