import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createContext, missingTools } from './harness/context.ts';
import { stopAll } from './harness/processes.ts';
import type { BenchResults } from './harness/results.ts';
import { describeRevision, type Revision, revisionForRun } from './harness/revision.ts';
import { benchSettings } from './harness/settings.ts';
import { REPO_ROOT } from './harness/tollgate-authz.ts';
import { machine, versions } from './harness/versions.ts';
import { PARTS } from './parts.ts';
import { writeBenchmarksMd } from './report/benchmarks-md.ts';

/**
 * The benchmark runner: `node bench/run.ts [--quick] [--parts check,opa,envoy] [--repeats N]
 * [--profile]`. Runs the chosen parts in order into one results document, saved after every
 * part as bench/results/<UTC timestamp>.json, then regenerates BENCHMARKS.md.
 */

const USAGE = `usage: node bench/run.ts [--quick] [--parts ${PARTS.map((p) => p.id).join(',')}] [--repeats N] [--duration SEC] [--allow-dirty] [--profile]
  --quick     every part in a few minutes (fewer rates, shorter runs)
  --parts     a comma-separated subset (default: all)
  --repeats   runs per measurement (default: 2 quick, 3 full); min / median / max are shown
  --duration  seconds per load run and warm-up (a smoke run of the harness, not a measurement)
  --allow-dirty  run on a working tree with uncommitted changes (recorded and shown in the report)
  --profile   run Tollgate under node --cpu-prof (profiles in bench/tmp/<run>/)
  --loadgen   Check load generator for parts check and opa: grpc-load (default) or ghz
`;

function utcStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      parts: { type: 'string' },
      repeats: { type: 'string' },
      duration: { type: 'string' },
      'allow-dirty': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      loadgen: { type: 'string', default: 'grpc-load' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const wanted = values.parts?.split(',').map((s) => s.trim()) ?? PARTS.map((p) => p.id);
  const unknown = wanted.filter((id) => !PARTS.some((p) => p.id === id));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown part(s) ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const repeats = values.repeats === undefined ? undefined : Number(values.repeats);
  if (repeats !== undefined && !(Number.isInteger(repeats) && repeats >= 1 && repeats <= 9)) {
    process.stderr.write('bench: --repeats: expected an integer 1..9\n');
    return 2;
  }
  const durationSec = values.duration === undefined ? undefined : Number(values.duration);
  if (
    durationSec !== undefined &&
    !(Number.isInteger(durationSec) && durationSec >= 1 && durationSec <= 600)
  ) {
    process.stderr.write('bench: --duration: expected whole seconds 1..600\n');
    return 2;
  }
  let revision: Revision;
  try {
    revision = revisionForRun(values['allow-dirty']);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  const parts = PARTS.filter((p) => wanted.includes(p.id));
  const startedAt = new Date();
  const runId = utcStamp(startedAt);
  if (values.loadgen !== 'grpc-load' && values.loadgen !== 'ghz') {
    process.stderr.write('bench: --loadgen: expected grpc-load or ghz\n');
    return 2;
  }
  const settings = benchSettings(values.quick, repeats, values.loadgen, durationSec);
  const ctx = createContext(settings, runId, values.profile);
  const missing = missingTools(ctx.tools).filter((tool) =>
    parts.some((p) => p.needs.includes(tool as never)),
  );
  if (missing.length > 0) {
    process.stderr.write(`bench: missing ${missing.join(', ')} in .tools/bin (run make bench-deps)\n`);
    return 1;
  }

  const results: BenchResults = {
    schema: 1,
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    settings,
    machine: machine(),
    versions: versions(ctx.tools),
    revision,
    pinning: ctx.pinning,
    parts: {},
  };
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const resultsFile = join(resultsDir, `${runId}.json`);
  const save = () => {
    results.finishedAt = new Date().toISOString();
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  };

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      ctx.log(`${signal}: stopping every process this run started`);
      Promise.allSettled([stopAll(), ctx.close()]).finally(() => process.exit(130));
    });
  }
  ctx.log(
    `run ${runId}: ${settings.mode}, parts ${parts.map((p) => p.id).join(', ')}; scratch ${ctx.runDir}`,
  );
  ctx.log(`revision ${describeRevision(revision)}`);
  let failed = false;
  try {
    for (const part of parts) {
      ctx.log(`part ${part.id}: ${part.title}`);
      try {
        results.parts[part.id] = await part.run(ctx);
        save();
      } catch (err) {
        failed = true;
        ctx.log(`part ${part.id} failed: ${(err as Error).stack ?? err}`);
      }
    }
  } finally {
    await ctx.close();
  }
  if (Object.keys(results.parts).length === 0) return 1;
  save();
  const md = writeBenchmarksMd();
  ctx.log(`wrote ${resultsFile} and ${md}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
