import { readFileSync } from 'node:fs';
import grpc from '@grpc/grpc-js';
import { authorizationDefinition } from './envoy-protos.ts';

/**
 * One Check per workload before any load, asserting the answer: a benchmark of a server that
 * allows what it should deny (or the reverse) would measure the wrong thing. Both Tollgate and
 * the Rego policy must allow the valid tokens on every route and deny the invalid ones.
 */

interface CheckResponse {
  status?: { code?: number };
  ok_response?: { headers?: Array<{ header?: { key?: string; value?: string } }> };
}

// biome-ignore lint/suspicious/noExplicitAny: grpc-js package definitions are untyped trees.
let authorization: any = null;

function client(target: string) {
  if (authorization === null) {
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    authorization = (grpc.loadPackageDefinition(authorizationDefinition()) as any).envoy.service.auth.v3
      .Authorization;
  }
  return new authorization(target, grpc.credentials.createInsecure());
}

type CheckCall = (request: unknown, done: (err: Error | null, res: CheckResponse) => void) => void;

function check(stub: { Check: CheckCall }, request: unknown): Promise<CheckResponse> {
  return new Promise((resolve, reject) => {
    stub.Check(request, (err: Error | null, res: CheckResponse) => (err ? reject(err) : resolve(res)));
  });
}

/** Sends the first `count` requests of a ghz data file; throws unless each answer is as expected. */
export async function assertVerdicts(
  what: string,
  target: string,
  dataFile: string,
  expectAllow: boolean,
  count = 3,
): Promise<void> {
  const requests = (JSON.parse(readFileSync(dataFile, 'utf8')) as unknown[]).slice(0, count);
  const stub = client(target);
  try {
    for (const [i, request] of requests.entries()) {
      const res = await check(stub, request);
      const allowed = (res.status?.code ?? 0) === 0;
      if (allowed !== expectAllow) {
        throw new Error(`${what}: request ${i} was ${allowed ? 'allowed' : 'denied'}, expected the opposite`);
      }
      if (allowed) {
        const principal = res.ok_response?.headers?.find((h) => h.header?.key === 'x-tollgate-principal');
        if (principal?.header?.value !== 'alice') {
          throw new Error(`${what}: request ${i} allowed without x-tollgate-principal: alice`);
        }
      }
    }
  } finally {
    stub.close();
  }
}
