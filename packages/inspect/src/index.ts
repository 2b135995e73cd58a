export {
  createDecoder,
  DecodeError,
  type DecodeErrorCode,
  decodeBody,
  decodeBodyAsync,
  describeCoding,
  isDecodable,
  listCodings,
} from './decode.js'
export type { Encoding } from './encodings.js'
export { type FormatHit, scanFormats } from './format-scan.js'
export { type CredentialFormat, FORMATS } from './formats.js'
export {
  type Finding,
  type InspectOptions,
  inspectOutbound,
  type OutboundParts,
  type Where,
} from './inspect.js'
export {
  buildMatcher,
  DEFAULT_MIN_LENGTH,
  type Hit,
  type MatcherOptions,
  type SecretInput,
  SecretMatcher,
} from './matcher.js'
export { mayHoldQuotedPrintable, type RecordFraming, recordFraming } from './records.js'
export {
  containsSecret,
  containsSecretIgnoringCase,
  createRedactor,
  DEFAULT_REPLACEMENT,
  type RedactedBytes,
  type RedactedText,
  Redactor,
  type RedactorOptions,
  redactBuffer,
  redactParts,
  redactText,
} from './redact.js'
export { scan } from './scan.js'
export { RedactStream, redactStream } from './stream.js'
