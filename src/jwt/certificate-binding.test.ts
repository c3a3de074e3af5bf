import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  type CertificateBinding,
  certificateThumbprint,
  checkCertificateBinding,
  thumbprintFromForwardedCert,
} from './certificate-binding.ts';

// The thumbprint is a hash of DER bytes; any bytes stand in for a certificate here.
const DER = Buffer.from('not really a certificate, but DER bytes all the same');
const PEM = `-----BEGIN CERTIFICATE-----\n${DER.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
const THUMB = createHash('sha256').update(DER).digest('base64url');
const OTHER = createHash('sha256').update('another certificate').digest('base64url');

const bound = { sub: 'alice', cnf: { 'x5t#S256': THUMB } };
const unbound = { sub: 'alice' };

type Row = readonly [
  name: string,
  policy: CertificateBinding,
  claims: Record<string, unknown>,
  thumbprint: string | undefined,
  ok: boolean,
];

// biome-ignore format: one line per case keeps the table readable
const ROWS: readonly Row[] = [
  ['off ignores a binding even without a certificate', 'off', bound, undefined, true],
  ['off ignores a binding to another certificate', 'off', bound, OTHER, true],
  ['if-present accepts a bound token with its certificate', 'if-present', bound, THUMB, true],
  ['if-present refuses a bound token from another certificate (stolen token)', 'if-present', bound, OTHER, false],
  ['if-present refuses a bound token without any certificate', 'if-present', bound, undefined, false],
  ['if-present accepts an unbound token without a certificate', 'if-present', unbound, undefined, true],
  ['if-present accepts an unbound token with a certificate', 'if-present', unbound, THUMB, true],
  ['if-present ignores cnf methods other than x5t#S256', 'if-present', { cnf: { jkt: 'abc' } }, undefined, true],
  ['if-present refuses a non-string x5t#S256', 'if-present', { cnf: { 'x5t#S256': 42 } }, THUMB, false],
  ['if-present refuses an empty x5t#S256', 'if-present', { cnf: { 'x5t#S256': '' } }, undefined, false],
  ['required accepts a bound token with its certificate', 'required', bound, THUMB, true],
  ['required refuses an unbound token even with a certificate', 'required', unbound, THUMB, false],
  ['required refuses a cnf that is not an object', 'required', { cnf: 'x' }, THUMB, false],
  ['required refuses a bound token from another certificate', 'required', bound, OTHER, false],
];

describe('checkCertificateBinding', () => {
  for (const [name, policy, claims, thumbprint, ok] of ROWS) {
    it(name, () => {
      const verdict = checkCertificateBinding(policy, claims, thumbprint);
      assert.equal(verdict.ok, ok);
      if (!verdict.ok) assert.equal(verdict.code, 'JWT_CERT_BINDING_FAILED');
    });
  }
});

describe('certificateThumbprint', () => {
  it('is the base64url SHA-256 of the DER bytes (RFC 8705 §3.1)', () => {
    assert.equal(certificateThumbprint(PEM), THUMB);
  });

  it('reads the first certificate of a chain', () => {
    const second = PEM.replace(DER.toString('base64').slice(0, 8), 'AAAAAAAA');
    assert.equal(certificateThumbprint(`${PEM}${second}`), THUMB);
  });

  it('finds nothing in text without a certificate', () => {
    assert.equal(
      certificateThumbprint('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'),
      undefined,
    );
    assert.equal(certificateThumbprint(''), undefined);
  });
});

describe('thumbprintFromForwardedCert', () => {
  const hex = Buffer.from(THUMB, 'base64url').toString('hex');

  it("turns Envoy's hex Hash into the base64url thumbprint", () => {
    assert.equal(thumbprintFromForwardedCert(`Hash=${hex}`), THUMB);
    assert.equal(thumbprintFromForwardedCert(`By=spiffe://a;Hash=${hex};Subject="CN=x"`), THUMB);
  });

  it('gives nothing without the header or without a Hash', () => {
    assert.equal(thumbprintFromForwardedCert(undefined), undefined);
    assert.equal(thumbprintFromForwardedCert('Subject="CN=x"'), undefined);
    assert.equal(thumbprintFromForwardedCert('Hash=abc'), undefined);
  });

  it('refuses two Hash values rather than choosing one', () => {
    const other = Buffer.from(OTHER, 'base64url').toString('hex');
    assert.equal(thumbprintFromForwardedCert(`Hash=${other},Hash=${hex}`), undefined);
  });
});
