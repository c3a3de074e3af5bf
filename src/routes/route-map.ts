import { CLUSTER_NAME, type Operation, type ResourceRequest } from '../acl/acl-types.ts';

/**
 * REST route -> the Kafka operations it needs. The gate (Envoy ext_authz) sees only the method
 * and the raw request target, so topics named in request bodies are left to the REST process
 * (`checksBody`), which runs the same ACL decision on them.
 *
 * Matching follows Karapace (reference/kafka-rest-v2.md): v2 `{topic}`, `{group}`, `{instance}`
 * and `{partition}` are greedy and may span `/`; routes are tried in Karapace's order, specific
 * ones first; a route whose path matches but whose method does not lets the next one try (as
 * aiohttp does), and only when none takes the method is the answer 405. Routes are compiled at
 * load; a call splits the path once and allocates only its result.
 *
 * Path segments are percent-decoded one by one, after splitting, so `%2F` stays inside a name.
 * The REST process should route with this same function: then the resource authorized here is
 * the resource acted on, however a name is spelled.
 */

export interface RouteParams {
  topic?: string;
  /** Set when the partition segment is a decimal integer (else `badPartition`). */
  partition?: number;
  group?: string;
  instance?: string;
  /** v3 cluster id; the ACL resource is always `kafka-cluster`. */
  cluster?: string;
  /** v3 topic configuration name. */
  config?: string;
}

type StringParam = Exclude<keyof RouteParams, 'partition'>;
type ParamName = keyof RouteParams;
type Requires = (params: RouteParams) => readonly ResourceRequest[];

interface RouteSpec {
  readonly id: string;
  readonly requires: Requires;
  /** The REST process checks topics named in the body (Envoy does not buffer bodies). */
  readonly checksBody?: boolean;
  /** Served without a token. */
  readonly public?: boolean;
}

const NOTHING: readonly ResourceRequest[] = Object.freeze([]);

function nothing(): readonly ResourceRequest[] {
  return NOTHING;
}

function cluster(operation: Operation): Requires {
  const requests = Object.freeze([
    Object.freeze({ resourceType: 'CLUSTER', name: CLUSTER_NAME, operation } as const),
  ]);
  return () => requests;
}

function topic(operation: Operation): Requires {
  return (params) => [{ resourceType: 'TOPIC', name: params.topic!, operation }];
}

function group(operation: Operation): Requires {
  return (params) => [{ resourceType: 'GROUP', name: params.group!, operation }];
}

const INSTANCE = '/consumers/{group}/instances/{instance}';
const V3_TOPIC = '/v3/clusters/{cluster}/topics/{topic}';

// Order matters within a first segment: it is Karapace's registration order.
const SPECS = [
  { id: 'GET /', requires: nothing },
  { id: 'GET /_health', requires: nothing, public: true },
  { id: 'GET /metrics', requires: cluster('DESCRIBE') },
  { id: 'GET /brokers', requires: cluster('DESCRIBE') },

  { id: `POST ${INSTANCE}/offsets`, requires: group('READ'), checksBody: true },
  { id: `GET ${INSTANCE}/offsets`, requires: group('READ'), checksBody: true },
  { id: `POST ${INSTANCE}/subscription`, requires: group('READ'), checksBody: true },
  { id: `GET ${INSTANCE}/subscription`, requires: group('READ') },
  { id: `DELETE ${INSTANCE}/subscription`, requires: group('READ') },
  { id: `POST ${INSTANCE}/assignments`, requires: group('READ'), checksBody: true },
  { id: `GET ${INSTANCE}/assignments`, requires: group('READ') },
  { id: `POST ${INSTANCE}/positions/beginning`, requires: group('READ'), checksBody: true },
  { id: `POST ${INSTANCE}/positions/end`, requires: group('READ'), checksBody: true },
  { id: `POST ${INSTANCE}/positions`, requires: group('READ'), checksBody: true },
  // The consumer's topics were checked when it subscribed or was assigned.
  { id: `GET ${INSTANCE}/records`, requires: group('READ') },
  { id: 'POST /consumers/{group}', requires: group('READ') },
  { id: `DELETE ${INSTANCE}`, requires: group('READ') },

  // Unreadable-but-describable offsets: the REST process answers 403 itself (reference 5.3).
  { id: 'GET /topics/{topic}/partitions/{partition}/offsets', requires: topic('DESCRIBE') },
  { id: 'GET /topics/{topic}/partitions/{partition}', requires: topic('DESCRIBE') },
  { id: 'POST /topics/{topic}/partitions/{partition}', requires: topic('WRITE') },
  { id: 'GET /topics/{topic}/partitions', requires: topic('DESCRIBE') },
  // The REST process lists only the topics the principal may DESCRIBE, as Kafka's metadata does.
  { id: 'GET /topics', requires: nothing },
  { id: 'GET /topics/{topic}', requires: topic('DESCRIBE') },
  { id: 'POST /topics/{topic}', requires: topic('WRITE') },

  { id: 'GET /v3/clusters', requires: cluster('DESCRIBE') },
  { id: 'GET /v3/clusters/{cluster}', requires: cluster('DESCRIBE') },
  { id: 'GET /v3/clusters/{cluster}/topics', requires: cluster('DESCRIBE') },
  // The new topic's name is only in the body: the REST process checks CREATE on it (TOPIC CREATE
  // on the name, or CLUSTER CREATE, as Kafka's CreateTopics accepts either).
  { id: 'POST /v3/clusters/{cluster}/topics', requires: cluster('DESCRIBE'), checksBody: true },
  { id: `GET ${V3_TOPIC}`, requires: topic('DESCRIBE') },
  { id: `DELETE ${V3_TOPIC}`, requires: topic('DELETE') },
  { id: `GET ${V3_TOPIC}/configs`, requires: topic('DESCRIBE_CONFIGS') },
  { id: `GET ${V3_TOPIC}/configs/{config}`, requires: topic('DESCRIBE_CONFIGS') },
  { id: `PUT ${V3_TOPIC}/configs/{config}`, requires: topic('ALTER_CONFIGS') },
  { id: `DELETE ${V3_TOPIC}/configs/{config}`, requires: topic('ALTER_CONFIGS') },
  { id: `GET ${V3_TOPIC}/partitions`, requires: topic('DESCRIBE') },
] as const satisfies readonly RouteSpec[];

