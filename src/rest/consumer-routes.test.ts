import assert from 'node:assert/strict';
import { CODE_INFO, ServiceError } from '../errors.ts';
import { createConsumer } from './consumer-routes.ts';
import type { RequestContext } from './request-context.ts';

/** Just enough of a request for createConsumer's checks, which all run before Kafka is touched. */
function contextWith(body: Record<string, unknown>, held: number, cap: number): RequestContext {
  const consumers = new Map<string, unknown>();
  for (let i = 0; i < held; i++) consumers.set(`g\u0000c${i}`, {});
  return {
    json: body,
    route: { params: { group: 'g' } },
    config: { rest: { consumerRequestTimeoutMs: 1000 }, sessions: { maxConsumersPerPrincipal: cap } },
    session: { consumers },
  } as unknown as RequestContext;
}

async function codeOf(ctx: RequestContext): Promise<number | null> {
  try {
    await createConsumer(ctx);
    return null;
  } catch (err) {
    assert.ok(err instanceof ServiceError, String(err));
    return CODE_INFO[err.code].restCode;
  }
}

describe('consumer-routes createConsumer', () => {
  it('answers 42901 once the principal holds as many instances as the cap allows', async () => {
    assert.equal(await codeOf(contextWith({ name: 'new' }, 3, 3)), 42901);
  });

  it('checks the name before the cap: a taken name is 40902 even at the cap', async () => {
    assert.equal(await codeOf(contextWith({ name: 'c0' }, 3, 3)), 40902);
  });

  it('refuses an unknown format with 42204 and takes every schema format past validation', async () => {
    assert.equal(await codeOf(contextWith({ format: 'xml' }, 0, 5)), 42204);
    // At the cap, a valid request reaches the cap check: the format itself was accepted.
    for (const format of ['avro', 'jsonschema', 'protobuf']) {
      assert.equal(await codeOf(contextWith({ format }, 1, 1)), 42901, format);
    }
  });
});
