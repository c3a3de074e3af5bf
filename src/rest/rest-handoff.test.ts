import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { compileAcls } from '../acl/acl-compile.ts';
import { parseAclFile } from '../acl/acl-file.ts';
import { createChecker } from '../check/check.ts';
import { CHECK_HANDOFF_HEADER, CheckHandoff } from '../check/check-handoff.ts';
import { parseConfig } from '../config/load.ts';
import type { TokenVerifier, VerifyResult } from '../jwt/verifier.ts';
import { SessionManager } from '../kafka/session-manager.ts';
import { Metrics } from '../metrics/metrics.ts';
import { mapRoute } from '../routes/route-map.ts';
import { createRestServer } from './rest-server.ts';

// Issue #14: in `tollgate serve` the REST process takes the gate's passed check instead of
// verifying the token and walking the ACLs again, but only for the very request that was
// checked; anything else is checked in full, as before.

const parsed = parseAclFile('serviceUsers: [alice]\nacls: []\n');
if (!parsed.ok) throw new Error(parsed.problems.join('; '));
const ACLS = compileAcls(parsed.file);

const GOOD = 'aGRy.YWxpY2U.c2ln';
const BAD = 'aGRy.bWFsbG9yeQ.c2ln';

/** Accepts GOOD as alice, refuses everything else; counts its calls. */
function createCountingVerifier(): TokenVerifier & { calls: number } {
  const verifier = {
    calls: 0,
    async verify(token: string): Promise<VerifyResult> {
      verifier.calls++;
      if (token !== GOOD) return { ok: false, code: 'JWT_SIGNATURE_INVALID', reason: 'test' };
      return {
        ok: true,
        issuer: 'https://idp.test',
        principal: 'alice',
        expiresAtMs: Date.now() + 3_600_000,
        claims: { sub: 'alice' },
        tokenHash: 'hash',
        certificateBinding: 'off',
        cached: false,
      };
    },
    ready: () => true,
    start: () => {},
    stop: () => {},
    refreshKeys: async () => true,
  };
  return verifier;
}

describe('REST server with the gate’s check handed over', () => {
  let server: Server | null = null;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = null;
  });

  async function start() {
    const config = parseConfig({ issuers: [{ issuer: 'https://idp.test', audiences: ['kafka'] }] });
    const metrics = new Metrics({ collectDefault: false });
    const logger = pino({ level: 'silent' });
    const verifier = createCountingVerifier();
    const checker = createChecker(config, { verifier, acls: () => ACLS });
    const handoff = new CheckHandoff({ maxEntries: 16, ttlMs: 10_000, acls: () => ACLS });
    const s = createRestServer({
      config,
      checker,
      handoff,
      sessions: new SessionManager(config, metrics, logger),
      acls: () => ACLS,
      sharedSession: null,
      metrics,
      logger,
      startedAtMs: Date.now(),
      version: 'test',
    });
    server = s;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    /** What the gate does for an allowed Check: check, then store the outcome for the REST process. */
    const gate = async (token: string, path = '/') => {
      const request = {
        route: mapRoute('GET', path),
        method: 'GET',
        path,
        authorization: [`Bearer ${token}`],
        host: '127.0.0.1',
      };
      const outcome = await checker.check(request, { transport: 'grpc', requestId: undefined });
      return handoff.put(request, outcome);
    };
    const get = async (token: string, id: string | null, path = '/') => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (id !== null) headers[CHECK_HANDOFF_HEADER] = id;
      const res = await fetch(`${base}${path}`, { headers });
      return { status: res.status, body: await res.text() };
    };
    const handoffs = async () => {
      const metric = await metrics.registry.getSingleMetric('tollgate_rest_check_handoffs_total')?.get();
      const of = (result: string) => metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
      return { used: of('used'), rechecked: of('rechecked') };
    };
    return { verifier, gate, get, handoffs };
  }

  it('answers the checked request without verifying the token again', async () => {
    const { verifier, gate, get, handoffs } = await start();
    const id = await gate(GOOD);
    assert.equal(verifier.calls, 1, 'the gate verified once');
    const answer = await get(GOOD, id);
    assert.equal(answer.status, 200);
    assert.equal(answer.body, '{}');
    assert.equal(verifier.calls, 1, 'the REST process used the handed-over check');
    assert.deepEqual(await handoffs(), { used: 1, rechecked: 0 });
  });

  it('checks in full when the id is replayed, forged or absent', async () => {
    const { verifier, gate, get, handoffs } = await start();
    const id = await gate(GOOD);
    assert.equal((await get(GOOD, id)).status, 200);
    const before = verifier.calls;
    assert.equal((await get(GOOD, id)).status, 200, 'a replayed id: checked again (and allowed)');
    assert.equal((await get(GOOD, 'made-up')).status, 200);
    assert.equal((await get(GOOD, null)).status, 200);
    assert.equal(verifier.calls, before + 3);
    assert.deepEqual(await handoffs(), { used: 1, rechecked: 3 });
  });

  it("never lets another token ride on a passed check's id", async () => {
    const { verifier, gate, get } = await start();
    const id = await gate(GOOD);
    const answer = await get(BAD, id);
    assert.equal(answer.status, 401);
    assert.equal(verifier.calls, 2, 'the other token was verified (and refused)');
  });

  it('never uses a check made for another path', async () => {
    const { verifier, gate, get } = await start();
    const id = await gate(GOOD, '/');
    const answer = await get(BAD, id, '/?x=1');
    assert.equal(answer.status, 401);
    assert.equal(verifier.calls, 2);
  });
});
