import assert from 'node:assert/strict';
import pino from 'pino';
import { checkOutcome } from '../../test/support/check-outcome.ts';
import { Metrics } from '../metrics/metrics.ts';
import type { CheckContext, CheckOutcome } from './check.ts';
import { createDecisionRecorder, resultOf } from './decision-log.ts';

const REQUEST = { method: 'POST', path: '/topics/orders.eu' };
const at = (transport: CheckContext['transport']): CheckContext => ({ transport, requestId: 'r1' });

const allowed = checkOutcome({ verdict: 'allow', route: 'POST /topics/{topic}', principal: 'alice' });
const denied = checkOutcome({ code: 'ACL_DENIED', route: 'POST /topics/{topic}', principal: 'mallory' });
const audited = checkOutcome({ code: 'ACL_DENIED', enforced: false, route: 'POST /topics/{topic}' });
// A check of topics named in a body has no route.
const bodyDenied = checkOutcome({ code: 'ACL_DENIED', principal: 'mallory' });
const bodyAudited = checkOutcome({ code: 'ACL_DENIED', enforced: false, principal: 'mallory' });
const bodyAllowed = checkOutcome({ verdict: 'allow', principal: 'alice' });

function setup() {
  const metrics = new Metrics({ collectDefault: false });
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const record = createDecisionRecorder(metrics, logger, { logAllows: false });
  const count = async (result: string, reason: string) => {
    const text = await metrics.registry.metrics();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`tollgate_authz_decisions_total{result="${result}",reason="${reason}"}`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };
  const checks = async (transport: string) => {
    const text = await metrics.registry.metrics();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`tollgate_authz_check_duration_seconds_count{transport="${transport}"}`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };
  return { record, lines, count, checks };
}

describe('resultOf', () => {
  it('names allow, deny and audit_allow from the verdict and whether it is enforced', () => {
    assert.equal(resultOf(allowed), 'allow');
    assert.equal(resultOf(denied), 'deny');
    assert.equal(resultOf(audited), 'audit_allow');
  });
});

describe('createDecisionRecorder', () => {
  it('counts, times and logs every decision of the gate', async () => {
    const { record, lines, count, checks } = setup();
    for (const outcome of [allowed, denied, audited]) record(outcome, REQUEST, at('grpc'), 0.001);
    assert.equal(await count('allow', 'OK'), 1);
    assert.equal(await count('deny', 'ACL_DENIED'), 1);
    assert.equal(await count('audit_allow', 'ACL_DENIED'), 1);
    assert.equal(await checks('grpc'), 3);
    assert.deepEqual(
      lines.map((line) => [line.event, line.result, line.transport]),
      [
        ['authz_decision', 'deny', 'grpc'],
        ['authz_decision', 'audit_allow', 'grpc'],
      ],
      'allows are logged only with logAllows',
    );
  });

  it('records the REST re-check of a route only when it denies what the gate let through', async () => {
    const { record, lines, count, checks } = setup();
    const rows: readonly CheckOutcome[] = [allowed, audited, denied];
    for (const outcome of rows) record(outcome, REQUEST, at('rest'), 0.001);
    assert.equal(await count('allow', 'OK'), 0, 'the gate counted it already');
    assert.equal(await count('audit_allow', 'ACL_DENIED'), 0, 'the gate counted it already');
    assert.equal(await count('deny', 'ACL_DENIED'), 1);
    assert.equal((await checks('grpc')) + (await checks('http')), 0, 'the check histogram is the gate’s');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.transport, 'rest');
  });

  it('records a body check (only REST sees bodies) unless plainly allowed, once each', async () => {
    const { record, lines, count } = setup();
    for (const outcome of [bodyAllowed, bodyDenied, bodyAudited]) record(outcome, REQUEST, at('rest'), 0.001);
    assert.equal(await count('allow', 'OK'), 0);
    assert.equal(await count('deny', 'ACL_DENIED'), 1);
    assert.equal(await count('audit_allow', 'ACL_DENIED'), 1);
    assert.deepEqual(
      lines.map((line) => line.result),
      ['deny', 'audit_allow'],
    );
  });

  it('never logs the token, only its hash', () => {
    const { record, lines } = setup();
    record(
      checkOutcome({ code: 'ACL_DENIED', token: 'eyJ.secret.sig', tokenHash: 'h4sh' }),
      REQUEST,
      at('http'),
      0,
    );
    assert.equal(JSON.stringify(lines).includes('eyJ.secret.sig'), false);
    assert.equal(lines[0]!.tokenHash, 'h4sh');
  });
});
