import { readFileSync } from 'node:fs';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';

/**
 * The floor under the verify-rate part: `jose.jwtVerify` alone, in one process, on the
 * tokens and with the verification options Tollgate's verifier passes it (issuer, audience,
 * allowed algorithms, `typ`, required `exp`), against the issuer's JWKS held in memory.
 * No gRPC, no cache, no ACL: what a signature check costs in this Node and this jose.
 *
 * Run as `node jose-verify-floor.ts INPUT.json DURATION_SEC CONCURRENCY`, where INPUT holds
 * `{ jwks, tokens, issuer, audience, algorithms, typ }`; prints one JSON line with the count,
 * the wall seconds and the process's CPU-seconds (every thread: WebCrypto's verify runs on
 * libuv's pool).
 */

interface FloorInput {
  readonly jwks: JSONWebKeySet;
  readonly tokens: readonly string[];
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly typ: string;
}

async function main(): Promise<void> {
  const [inputFile, durationArg, concurrencyArg] = process.argv.slice(2);
  const input = JSON.parse(readFileSync(inputFile!, 'utf8')) as FloorInput;
  const durationMs = Number(durationArg) * 1000;
  const concurrency = Number(concurrencyArg);
  const keys = createLocalJWKSet(input.jwks);
  const options = {
    issuer: input.issuer,
    audience: input.audience,
    algorithms: [...input.algorithms],
    typ: input.typ,
    requiredClaims: ['exp'],
  };
  const { tokens } = input;
  // One pass unmeasured: jose's key import cache and the JIT.
  for (const token of tokens.slice(0, 200)) await jwtVerify(token, keys, options);

  let next = 0;
  let verified = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const token = tokens[next++ % tokens.length]!;
        await jwtVerify(token, keys, options);
        verified++;
      }
    }),
  );
  const elapsedSec = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({ verified, elapsedSec, cpuSec: (cpu.user + cpu.system) / 1e6 })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`jose-verify-floor: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
