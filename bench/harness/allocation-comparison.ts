import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import grpc from '@grpc/grpc-js';
import { formatHeapSummary, type HeapSummary, summarizeHeapProfile } from '../report/heap-profile.ts';
import {
  ALLOCATION_NODE_FLAGS,
  type AllocationResult,
  measureCheckAllocation,
  sendChecks,
} from './check-allocation.ts';
import type { BenchContext } from './context.ts';
import { authorizationDefinition } from './envoy-protos.ts';
import { FLOOR_LABEL, type Floor, startFloor } from './floor-servers.ts';
import { sampleHeapDuring } from './heap-sampling.ts';
import { freePorts } from './ports.ts';
import { startTollgateAuthz } from './tollgate-authz.ts';

/**
 * Bytes per cached-token Check of three servers, measured the same way in one run
 * (check-allocation.ts): Tollgate as shipped, a grpc-js server that does no work, and bare
 * node:http2. The difference between the first two is Tollgate's own share; the floors are the
 * transport's. Then a heap *sampling* profile of Tollgate over the same Checks, so the figure
 * comes with where the bytes are allocated.
 */

/** The Node floors: allocation is read from the V8 heap, which grpc-go has not. */
export type NodeFloor = Exclude<Floor, 'grpc-go'>;
export const FLOORS: readonly NodeFloor[] = ['grpc-js', 'http2'];

const CHECKS_PER_WINDOW = 1000;
const ALLOCATION_WINDOWS = 5;
const PROFILED_CHECKS = 5000;

export interface AllocationComparison {
  readonly tollgate: AllocationResult;
  readonly floors: Partial<Record<NodeFloor, AllocationResult>>;
  /** Tollgate's heap sampling profile, summarised per Check; the full text in `profileFile`. */
  readonly profile: HeapSummary | null;
  readonly profiledChecks: number;
  readonly profileFile: string | null;
}

function jsonRequests(file: string): unknown[] {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown[];
}

async function measureFloor(
  ctx: BenchContext,
  kind: NodeFloor,
  requests: readonly unknown[],
): Promise<AllocationResult> {
  const floor = await startFloor(ctx, kind, ALLOCATION_NODE_FLAGS);
  try {
    return await measureCheckAllocation({
      grpcTarget: floor.grpcTarget,
      metricsUrl: floor.metricsUrl!,
      requests,
      checksPerWindow: CHECKS_PER_WINDOW,
      windows: ALLOCATION_WINDOWS,
    });
  } finally {
    await floor.proc.stop();
  }
}

async function profileTollgate(
  ctx: BenchContext,
  issuerUrl: string,
  aclFile: string,
  requests: readonly unknown[],
): Promise<{ summary: HeapSummary; file: string }> {
  const { inspect } = await freePorts(['inspect'] as const);
  const tollgate = await startTollgateAuthz({
    name: 'tollgate-heap-profile',
    dir: ctx.runDir,
    issuerUrl,
    aclFile,
    cpu: ctx.pinning.server,
    nodeArgs: [`--inspect=127.0.0.1:${inspect}`],
  });
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js package definitions are untyped trees.
  const Authorization = (grpc.loadPackageDefinition(authorizationDefinition()) as any).envoy.service.auth.v3
    .Authorization as typeof grpc.Client;
  const stub = new Authorization(tollgate.grpcTarget, grpc.credentials.createInsecure());
  try {
    await sendChecks(stub, requests, PROFILED_CHECKS, 16);
    const profile = await sampleHeapDuring(inspect, () => sendChecks(stub, requests, PROFILED_CHECKS, 16));
    const file = join(ctx.runDir, 'tollgate-cached-check.heapprofile');
    writeFileSync(file, JSON.stringify(profile));
    return { summary: summarizeHeapProfile(profile, PROFILED_CHECKS, 12), file };
  } finally {
    stub.close();
    await tollgate.proc.stop();
  }
}

export async function compareCheckAllocation(ctx: BenchContext): Promise<AllocationComparison> {
  const fx = await ctx.fixtures();
  const requests = jsonRequests(fx.checkPools.cached.jsonFileFor('allocation'));
  ctx.log(`allocation per cached Check (each server with ${ALLOCATION_NODE_FLAGS.join(' ')})`);
  const allocTollgate = await startTollgateAuthz({
    name: 'tollgate-allocation',
    dir: ctx.runDir,
    issuerUrl: fx.tokens.issuerUrl,
    aclFile: fx.tollgateAclFile,
    cpu: ctx.pinning.server,
    nodeArgs: ALLOCATION_NODE_FLAGS,
  });
  let tollgate: AllocationResult;
  try {
    tollgate = await measureCheckAllocation({
      grpcTarget: allocTollgate.grpcTarget,
      metricsUrl: allocTollgate.metricsUrl,
      requests,
      checksPerWindow: CHECKS_PER_WINDOW,
      windows: ALLOCATION_WINDOWS,
    });
  } finally {
    await allocTollgate.proc.stop();
  }
  const windows = (r: AllocationResult) => r.windows.map((b) => Math.round(b)).join(', ');
  ctx.log(
    `  tollgate authz: ${Math.round(tollgate.bytesPerCheck)} bytes per Check (windows ${windows(tollgate)})`,
  );
  const floors: Partial<Record<NodeFloor, AllocationResult>> = {};
  for (const kind of FLOORS) {
    const floor = await measureFloor(ctx, kind, requests);
    floors[kind] = floor;
    ctx.log(
      `  ${FLOOR_LABEL[kind]}: ${Math.round(floor.bytesPerCheck)} bytes per call (windows ${windows(floor)})`,
    );
  }
  let profile: { summary: HeapSummary; file: string } | null = null;
  try {
    profile = await profileTollgate(ctx, fx.tokens.issuerUrl, fx.tollgateAclFile, requests);
    ctx.log(formatHeapSummary(profile.summary, `heap sampling profile, ${PROFILED_CHECKS} cached Checks`));
  } catch (err) {
    // The figure stands without its explanation; say so rather than fail the part.
    ctx.log(`  heap sampling profile failed: ${(err as Error).message}`);
  }
  return {
    tollgate,
    floors,
    profile: profile?.summary ?? null,
    profiledChecks: PROFILED_CHECKS,
    profileFile: profile?.file ?? null,
  };
}