/** A stable name per route: log field and metric label (a closed set). */
export type RouteId = (typeof SPECS)[number]['id'] | 'OPTIONS *';

export const ROUTE_IDS: readonly RouteId[] = Object.freeze([...SPECS.map((spec) => spec.id), 'OPTIONS *']);

export interface KnownRoute {
  readonly known: true;
  readonly id: RouteId;
  readonly params: RouteParams;
  /** Every one must be allowed; empty means a known service user is enough. */
  readonly requires: readonly ResourceRequest[];
  readonly checksBody: boolean;
  /** No token needed (health, CORS preflight). */
  readonly public: boolean;
  /** The partition segment is not a decimal integer: the REST process answers 404/404. */
  readonly badPartition: boolean;
}

export type RouteMatch = KnownRoute | { readonly known: false; readonly status: 404 | 405 };

interface Token {
  /** Set for a fixed segment. */
  readonly literal: string | null;
  /** Set for a parameter. */
  readonly param: ParamName | null;
  /** Spans one or more segments (v2) rather than exactly one (v3). */
  readonly greedy: boolean;
  /** Where the parameter's segment range goes in CAPTURES. */
  readonly slot: number;
  /** Only fixed segments follow, so a greedy parameter has exactly one possible end. */
  readonly lastParam: boolean;
}

interface CompiledRoute {
  readonly id: RouteId;
  readonly method: string;
  readonly tokens: readonly Token[];
  readonly params: readonly Token[];
  readonly spec: RouteSpec;
}

function compileRoute(spec: RouteSpec): CompiledRoute {
  const [method, path] = spec.id.split(' ') as [string, string];
  // Kafka topic names cannot hold `/`, and v3 (Confluent's shape) keeps each name in one segment.
  const greedy = !path.startsWith('/v3/');
  const parts = path.split('/').filter((part) => part !== '');
  const lastParamAt = parts.findLastIndex((part) => part.startsWith('{'));
  let slot = 0;
  const tokens: Token[] = parts.map((part, i) =>
    part.startsWith('{')
      ? {
          literal: null,
          param: part.slice(1, -1) as ParamName,
          greedy,
          slot: slot++,
          lastParam: i === lastParamAt,
        }
      : { literal: part, param: null, greedy: false, slot: -1, lastParam: false },
  );
  return {
    id: spec.id as RouteId,
    method,
    tokens,
    params: tokens.filter((token) => token.param !== null),
    spec,
  };
}

/** Routes by their first segment (`''` for `/`), each list in matching order. */
const ROUTES_BY_FIRST = new Map<string, CompiledRoute[]>();
for (const spec of SPECS) {
  const route = compileRoute(spec);
  const first = route.tokens[0]?.literal ?? '';
  const list = ROUTES_BY_FIRST.get(first);
  if (list) list.push(route);
  else ROUTES_BY_FIRST.set(first, [route]);
}

