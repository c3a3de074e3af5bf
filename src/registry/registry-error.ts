/**
 * What can go wrong with a schema: the registry cannot be reached or refused to answer
 * (`unavailable`), it does not know the id (`unknown_id`), the schema is unusable or refused
 * as incompatible (`invalid_schema`), a value does not fit its schema (`invalid_data`), or
 * bytes are not in the Confluent wire format (`not_wire_format`). The REST layer maps kinds to
 * the contract's codes (40801, 42205, 422).
 */
export type RegistryErrorKind =
  | 'unavailable'
  | 'unknown_id'
  | 'invalid_schema'
  | 'invalid_data'
  | 'not_wire_format';

export class RegistryError extends Error {
  readonly kind: RegistryErrorKind;

  constructor(kind: RegistryErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
    this.kind = kind;
  }
}
