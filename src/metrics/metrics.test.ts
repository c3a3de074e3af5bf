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
});
