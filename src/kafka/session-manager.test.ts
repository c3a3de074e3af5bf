import assert from 'node:assert/strict';
import pino from 'pino';
import { parseConfig } from '../config/load.ts';
import type { ServiceError } from '../errors.ts';
import { Metrics } from '../metrics/metrics.ts';
import { reauthenticationThresholdFor, SessionManager } from './session-manager.ts';

// Sessions are created without connecting (kafkajs connects lazily), so these run offline.

function setup(overrides: Record<string, unknown> = {}, now = () => Date.now()) {
  const config = parseConfig({
    issuers: [{ issuer: 'https://idp.example.com', audiences: ['kafka'] }],
    kafka: { brokers: ['127.0.0.1:1'] },
    sessions: { expiryMarginSec: 2, ...overrides },
  });
  const metrics = new Metrics({ collectDefault: false });
  const manager = new SessionManager(config, metrics, pino({ level: 'silent' }), { now });
  return { manager, metrics };
}

const alice = { issuer: 'https://idp.example.com', principal: 'alice' };

async function counter(metrics: Metrics, name: string, labels = ''): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('reauthenticationThresholdFor', () => {
  it('stays below the expiry margin, so a re-authentication never hands over a token already due', () => {
    for (const marginSec of [2, 5, 30, 300]) {
      const threshold = reauthenticationThresholdFor(marginSec);
      assert.ok(threshold < marginSec * 1000, `margin ${marginSec}s`);
      assert.ok(threshold >= 1000, 'longer than a consumer fetch wait');
    }
  });
});

