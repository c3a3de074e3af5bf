import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.ts';

// The stack script's failure contract: a port already in use gives one line naming it and a
// non-zero exit, and stack-down still cleans up after the partial start.

describe('stack.sh', function () {
  this.timeout(60_000);
  let blocker: Server;
  let port = 0;
  let issuerPort = 0;
  before(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const address = blocker.address();
    port = typeof address === 'object' && address ? address.port : 0;
    // A port nothing holds for the issuer (port + 1 was once some other process's).
    issuerPort = await freePort();
  });
  after(() => blocker.close());

  it('refuses a port already in use with one line, and stack-down cleans up the partial start', () => {
    const stackDir = mkdtempSync(join(tmpdir(), 'tollgate-stack-'));
    // The issuer starts on a free port; Kafka's port is taken.
    const env = {
      ...process.env,
      STACK_DIR: stackDir,
      STACK_PARTS: 'issuer kafka',
      STACK_ISSUER_PORT: String(issuerPort),
      STACK_KAFKA_PORT: String(port),
      STACK_KAFKA_ADMIN_PORT: '0',
      STACK_KAFKA_CONTROLLER_PORT: '0',
    };
    const up = spawnSync('deploy/stack/stack.sh', ['up'], { env, encoding: 'utf8' });
    assert.notEqual(up.status, 0);
    const errors = up.stderr.trim().split('\n');
    assert.equal(errors.length, 1, up.stderr);
    assert.match(errors[0]!, new RegExp(`kafka: port ${port} on 127.0.0.1 is already in use`));

    const status = spawnSync('deploy/stack/stack.sh', ['status'], { env, encoding: 'utf8' });
    assert.match(status.stdout, /issuer: running/, 'the part that came up is still running');
    const down = spawnSync('deploy/stack/stack.sh', ['down'], { env, encoding: 'utf8' });
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, /stopped issuer/);
    const after = spawnSync('deploy/stack/stack.sh', ['status'], { env, encoding: 'utf8' });
    assert.match(after.stdout, /issuer: stopped/);
  });
});
