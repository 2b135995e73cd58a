export {
  createDecoder,
  DecodeError,
  type DecodeErrorCode,
  decodeBody,
  decodeBodyAsync,
  describeCoding,
  isDecodable,
  listCodings,
} from './decode.ts'
export type { Encoding } from './encodings.ts'
export { type FormatHit, scanFormats } from './format-scan.ts'
export { type CredentialFormat, FORMATS } from './formats.ts'
export {
  type Finding,
  type InspectOptions,
  inspectOutbound,
  type OutboundParts,
  type Where,
} from './inspect.ts'
export {
  buildMatcher,
  DEFAULT_MIN_LENGTH,
  type Hit,
  type MatcherOptions,
  type SecretInput,
  SecretMatcher,
} from './matcher.ts'
export {
  containsSecret,
  createRedactor,
  DEFAULT_REPLACEMENT,
  type RedactedBytes,
  type RedactedText,
  Redactor,
  type RedactorOptions,
  redactBuffer,
  redactText,
} from './redact.ts'
export { scan } from './scan.ts'
export { RedactStream, redactStream } from './stream.ts'
