import assert from 'node:assert/strict';
import { Metrics, REASON_OK } from './metrics.ts';

function sample(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? Number.NaN : Number(found.split(' ').pop());
}

describe('Metrics', () => {
  it('exports every decision and cache lookup counted since the last scrape, and keeps the totals', async () => {
    const metrics = new Metrics({ collectDefault: false });
    metrics.recordDecision('allow', REASON_OK);
    metrics.recordDecision('allow', REASON_OK);
    metrics.recordDecision('deny', 'ACL_DENIED');
    metrics.recordTokenCache(true);
    metrics.recordTokenCache(false);
    let body = (await metrics.exposition()).body;
    assert.equal(sample(body, 'tollgate_authz_decisions_total{result="allow",reason="OK"}'), 2);
    assert.equal(sample(body, 'tollgate_authz_decisions_total{result="deny",reason="ACL_DENIED"}'), 1);
    assert.equal(sample(body, 'tollgate_jwt_cache_requests_total{result="hit"}'), 1);
    assert.equal(sample(body, 'tollgate_jwt_cache_requests_total{result="miss"}'), 1);
    metrics.recordDecision('allow', REASON_OK);
    metrics.recordTokenCache(true);
    body = (await metrics.exposition()).body;
    assert.equal(sample(body, 'tollgate_authz_decisions_total{result="allow",reason="OK"}'), 3);
    assert.equal(sample(body, 'tollgate_jwt_cache_requests_total{result="hit"}'), 2);
    // A scrape with nothing new changes nothing.
    body = (await metrics.exposition()).body;
    assert.equal(sample(body, 'tollgate_authz_decisions_total{result="allow",reason="OK"}'), 3);
  });

  it('exports the counters of rare events at 0 before the first one', async () => {
    const body = (await new Metrics({ collectDefault: false }).exposition()).body;
    for (const line of [
      'tollgate_jwt_cache_requests_total{result="miss"}',
      'tollgate_rest_check_handoffs_total{result="rechecked"}',
      'tollgate_acl_reloads_total{result="error"}',
      'tollgate_kafka_sessions_closed_total{reason="idle"}',
      'tollgate_requests_shed_total{component="rest",reason="concurrency"}',
      'tollgate_kafka_errors_total{code="KAFKA_TOKEN_REJECTED"}',
    ]) {
      assert.equal(sample(body, line), 0, line);
    }
  });
});
