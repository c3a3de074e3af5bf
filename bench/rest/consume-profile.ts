import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { writeTollgateAclFile } from '../harness/acl-fixture.ts';
import { principalAclTable, principalName } from '../harness/principal-fixture.ts';
import { runToCompletion } from '../harness/processes.ts';
import { REPO_ROOT } from '../harness/tollgate-authz.ts';
import { jsonRecordValue } from '../parts/karapace-peer.ts';
import type { LoaderResult, LoaderSpec } from './data-path-loader.ts';
import { createTopics, fetchAliceToken, readStackEnv } from './stack-env.ts';
import { startTollgateServe } from './tollgate-serve.ts';

/**
 * Part 9's consume load (one JSON consumer, 1 KiB JSON records, max_bytes 4 MiB) against one
 * `tollgate serve`, for profiling its consume path (bench/profiles/consume-profile.md) on a stack
 * started by deploy/stack/stack.sh (issuer and kafka; its env file by --stack-env):
 *
 *   node bench/rest/consume-profile.ts fill --stack-env <dir>/env
 *   node bench/rest/consume-profile.ts run <label> --stack-env <dir>/env [--profile] [--passes 4]
 *
 * `run` starts Tollgate on CPU 1 (the loader on CPU 0), waits, then reads the whole topic
 * `passes` times, each pass a new consumer group, and prints per pass: records/s and Tollgate's
 * CPU (/proc utime+stime) per record, within the loader's window (from the first fetch with
 * records) and over the whole pass (consumer created, joined and deleted). With --profile,
 * Tollgate runs under --cpu-prof, and `trim-*.cpuprofile` keeps only the samples of passes 1..n
 * (pass 0 warms the JIT up): the profile and the driver share CLOCK_MONOTONIC in microseconds.
 * Summarise with `node bench/report/cpu-profile.ts <dir>/trim-*.cpuprofile`.
 */

