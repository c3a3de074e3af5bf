import { readFileSync } from 'node:fs';
import { compileAcls } from '../acl/acl-compile.ts';
import { readAclFile } from '../acl/acl-file.ts';
import { createChecker, passes } from '../check/check.ts';
import type { Config } from '../config/schema.ts';
import { CODE_INFO } from '../errors.ts';
import { certificateThumbprint } from '../jwt/certificate-binding.ts';
import { createTokenVerifier } from '../jwt/verifier.ts';
import { mapRoute } from '../routes/route-map.ts';

/** `tollgate explain`: the decision for one token, method and path, and why. */
export async function runExplain(
  config: Config,
  args: { token?: string; method?: string; path?: string; clientCert?: string },
): Promise<number> {
  if (!args.token || !args.path) {
    process.stderr.write('tollgate explain: --token and --path are required (and --method, default GET)\n');
    return 2;
  }
  const acl = await readAclFile(config.acl.file);
  if (!acl.ok) {
    process.stderr.write(
      `tollgate explain: ${config.acl.file}: invalid ACL file:\n  ${acl.problems.join('\n  ')}\n`,
    );
    return 1;
  }
  const acls = compileAcls(acl.file);
  const verifier = createTokenVerifier(config.issuers, config.jwt);
  verifier.start();
  try {
    // Wait for the first JWKS fetch so the answer is about the token, not about start-up.
    const keysLoaded = await verifier.refreshKeys();
    if (!keysLoaded) process.stdout.write("warning: some issuers' keys could not be fetched\n");
    const checker = createChecker(config, { verifier, acls: () => acls });
    const method = (args.method ?? 'GET').toUpperCase();
    // The client certificate the request would come with (certificate-bound tokens, RFC 8705).
    const clientCertThumbprint = args.clientCert
      ? certificateThumbprint(readFileSync(args.clientCert, 'utf8'))
      : undefined;
    const outcome = await checker.check(
      {
        route: mapRoute(method, args.path),
        method,
        path: args.path,
        authorization: `Bearer ${args.token}`,
        host: undefined,
        clientCertThumbprint,
      },
      { transport: 'http', requestId: undefined },
    );
    const passed = passes(outcome);
    const lines = [
      `decision:   ${outcome.verdict === 'allow' ? 'ALLOW' : passed ? 'ALLOW (audit mode; enforce would deny)' : 'DENY'}`,
      `reason:     ${outcome.code ?? 'OK'} — ${outcome.reason}`,
      `status:     ${passed ? 200 : CODE_INFO[outcome.code ?? 'INTERNAL'].http}`,
      `route:      ${outcome.route ?? '(none)'}`,
      `principal:  ${outcome.principal ?? '(not established)'}${outcome.issuer ? ` from ${outcome.issuer}` : ''}`,
      `mode:       ${config.mode}${config.authorization ? '' : ' (authorization off: authentication only)'}`,
      'requires:',
      ...(outcome.requires.length === 0
        ? ['  (nothing beyond a known service user)']
        : outcome.requires.map((r) => `  ${r.operation} on ${r.resourceType} ${JSON.stringify(r.name)}`)),
      'decided by:',
      ...(outcome.matched.length === 0
        ? [
            outcome.code === 'ACL_DENIED'
              ? '  no ACL entry matched (no match means deny)'
              : '  (no ACL entry involved)',
          ]
        : outcome.matched.map((m) => `  ${m.description}`)),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return passed ? 0 : 3;
  } finally {
    verifier.stop();
  }
}
