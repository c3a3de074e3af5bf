import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from './rest-client.ts';
import { createTopic, stackValue, tokenFor } from './stack-env.ts';

// `tollgate serve` behind the real Envoy: the gate hands its passed check to the REST process
// under a fresh id that Envoy sets on the forwarded request (src/check/check-handoff.ts). These
// tests hold the security side of that: the id reaches the REST process only from the gate, a
// client cannot supply one, and a request that did not pass the gate is checked in full.

/** tollgate_rest_check_handoffs_total{result}, read from the stack's metrics port. */
async function handoffs(): Promise<{ used: number; rechecked: number }> {
  const text = await (await fetch(`${stackValue('METRICS_URL')}/metrics`)).text();
  const sample = (result: string) => {
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`tollgate_rest_check_handoffs_total{result="${result}"}`));
    assert.ok(line, `tollgate_rest_check_handoffs_total{result="${result}"} is exported`);
    return Number(line.split(' ').pop());
  };
  return { used: sample('used'), rechecked: sample('rechecked') };
}

const produce = { records: [{ value: { n: 1 } }] };

describe('the check handed from the gate to the REST process (tollgate serve, real Envoy)', () => {
  const topic = `orders.handoff-${randomUUID().slice(0, 8)}`;
  let alice: string;

  before(async () => {
    await createTopic(topic, 1);
    alice = await tokenFor('alice');
  });

  it("authorizes a request that passed the gate with the gate's check, not a second one", async () => {
    const before = await handoffs();
    const res = await api('POST', `/topics/${topic}`, { token: alice, body: produce });
    assert.equal(res.status, 200, res.text);
    const after = await handoffs();
    assert.equal(after.used - before.used, 1);
    assert.equal(after.rechecked - before.rechecked, 0);
  });

  it('never forwards a client-sent id: Envoy replaces it with its own, or the gate denies first', async () => {
    const forged = { 'x-tollgate-check': randomUUID() };
    const before = await handoffs();
    const allowed = await api('POST', `/topics/${topic}`, { token: alice, body: produce, headers: forged });
    assert.equal(allowed.status, 200, allowed.text);
    const denied = await api('POST', `/topics/${topic}`, { body: produce, headers: forged });
    assert.equal(denied.status, 401, denied.text);
    const after = await handoffs();
    // The allowed one used the gate's id (a forged id would be unknown: a recheck).
    assert.equal(after.used - before.used, 1);
    assert.equal(after.rechecked - before.rechecked, 0);
  });

  it('checks in full a request that reaches the REST process without the gate, with or without an id', async () => {
    const direct = stackValue('REST_URL');
    const forged = { 'x-tollgate-check': randomUUID() };
    const before = await handoffs();
    const withToken = await api('POST', `/topics/${topic}`, {
      base: direct,
      token: alice,
      body: produce,
      headers: forged,
    });
    assert.equal(withToken.status, 200, withToken.text);
    const withoutToken = await api('POST', `/topics/${topic}`, {
      base: direct,
      body: produce,
      headers: forged,
    });
    assert.equal(withoutToken.status, 401, withoutToken.text);
    const after = await handoffs();
    assert.equal(after.used - before.used, 0);
    assert.equal(after.rechecked - before.rechecked, 2);
  });
});
