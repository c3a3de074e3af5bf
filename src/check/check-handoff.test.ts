import assert from 'node:assert/strict';
import { mapRoute } from '../routes/route-map.ts';
import type { CheckOutcome, CheckRequest } from './check.ts';
import { CheckHandoff, type HandoffRequest } from './check-handoff.ts';

const TOKEN = 'aGRy.cGF5bG9hZA.c2ln';
const NOW = 1_900_000_000_000;

function request(overrides: Partial<CheckRequest> = {}): CheckRequest {
  return {
    route: mapRoute('POST', '/topics/orders.eu'),
    method: 'POST',
    path: '/topics/orders.eu',
    authorization: [`Bearer ${TOKEN}`],
    host: '10.0.0.7',
    ...overrides,
  };
}

function seen(overrides: Partial<HandoffRequest> = {}): HandoffRequest {
  return {
    method: 'POST',
    path: '/topics/orders.eu',
    authorization: [`Bearer ${TOKEN}`],
    host: '10.0.0.7',
    clientCertThumbprint: undefined,
    ...overrides,
  };
}

function outcome(overrides: Partial<CheckOutcome> = {}): CheckOutcome {
  return {
    verdict: 'allow',
    enforced: true,
    code: null,
    reason: 'allowed',
    detail: null,
    principal: 'alice',
    issuer: 'https://idp.test',
    tokenHash: 'hash',
    token: TOKEN,
    expiresAtMs: NOW + 3_600_000,
    route: 'POST /topics/{topic}',
    requires: [],
    denied: null,
    matched: [],
    ...overrides,
  };
}

function setup(options: { maxEntries?: number; ttlMs?: number } = {}) {
  const clock = { now: NOW };
  let acls: object = { generation: 1 };
  const handoff = new CheckHandoff({
    maxEntries: options.maxEntries ?? 16,
    ttlMs: options.ttlMs ?? 10_000,
    acls: () => acls,
    now: () => clock.now,
  });
  return {
    handoff,
    clock,
    reloadAcls: () => {
      acls = { generation: 2 };
    },
  };
}

describe('check hand-off (gate → REST process in one process)', () => {
  it('hands the same request over once, with the route the gate matched', () => {
    const { handoff } = setup();
    const checked = outcome();
    const id = handoff.put(request(), checked);
    assert.ok(id !== null && /^[0-9a-f-]{36}$/.test(id));
    const taken = handoff.take(id, seen());
    assert.equal(taken?.outcome, checked);
    assert.equal(taken?.route.known && taken.route.params.topic, 'orders.eu');
    assert.equal(handoff.take(id, seen()), null, 'an id is good for one request only');
    assert.equal(handoff.size, 0);
  });

  it('gives a fresh unguessable id to every check', () => {
    const { handoff } = setup();
    const ids = new Set(Array.from({ length: 10 }, () => handoff.put(request(), outcome())));
    assert.equal(ids.size, 10);
  });

  it('misses on no id, an unknown id, or an id of another request', () => {
    const { handoff } = setup();
    const id = handoff.put(request(), outcome());
    assert.equal(handoff.take(undefined, seen()), null);
    assert.equal(handoff.take('00000000-0000-4000-8000-000000000000', seen()), null);
    assert.ok(id !== null && handoff.take(id, seen()) !== null);
  });

  const mismatches: Array<[string, Partial<HandoffRequest>]> = [
    ['another method', { method: 'PUT' }],
    ['another path', { path: '/topics/orders.us' }],
    ['another query string', { path: '/topics/orders.eu?x=1' }],
    ['another token', { authorization: ['Bearer aGRy.b3RoZXI.c2ln'] }],
    ['two Authorization headers', { authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`] }],
    ['no Authorization header', { authorization: undefined }],
    ['another client address', { host: '10.0.0.8' }],
    ['a client certificate the gate did not see', { clientCertThumbprint: 'abc' }],
  ];
  for (const [what, change] of mismatches) {
    it(`misses (and drops the entry) on ${what}`, () => {
      const { handoff } = setup();
      const id = handoff.put(request(), outcome());
      assert.equal(handoff.take(id!, seen(change)), null);
      assert.equal(handoff.take(id!, seen()), null, 'a mismatched id is spent, not left for a retry');
    });
  }

  it('misses once the entry is older than its time to live', () => {
    const { handoff, clock } = setup({ ttlMs: 1000 });
    const id = handoff.put(request(), outcome());
    clock.now += 1001;
    assert.equal(handoff.take(id!, seen()), null);
  });

  it('misses once the token has expired', () => {
    const { handoff, clock } = setup();
    const id = handoff.put(request(), outcome({ expiresAtMs: NOW + 500 }));
    clock.now += 500;
    assert.equal(handoff.take(id!, seen()), null);
  });

  it('misses when the ACLs were reloaded in between', () => {
    const { handoff, reloadAcls } = setup();
    const id = handoff.put(request(), outcome());
    reloadAcls();
    assert.equal(handoff.take(id!, seen()), null);
  });

  it('stores nothing for an enforced denial, an anonymous pass or an unknown route', () => {
    const { handoff } = setup();
    const denied = outcome({ verdict: 'deny', code: 'ACL_DENIED' });
    assert.equal(handoff.put(request(), denied), null);
    assert.equal(handoff.put(request(), outcome({ principal: null, token: null })), null);
    assert.equal(handoff.put(request({ route: mapRoute('GET', '/nowhere') }), outcome()), null);
    assert.equal(handoff.size, 0);
    // An audited denial passes, and is handed over as the gate decided it.
    const audited = outcome({ verdict: 'deny', enforced: false, code: 'ACL_DENIED' });
    const id = handoff.put(request(), audited);
    assert.equal(handoff.take(id!, seen())?.outcome, audited);
  });

  it('is bounded: full means no hand-off, and stale entries make room', () => {
    const { handoff, clock } = setup({ maxEntries: 2, ttlMs: 1000 });
    assert.ok(handoff.put(request(), outcome()) !== null);
    assert.ok(handoff.put(request(), outcome()) !== null);
    assert.equal(handoff.put(request(), outcome()), null);
    clock.now += 1001;
    assert.ok(handoff.put(request(), outcome()) !== null);
    assert.equal(handoff.size, 1);
  });
});
