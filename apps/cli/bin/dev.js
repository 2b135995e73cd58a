#!/usr/bin/env -S node --conditions=@aegis/source --import tsx
import { execute } from '@oclif/core'

await execute({ development: true, dir: import.meta.url })
