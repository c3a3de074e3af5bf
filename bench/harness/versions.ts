import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import type { Tools } from './context.ts';
import type { Machine } from './results.ts';
import { REPO_ROOT } from './tollgate-authz.ts';

/** The machine and the version of everything measured, for the results document. */

export function machine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
  };
}

function firstLine(command: string, args: readonly string[], pattern?: RegExp): string {
  try {
    const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (!pattern) return out.trim().split('\n')[0] ?? 'unknown';
    return pattern.exec(out)?.[1] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/** The pinned version deploy/tools/install-bench-tools.sh built (`go install` binaries say "dev"). */
function stampedVersion(binary: string): string {
  const [dir, name] = [binary.slice(0, binary.lastIndexOf('/')), binary.slice(binary.lastIndexOf('/') + 1)];
  try {
    return readFileSync(join(dir, `.${name}.version`), 'utf8').trim();
  } catch {
    return 'not installed';
  }
}

function packageVersion(name: string): string {
  const file = join(REPO_ROOT, 'node_modules', ...name.split('/'), 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export function versions(tools: Tools): Record<string, string> {
  const sha = firstLine('git', ['-C', REPO_ROOT, 'rev-parse', 'HEAD']);
  const dirty = firstLine('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--', 'src', 'bin']);
  return {
    tollgate: dirty === '' || dirty === 'unknown' ? sha : `${sha} (src/ or bin/ modified)`,
    node: process.version,
    '@grpc/grpc-js': packageVersion('@grpc/grpc-js'),
    jose: packageVersion('jose'),
    envoy: firstLine(tools.envoy, ['--version'], /version: [0-9a-f]+\/([0-9.]+)\//),
    'opa-envoy-plugin': `${stampedVersion(tools.opa)} (OPA ${firstLine(tools.opa, ['version'], /^Version: (\S+)/m)})`,
    'grpc-load': stampedVersion(tools.grpcLoad),
    ghz: stampedVersion(tools.ghz),
    oha: stampedVersion(tools.oha),
  };
}