const TOPIC = 'orders.consume-profile';
const RECORDS = 50000;
const RECORD_BYTES = 1024;
const PRODUCE_BATCH = 500;
const SETTLE_MS = 3000;

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime and stime of a process, in seconds. */
function cpuOf(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function fill(stackEnv: string): Promise<void> {
  const stack = readStackEnv(stackEnv);
  await createTopics(stack, [{ topic: TOPIC, partitions: 1 }]);
  const kafka = new kafkajs.Kafka({
    clientId: 'tollgate-bench-fill',
    brokers: [stack.kafkaAdminBootstrap],
    sasl: { mechanism: 'plain', username: 'admin', password: stack.adminPassword },
    logLevel: kafkajs.logLevel.WARN,
  });
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  // The value part 9 produces (its JSON text, as Tollgate's json format writes it).
  const value = Buffer.from(JSON.stringify(jsonRecordValue(RECORD_BYTES)));
  const messages = Array.from({ length: PRODUCE_BATCH }, () => ({ value }));
  for (let sent = 0; sent < RECORDS; sent += PRODUCE_BATCH)
    await producer.send({ topic: TOPIC, acks: -1, messages });
  await producer.disconnect();
  process.stdout.write(`${TOPIC}: ${RECORDS} records of ${value.length} bytes\n`);
}

async function run(stackEnv: string, label: string, profile: boolean, passes: number): Promise<void> {
  const stack = readStackEnv(stackEnv);
  const dir = join(REPO_ROOT, 'bench', 'tmp', 'consume-profile', label);
  const profileDir = join(dir, 'prof');
  mkdirSync(dir, { recursive: true });
  const principal = principalName(0);
  const aclFile = join(dir, 'acl.yaml');
  writeTollgateAclFile(principalAclTable([principal]), aclFile);
  const token = (await fetchAliceToken(stack, { preferred_username: principal })).token;
  const tollgate = await startTollgateServe({
    name: `tollgate-${label}`,
    dir,
    issuerUrl: stack.issuerUrl,
    principalClaim: 'preferred_username',
    aclFile,
    kafkaBootstrap: stack.kafkaBootstrap,
    cpu: '1',
    nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  });
  const windows: Array<[number, number]> = [];
  try {
    await sleep(SETTLE_MS);
    for (let pass = 0; pass < passes; pass++) {
      const spec: LoaderSpec = {
        mode: 'http-consume',
        baseUrl: tollgate.restUrl,
        headers: {},
        tokens: [token],
        group: `alice-profile-${label}-${Date.now()}-${pass}`,
        topic: TOPIC,
        records: RECORDS,
        timeoutSec: 60,
        maxBytes: 4 * 1024 * 1024,
        format: 'json',
        watch: { tollgate: tollgate.proc.pid },
      };
      const before = cpuOf(tollgate.proc.pid);
      const startUs = monotonicUs();
      const out = await runToCompletion(
        '0',
        process.execPath,
        [join(REPO_ROOT, 'bench', 'rest', 'data-path-loader.ts'), JSON.stringify(spec)],
        120000,
      );
      if (out.code !== 0) throw new Error(`loader exited ${out.code}: ${out.stderr.slice(-800)}`);
      if (pass > 0) windows.push([startUs, monotonicUs()]);
      const after = cpuOf(tollgate.proc.pid);
      const r = JSON.parse(out.stdout) as LoaderResult;
      const perRecordUs = (sec: number) => ((sec * 1e6) / r.records).toFixed(1);
      const whole = after.user + after.system - before.user - before.system;
      process.stdout.write(
        `${label} pass ${pass}: ${r.records} records in ${r.seconds.toFixed(2)} s (${(r.records / r.seconds).toFixed(0)}/s), ` +
          `${r.requests} fetches p50 ${r.p50Ms.toFixed(0)} ms, ${r.errors} errors; Tollgate CPU ` +
          `${perRecordUs(r.cpuSec.tollgate ?? Number.NaN)} µs/record in the window, ${perRecordUs(whole)} over the pass ` +
          `(system ${(after.system - before.system).toFixed(2)} s); loader ${(r.cpuSec.client ?? 0).toFixed(2)} s\n`,
      );
      await sleep(SETTLE_MS);
    }
  } finally {
    await tollgate.proc.stop();
  }
  if (!profile) return;
  for (const file of readdirSync(profileDir).filter(
    (f) => f.endsWith('.cpuprofile') && !f.startsWith('trim-'),
  ))
    trimProfile(join(profileDir, file), join(profileDir, `trim-${file}`), windows);
}

/** Keeps the samples taken within `windows` (CLOCK_MONOTONIC µs, the clock of the profile's startTime). */
function trimProfile(file: string, outFile: string, windows: ReadonlyArray<[number, number]>): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    startTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let t = profile.startTime;
  profile.samples.forEach((sample, i) => {
    t += profile.timeDeltas[i]!;
    if (windows.some(([from, to]) => t >= from && t <= to)) {
      samples.push(sample);
      timeDeltas.push(profile.timeDeltas[i]!);
    }
  });
  writeFileSync(outFile, JSON.stringify({ ...profile, samples, timeDeltas }));
  process.stdout.write(`${outFile}: ${samples.length} of ${profile.samples.length} samples kept\n`);
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'stack-env': { type: 'string' },
      profile: { type: 'boolean', default: false },
      passes: { type: 'string', default: '4' },
    },
  });
  const [command, label] = positionals;
  const stackEnv = values['stack-env'];
  const done =
    stackEnv === undefined || (command === 'run' && label === undefined)
      ? Promise.reject(
          new Error('usage: consume-profile.ts fill|run <label> --stack-env <file> [--profile] [--passes N]'),
        )
      : command === 'fill'
        ? fill(stackEnv)
        : run(stackEnv, label!, values.profile, Number(values.passes));
  done.then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`consume-profile: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
