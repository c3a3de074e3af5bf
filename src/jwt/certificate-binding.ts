import { createHash } from 'node:crypto';
import type { ErrorCode } from '../errors.ts';

/**
 * Certificate-bound access tokens (RFC 8705 §3): a token whose `cnf` claim carries
 * `x5t#S256` may only be used over a mutual-TLS connection whose client certificate has that
 * SHA-256 thumbprint, so a token stolen from one client is useless from another. Pure: the
 * edge (Envoy's peer certificate, or the REST process's x-forwarded-client-cert) supplies the
 * thumbprint of the connection's certificate, if it had one.
 */

/** Per issuer: `off` ignores `cnf`; `if-present` checks bound tokens and accepts unbound ones; `required` refuses unbound tokens. */
export type CertificateBinding = 'off' | 'if-present' | 'required';

export const CERTIFICATE_BINDINGS: readonly CertificateBinding[] = ['off', 'if-present', 'required'];

export type BindingVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: ErrorCode; readonly reason: string };

const OK: BindingVerdict = Object.freeze({ ok: true });
const CODE: ErrorCode = 'JWT_CERT_BINDING_FAILED';

function fail(reason: string): BindingVerdict {
  return { ok: false, code: CODE, reason };
}

/**
 * Checks a verified token's certificate binding against the client certificate of the
 * connection it came over (`thumbprint`: base64url SHA-256 of the DER, undefined without one).
 * Fails with JWT_CERT_BINDING_FAILED; never throws.
 */
export function checkCertificateBinding(
  policy: CertificateBinding,
  claims: Readonly<Record<string, unknown>>,
  thumbprint: string | undefined,
): BindingVerdict {
  if (policy === 'off') return OK;
  const cnf = claims.cnf;
  const bound =
    typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf)
      ? (cnf as Record<string, unknown>)['x5t#S256']
      : undefined;
  if (bound === undefined) {
    return policy === 'required' ? fail('the token is not bound to a client certificate (cnf.x5t#S256)') : OK;
  }
  // Fail closed: a binding we cannot read is not a binding we can ignore.
  if (typeof bound !== 'string' || bound === '') return fail('expected cnf.x5t#S256 to be a string');
  if (thumbprint === undefined)
    return fail('the token is bound to a client certificate, and none was presented');
  // Thumbprints are public values (a hash of a certificate), so a plain comparison leaks nothing.
  if (bound !== thumbprint) return fail('the client certificate is not the one the token is bound to');
  return OK;
}

const PEM_BODY = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

/**
 * RFC 8705 §3.1 thumbprint of the first certificate in a PEM text: base64url SHA-256 of its
 * DER bytes. Undefined when there is no certificate in it.
 */
export function certificateThumbprint(pem: string): string | undefined {
  const match = PEM_BODY.exec(pem);
  if (match === null) return undefined;
  const der = Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
  if (der.length === 0) return undefined;
  return createHash('sha256').update(der).digest('base64url');
}

/**
 * The thumbprint Envoy put in `x-forwarded-client-cert` (`Hash=<hex SHA-256 of the DER>`), as
 * base64url; undefined when the header is absent or has no Hash. Only for a listener that
 * Envoy alone can reach, with forward_client_cert_details SANITIZE_SET.
 */
export function thumbprintFromForwardedCert(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  // SANITIZE_SET leaves exactly one element; more than one Hash means someone else wrote it too.
  const hashes = [...header.matchAll(/(?:^|[;,])\s*Hash=([0-9a-fA-F]{64})(?=;|,|$)/g)];
  if (hashes.length !== 1) return undefined;
  return Buffer.from(hashes[0]![1]!, 'hex').toString('base64url');
}