// Segment ranges [start, end) of the parameters of the route being matched. Matching is
// synchronous and never re-entered, so one buffer serves every call.
const CAPTURES = new Int32Array(8);

function matchTokens(tokens: readonly Token[], ti: number, segments: readonly string[], si: number): boolean {
  if (ti === tokens.length) return si === segments.length;
  const token = tokens[ti]!;
  if (token.literal !== null) {
    return segments[si] === token.literal && matchTokens(tokens, ti + 1, segments, si + 1);
  }
  // Greedy like Karapace's `.+`: the longest span that still lets the rest match. The last
  // parameter can only end where the fixed tail begins; trying only that end keeps a hostile
  // path of thousands of `instances` segments linear instead of quadratic.
  const last = token.greedy ? segments.length - (tokens.length - ti - 1) : si + 1;
  const first = token.greedy && token.lastParam ? last : si + 1;
  for (let end = last; end >= first && end > si; end--) {
    if (matchTokens(tokens, ti + 1, segments, end)) {
      CAPTURES[token.slot * 2] = si;
      CAPTURES[token.slot * 2 + 1] = end;
      return true;
    }
  }
  return false;
}

const DECIMAL = /^[0-9]{1,10}$/;
const MAX_PARTITION = 2147483647;

function buildMatch(route: CompiledRoute, segments: readonly string[]): KnownRoute {
  const params: RouteParams = {};
  let badPartition = false;
  for (const token of route.params) {
    const start = CAPTURES[token.slot * 2]!;
    const end = CAPTURES[token.slot * 2 + 1]!;
    const value = end - start === 1 ? segments[start]! : segments.slice(start, end).join('/');
    if (token.param === 'partition') {
      const partition = DECIMAL.test(value) ? Number(value) : Number.NaN;
      if (partition <= MAX_PARTITION) params.partition = partition;
      else badPartition = true;
    } else {
      params[token.param as StringParam] = value;
    }
  }
  return {
    known: true,
    id: route.id,
    params,
    requires: route.spec.requires(params),
    checksBody: route.spec.checksBody === true,
    public: route.spec.public === true,
    badPartition,
  };
}

const NOT_FOUND: RouteMatch = Object.freeze({ known: false, status: 404 });
const METHOD_NOT_ALLOWED: RouteMatch = Object.freeze({ known: false, status: 405 });
const PREFLIGHT: RouteMatch = Object.freeze({
  known: true,
  id: 'OPTIONS *',
  params: Object.freeze({}),
  requires: NOTHING,
  checksBody: false,
  public: true,
  badPartition: false,
});

/**
 * Splits the raw target into decoded segments; null when it cannot name a route. Empty, `.` and
 * `..` segments are refused: a proxy that merges slashes or resolves dot segments would send the
 * REST process somewhere other than what was authorized here. (Karapace strips leading and
 * trailing `/` from a new consumer's group; refusing `/consumers//g` keeps the group authorized
 * and the group used the same.)
 */
function splitPath(rawPath: string): string[] | null {
  const query = rawPath.indexOf('?');
  let path = query === -1 ? rawPath : rawPath.slice(0, query);
  if (path.charCodeAt(0) !== 0x2f) return null;
  if (path === '/') return [];
  if (path.endsWith('/')) path = path.slice(0, -1);
  const segments = path.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    let segment = segments[i]!;
    if (segment.includes('%')) {
      try {
        segment = decodeURIComponent(segment);
      } catch {
        return null;
      }
      segments[i] = segment;
    }
    if (segment === '' || segment === '.' || segment === '..') return null;
  }
  return segments;
}

/**
 * Maps Envoy's method and raw request target (query included, not percent-decoded) to the route
 * and the Kafka operations it requires. Unknown path: 404; known path, unserved method: 405;
 * OPTIONS on a known path: a public CORS preflight.
 */
export function mapRoute(method: string, rawPath: string): RouteMatch {
  const segments = splitPath(rawPath);
  if (segments === null) return NOT_FOUND;
  const routes = ROUTES_BY_FIRST.get(segments[0] ?? '');
  if (routes === undefined) return NOT_FOUND;
  let pathKnown = false;
  for (const route of routes) {
    if (route.method !== method && pathKnown) continue;
    if (!matchTokens(route.tokens, 0, segments, 0)) continue;
    if (route.method === method) return buildMatch(route, segments);
    pathKnown = true;
  }
  if (!pathKnown) return NOT_FOUND;
  return method === 'OPTIONS' ? PREFLIGHT : METHOD_NOT_ALLOWED;
}