describe('SessionManager', () => {
  it('gives one session per principal and swaps in a longer-lived token', async () => {
    const { manager, metrics } = setup();
    const now = Date.now();
    const first = manager.acquire(alice, { token: 't1', expiresAtMs: now + 60_000 });
    const again = manager.acquire(alice, { token: 't2', expiresAtMs: now + 120_000 });
    assert.equal(first, again);
    assert.equal(first.tokenExpiresAtMs, now + 120_000);
    assert.equal(await counter(metrics, 'tollgate_kafka_token_swaps_total'), 1);
    manager.acquire(alice, { token: 't0', expiresAtMs: now + 30_000 });
    assert.equal(first.tokenExpiresAtMs, now + 120_000, 'an older token never replaces a newer one');
    const bob = manager.acquire({ ...alice, principal: 'bob' }, { token: 'b', expiresAtMs: now + 60_000 });
    assert.notEqual(bob, first);
    assert.equal(manager.size, 2);
    await manager.closeAll('shutdown', 1000);
  });

  it('refuses a token that expires within the margin', () => {
    const { manager } = setup({ expiryMarginSec: 5 });
    assert.throws(
      () => manager.acquire(alice, { token: 't', expiresAtMs: Date.now() + 3_000 }),
      (e: ServiceError) => e.code === 'JWT_EXPIRED',
    );
  });

  it('answers LIMIT_REACHED past the session cap', async () => {
    const { manager } = setup({ maxSessions: 1 });
    manager.acquire(alice, { token: 't', expiresAtMs: Date.now() + 60_000 });
    assert.throws(
      () => manager.acquire({ ...alice, principal: 'bob' }, { token: 't', expiresAtMs: Date.now() + 60_000 }),
      (e: ServiceError) => e.code === 'LIMIT_REACHED',
    );
    await manager.closeAll('shutdown', 1000);
  });

  it('closes a session at its token expiry when no newer token arrived', async () => {
    const { manager, metrics } = setup();
    const session = manager.acquire(alice, { token: 't', expiresAtMs: Date.now() + 2_200 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(session.closed, true);
    assert.equal(manager.size, 0);
    assert.equal(await counter(metrics, 'tollgate_kafka_sessions_closed_total', 'reason="expired"'), 1);
  });

  it('keeps a session whose token was refreshed before expiry', async () => {
    const { manager } = setup();
    const session = manager.acquire(alice, { token: 't1', expiresAtMs: Date.now() + 2_200 });
    manager.acquire(alice, { token: 't2', expiresAtMs: Date.now() + 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(session.closed, false);
    await manager.closeAll('shutdown', 1000);
  });

  it('sweeps idle sessions and counts them as idle', async () => {
    let clock = Date.now();
    const { manager, metrics } = setup({ idleTimeoutSec: 300 }, () => clock);
    const session = manager.acquire(alice, { token: 't', expiresAtMs: clock + 3_600_000 });
    assert.equal(await manager.sweep(), 0);
    clock += 301_000;
    assert.equal(await manager.sweep(), 1);
    assert.equal(session.closed, true);
    assert.equal(await counter(metrics, 'tollgate_kafka_sessions_closed_total', 'reason="idle"'), 1);
  });

  it('keeps sessions holding consumer instances until their own idle timeout', async () => {
    let clock = Date.now();
    const { manager } = setup({ idleTimeoutSec: 60, consumerIdleTimeoutSec: 600 }, () => clock);
    const session = manager.acquire(alice, { token: 't', expiresAtMs: clock + 3_600_000 });
    const consumer = {
      lastUsedMs: clock,
      closedWith: '',
      async close(reason: string) {
        consumer.closedWith = reason;
      },
    };
    manager.addConsumer(session, 'g\u0000i', consumer);
    clock += 120_000;
    session.touch();
    assert.equal(await manager.sweep(), 0, 'past the plain idle timeout, but it holds a consumer');
    clock += 600_000;
    consumer.lastUsedMs = clock - 1_000;
    assert.equal(await manager.sweep(), 0, 'the consumer is still in use');
    clock += 601_000;
    assert.equal(await manager.sweep(), 2, 'the idle consumer, then its idle session');
    assert.equal(consumer.closedWith, 'idle');
  });

  describe('the consumer-instance gauge (one owner: the manager)', () => {
    const gauge = (metrics: Metrics) => counter(metrics, 'tollgate_kafka_consumer_instances');
    const fakeConsumer = (lastUsedMs = Date.now()) => ({ lastUsedMs, async close() {} });

    // Regression (issue 10): a session closed at token expiry cleared its consumers without
    // counting them down, so the gauge drifted upward.
    it('counts down the instances of a session closed at token expiry', async () => {
      const { manager, metrics } = setup();
      const session = manager.acquire(alice, { token: 't', expiresAtMs: Date.now() + 2_200 });
      manager.addConsumer(session, 'g\u0000a', fakeConsumer());
      manager.addConsumer(session, 'g\u0000b', fakeConsumer());
      assert.equal(await gauge(metrics), 2);
      const deadline = Date.now() + 5_000;
      while (!session.closed && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(session.closed, true);
      assert.equal(await gauge(metrics), 0);
    });

    it('counts down on delete, on the idle sweep and at shutdown, never below what is open', async () => {
      let clock = Date.now();
      const { manager, metrics } = setup({ consumerIdleTimeoutSec: 60 }, () => clock);
      const session = manager.acquire(alice, { token: 't', expiresAtMs: clock + 3_600_000 });
      const bob = manager.acquire(
        { ...alice, principal: 'bob' },
        { token: 'b', expiresAtMs: clock + 3_600_000 },
      );
      manager.addConsumer(session, 'g\u0000deleted', fakeConsumer(clock));
      manager.addConsumer(session, 'g\u0000idle', fakeConsumer(clock - 120_000));
      manager.addConsumer(bob, 'g\u0000kept', fakeConsumer(clock));
      assert.equal(await gauge(metrics), 3);
      assert.equal(manager.removeConsumer(session, 'g\u0000deleted'), true);
      assert.equal(manager.removeConsumer(session, 'g\u0000deleted'), false, 'already gone: no second count');
      assert.equal(await gauge(metrics), 2);
      clock += 1_000;
      await manager.sweep();
      assert.equal(await gauge(metrics), 1, 'the idle instance went');
      await manager.closeAll('shutdown', 1000);
      assert.equal(await gauge(metrics), 0);
    });

    it('refuses an instance for a session already closed', async () => {
      const { manager, metrics } = setup();
      const session = manager.acquire(alice, { token: 't', expiresAtMs: Date.now() + 60_000 });
      await manager.close(session, 'idle');
      assert.throws(
        () => manager.addConsumer(session, 'g\u0000late', fakeConsumer()),
        (e: ServiceError) => e.code === 'KAFKA_UNAVAILABLE',
      );
      assert.equal(await gauge(metrics), 0);
    });
  });
});
