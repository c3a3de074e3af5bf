import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNodeFlags, REPO_ROOT, tollgateArgs, tollgateNodeFlags } from './tollgate-authz.ts';

// Issue #14: the benchmarks must run Tollgate exactly as the image and the stack do.

describe('Tollgate’s Node flags', () => {
  const flags = tollgateNodeFlags();

  it('are listed in deploy/node-flags (comments and blank lines skipped)', () => {
    assert.deepEqual(parseNodeFlags('# why\n\n--a\n  --b  \n'), ['--a', '--b']);
    assert.ok(flags.includes('--no-allocation-site-pretenuring'));
  });

  it('are the flags of the image’s ENTRYPOINT, in order', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'deploy', 'docker', 'Dockerfile'), 'utf8');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.ok(entrypoint, 'the Dockerfile has an exec-form ENTRYPOINT');
    const argv = JSON.parse(entrypoint) as string[];
    assert.deepEqual(argv.slice(1, -1), flags);
    assert.equal(argv[argv.length - 1], '/app/bin/tollgate.js');
  });

  it('are what the stack script starts Tollgate with', () => {
    const script = readFileSync(join(REPO_ROOT, 'deploy', 'stack', 'stack.sh'), 'utf8');
    assert.match(
      script,
      /deploy\/node-flags"\)\nTOLLGATE=\("\$NODE" "\$\{NODE_FLAGS\[@\]\}" "\$ROOT\/bin\/tollgate\.js"\)/,
    );
  });

  it('come first in every benchmark launch, before profiling flags and the program', () => {
    const args = tollgateArgs('serve', '/tmp/x.yaml', ['--cpu-prof']);
    assert.deepEqual(args, [
      ...flags,
      '--cpu-prof',
      join(REPO_ROOT, 'bin', 'tollgate.js'),
      'serve',
      '-c',
      '/tmp/x.yaml',
    ]);
  });
});
