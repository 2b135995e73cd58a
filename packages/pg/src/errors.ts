export type SchemaErrorCode = 'schema_ahead' | 'schema_behind' | 'schema_empty'

/** The database's schema does not match what this build of Aegis knows. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError'
  constructor(
    readonly code: SchemaErrorCode,
    message: string,
  ) {
    super(message)
  }
}
