import assert from 'node:assert/strict';
import { mapRoute, ROUTE_IDS, type RouteId, type RouteParams } from './route-map.ts';

const I = '/consumers/g/instances/i';
const T = '/v3/clusters/c1/topics/orders';
const GI = { group: 'g', instance: 'i' };
const V3 = { cluster: 'c1', topic: 'orders' };

/** A known route: [route, requires ("TYPE name OPERATION", `;` between), params, flags]. */
type Known = readonly [RouteId, string, RouteParams?, ('body' | 'public' | 'bad')[]?];
type Row = readonly [string, string, string, 404 | 405 | Known];

// biome-ignore format: one line per case keeps the table readable
const ROWS: readonly Row[] = [
  // Service.
  ['the root needs only a known user', 'GET', '/', ['GET /', '']],
  ['health needs no token', 'GET', '/_health', ['GET /_health', '', {}, ['public']]],
  ['health with a trailing slash', 'GET', '/_health/', ['GET /_health', '', {}, ['public']]],
  ['metrics describe the cluster', 'GET', '/metrics', ['GET /metrics', 'CLUSTER kafka-cluster DESCRIBE']],
  ['brokers describe the cluster', 'GET', '/brokers', ['GET /brokers', 'CLUSTER kafka-cluster DESCRIBE']],
  ['brokers with a trailing slash', 'GET', '/brokers/', ['GET /brokers', 'CLUSTER kafka-cluster DESCRIBE']],
  ['brokers take no POST', 'POST', '/brokers', 405],

  // Topics.
  ['the topic list needs only a known user (the REST filters it)', 'GET', '/topics', ['GET /topics', '']],
  ['the topic list with a trailing slash', 'GET', '/topics/', ['GET /topics', '']],
  ['describing a topic', 'GET', '/topics/orders', ['GET /topics/{topic}', 'TOPIC orders DESCRIBE', { topic: 'orders' }]],
  ['describing a topic with a trailing slash', 'GET', '/topics/orders/', ['GET /topics/{topic}', 'TOPIC orders DESCRIBE', { topic: 'orders' }]],
  ['producing to a topic', 'POST', '/topics/orders', ['POST /topics/{topic}', 'TOPIC orders WRITE', { topic: 'orders' }]],
  ['deleting a topic over v2 is not served', 'DELETE', '/topics/orders', 405],
  ['listing partitions', 'GET', '/topics/orders/partitions', ['GET /topics/{topic}/partitions', 'TOPIC orders DESCRIBE', { topic: 'orders' }]],
  ['one partition', 'GET', '/topics/orders/partitions/3', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC orders DESCRIBE', { topic: 'orders', partition: 3 }]],
  ['producing to a partition', 'POST', '/topics/orders/partitions/3', ['POST /topics/{topic}/partitions/{partition}', 'TOPIC orders WRITE', { topic: 'orders', partition: 3 }]],
  ['partition offsets', 'GET', '/topics/orders/partitions/3/offsets', ['GET /topics/{topic}/partitions/{partition}/offsets', 'TOPIC orders DESCRIBE', { topic: 'orders', partition: 3 }]],
  ['partition offsets with a trailing slash', 'GET', '/topics/orders/partitions/0/offsets/', ['GET /topics/{topic}/partitions/{partition}/offsets', 'TOPIC orders DESCRIBE', { topic: 'orders', partition: 0 }]],
  ['a partition with leading zeros', 'GET', '/topics/orders/partitions/007', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC orders DESCRIBE', { topic: 'orders', partition: 7 }]],
  ['the largest partition id', 'GET', '/topics/t/partitions/2147483647', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC t DESCRIBE', { topic: 't', partition: 2147483647 }]],
  ['partition puts the wrong method at 405', 'PUT', '/topics/orders/partitions/0', 405],

  // Bad partitions keep their route (the REST answers 404/404).
  ['a word as partition', 'GET', '/topics/orders/partitions/x', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC orders DESCRIBE', { topic: 'orders' }, ['bad']]],
  ['a negative partition', 'GET', '/topics/orders/partitions/-1', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC orders DESCRIBE', { topic: 'orders' }, ['bad']]],
  ['a partition beyond int32', 'GET', '/topics/t/partitions/2147483648', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC t DESCRIBE', { topic: 't' }, ['bad']]],
  ['a fractional partition on produce', 'POST', '/topics/t/partitions/1.5', ['POST /topics/{topic}/partitions/{partition}', 'TOPIC t WRITE', { topic: 't' }, ['bad']]],
  ['a bad partition on offsets', 'GET', '/topics/t/partitions/x/offsets', ['GET /topics/{topic}/partitions/{partition}/offsets', 'TOPIC t DESCRIBE', { topic: 't' }, ['bad']]],
  ['an encoded space as partition', 'GET', '/topics/t/partitions/%201', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC t DESCRIBE', { topic: 't' }, ['bad']]],
  ['extra segments after a partition are part of it (greedy, as Karapace)', 'GET', '/topics/t/partitions/0/x', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC t DESCRIBE', { topic: 't' }, ['bad']]],

  // Greedy names.
  ['a topic name with a slash', 'GET', '/topics/a/b', ['GET /topics/{topic}', 'TOPIC a/b DESCRIBE', { topic: 'a/b' }]],
  ['the partition route wins over a topic named a/partitions/0', 'GET', '/topics/a/partitions/0', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC a DESCRIBE', { topic: 'a', partition: 0 }]],
  ['the last partitions segment splits (greedy topic)', 'GET', '/topics/a/partitions/b/partitions/0', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC a/partitions/b DESCRIBE', { topic: 'a/partitions/b', partition: 0 }]],
  ['a topic named partitions', 'GET', '/topics/partitions', ['GET /topics/{topic}', 'TOPIC partitions DESCRIBE', { topic: 'partitions' }]],
  ['the partitions of a topic named partitions', 'GET', '/topics/partitions/partitions', ['GET /topics/{topic}/partitions', 'TOPIC partitions DESCRIBE', { topic: 'partitions' }]],
  ['a POST to the partition list produces to the longer topic (as Karapace)', 'POST', '/topics/a/partitions', ['POST /topics/{topic}', 'TOPIC a/partitions WRITE', { topic: 'a/partitions' }]],
  ['a group and an instance with slashes', 'GET', '/consumers/a/b/instances/c/d/records', ['GET /consumers/{group}/instances/{instance}/records', 'GROUP a/b READ', { group: 'a/b', instance: 'c/d' }]],
  ['the last instances segment splits (greedy group)', 'GET', '/consumers/a/instances/b/instances/c/records', ['GET /consumers/{group}/instances/{instance}/records', 'GROUP a/instances/b READ', { group: 'a/instances/b', instance: 'c' }]],
  ['a POST to an instance route without POST creates in the longer group (as Karapace)', 'POST', `${I}/records`, ['POST /consumers/{group}', 'GROUP g/instances/i/records READ', { group: 'g/instances/i/records' }]],

  // Percent-encoding: decoded per segment, so an encoded slash never adds structure.
  ['an encoded dot in a topic', 'GET', '/topics/orders%2Eeu', ['GET /topics/{topic}', 'TOPIC orders.eu DESCRIBE', { topic: 'orders.eu' }]],
  ['UTF-8 in a topic', 'GET', '/topics/caf%C3%A9', ['GET /topics/{topic}', 'TOPIC café DESCRIBE', { topic: 'café' }]],
  ['an encoded slash stays inside the name', 'GET', '/topics/a%2Fpartitions%2F0', ['GET /topics/{topic}', 'TOPIC a/partitions/0 DESCRIBE', { topic: 'a/partitions/0' }]],
  ['an encoded slash inside a name before a real route', 'GET', '/topics/a%2Fpartitions%2F0/partitions/1', ['GET /topics/{topic}/partitions/{partition}', 'TOPIC a/partitions/0 DESCRIBE', { topic: 'a/partitions/0', partition: 1 }]],
  ['an encoded keyword is still the keyword', 'GET', '/topics/a/%70artitions', ['GET /topics/{topic}/partitions', 'TOPIC a DESCRIBE', { topic: 'a' }]],
  ['an encoded group', 'POST', '/consumers/team%20a', ['POST /consumers/{group}', 'GROUP team a READ', { group: 'team a' }]],
  ['a plus stays a plus', 'GET', '/topics/a+b', ['GET /topics/{topic}', 'TOPIC a+b DESCRIBE', { topic: 'a+b' }]],
  ['an invalid escape', 'GET', '/topics/%zz', 404],
  ['a truncated escape', 'GET', '/topics/a%', 404],
  ['an escape that is not UTF-8', 'GET', '/topics/%C3', 404],
  ['an invalid escape in a consumer route', 'GET', '/consumers/g/instances/%E0%A4%A/records', 404],

  // Query strings are ignored for matching.
  ['a query on a topic', 'GET', '/topics/orders?x=/partitions/0', ['GET /topics/{topic}', 'TOPIC orders DESCRIBE', { topic: 'orders' }]],
  ['a query on the topic list', 'GET', '/topics?foo=bar', ['GET /topics', '']],
  ['a query after a trailing slash', 'GET', '/topics/?x', ['GET /topics', '']],
  ['fetch parameters', 'GET', `${I}/records?timeout=1000&max_bytes=10`, ['GET /consumers/{group}/instances/{instance}/records', 'GROUP g READ', GI]],
  ['an empty query', 'GET', '/brokers?', ['GET /brokers', 'CLUSTER kafka-cluster DESCRIBE']],

  // Paths a proxy could rewrite are refused.
  ['a dot-dot segment', 'GET', '/topics/../brokers', 404],
  ['a dot segment', 'GET', '/topics/./orders', 404],
  ['an encoded dot-dot segment', 'GET', '/topics/%2e%2e', 404],
  ['an empty segment', 'GET', '/topics//orders', 404],
  ['a leading double slash', 'GET', '//topics', 404],
  ['two trailing slashes', 'GET', '/topics/orders//', 404],
  ['a target without a leading slash', 'GET', 'topics', 404],
  ['an absolute-form target', 'GET', 'http://h/topics', 404],
  ['the asterisk target', 'OPTIONS', '*', 404],
  ['an empty target', 'GET', '', 404],
  ['paths are case-sensitive', 'GET', '/Topics', 404],
  ['an unknown path', 'GET', '/nope', 404],
  ['a known prefix alone', 'GET', '/consumers', 404],

  // Consumers.
  ['creating a consumer', 'POST', '/consumers/g', ['POST /consumers/{group}', 'GROUP g READ', { group: 'g' }]],
  ['creating a consumer with a trailing slash', 'POST', '/consumers/g/', ['POST /consumers/{group}', 'GROUP g READ', { group: 'g' }]],
  ['a GET on the group is not served', 'GET', '/consumers/g', 405],
  ['deleting an instance', 'DELETE', I, ['DELETE /consumers/{group}/instances/{instance}', 'GROUP g READ', GI]],
  ['a GET on an instance is not served', 'GET', I, 405],
  ['subscribing', 'POST', `${I}/subscription`, ['POST /consumers/{group}/instances/{instance}/subscription', 'GROUP g READ', GI, ['body']]],
  ['reading the subscription', 'GET', `${I}/subscription`, ['GET /consumers/{group}/instances/{instance}/subscription', 'GROUP g READ', GI]],
  ['unsubscribing', 'DELETE', `${I}/subscription`, ['DELETE /consumers/{group}/instances/{instance}/subscription', 'GROUP g READ', GI]],
  ['subscription takes no PUT', 'PUT', `${I}/subscription`, 405],
  ['assigning', 'POST', `${I}/assignments`, ['POST /consumers/{group}/instances/{instance}/assignments', 'GROUP g READ', GI, ['body']]],
  ['reading the assignment', 'GET', `${I}/assignments`, ['GET /consumers/{group}/instances/{instance}/assignments', 'GROUP g READ', GI]],
  ['seeking', 'POST', `${I}/positions`, ['POST /consumers/{group}/instances/{instance}/positions', 'GROUP g READ', GI, ['body']]],
  ['seeking to the beginning', 'POST', `${I}/positions/beginning`, ['POST /consumers/{group}/instances/{instance}/positions/beginning', 'GROUP g READ', GI, ['body']]],
  ['seeking to the end', 'POST', `${I}/positions/end/`, ['POST /consumers/{group}/instances/{instance}/positions/end', 'GROUP g READ', GI, ['body']]],
  ['positions take no GET', 'GET', `${I}/positions`, 405],
  ['committing offsets', 'POST', `${I}/offsets`, ['POST /consumers/{group}/instances/{instance}/offsets', 'GROUP g READ', GI, ['body']]],
  ['reading committed offsets', 'GET', `${I}/offsets`, ['GET /consumers/{group}/instances/{instance}/offsets', 'GROUP g READ', GI, ['body']]],
  ['fetching records', 'GET', `${I}/records`, ['GET /consumers/{group}/instances/{instance}/records', 'GROUP g READ', GI]],

  // v3 topic admin.
  ['listing clusters', 'GET', '/v3/clusters', ['GET /v3/clusters', 'CLUSTER kafka-cluster DESCRIBE']],
  ['one cluster', 'GET', '/v3/clusters/c1', ['GET /v3/clusters/{cluster}', 'CLUSTER kafka-cluster DESCRIBE', { cluster: 'c1' }]],
  ['listing topics (the REST filters)', 'GET', '/v3/clusters/c1/topics', ['GET /v3/clusters/{cluster}/topics', 'CLUSTER kafka-cluster DESCRIBE', { cluster: 'c1' }]],
  ['creating a topic (name in the body)', 'POST', '/v3/clusters/c1/topics/', ['POST /v3/clusters/{cluster}/topics', 'CLUSTER kafka-cluster DESCRIBE', { cluster: 'c1' }, ['body']]],
  ['describing a topic', 'GET', T, ['GET /v3/clusters/{cluster}/topics/{topic}', 'TOPIC orders DESCRIBE', V3]],
  ['deleting a topic', 'DELETE', T, ['DELETE /v3/clusters/{cluster}/topics/{topic}', 'TOPIC orders DELETE', V3]],
  ['a POST on a topic is not served', 'POST', T, 405],
  ['listing configs', 'GET', `${T}/configs`, ['GET /v3/clusters/{cluster}/topics/{topic}/configs', 'TOPIC orders DESCRIBE_CONFIGS', V3]],
  ['reading a config', 'GET', `${T}/configs/retention.ms`, ['GET /v3/clusters/{cluster}/topics/{topic}/configs/{config}', 'TOPIC orders DESCRIBE_CONFIGS', { ...V3, config: 'retention.ms' }]],
  ['setting a config', 'PUT', `${T}/configs/retention.ms`, ['PUT /v3/clusters/{cluster}/topics/{topic}/configs/{config}', 'TOPIC orders ALTER_CONFIGS', { ...V3, config: 'retention.ms' }]],
  ['resetting a config', 'DELETE', `${T}/configs/retention.ms`, ['DELETE /v3/clusters/{cluster}/topics/{topic}/configs/{config}', 'TOPIC orders ALTER_CONFIGS', { ...V3, config: 'retention.ms' }]],
  ['a PATCH on a config is not served', 'PATCH', `${T}/configs/retention.ms`, 405],
  ['listing v3 partitions', 'GET', `${T}/partitions`, ['GET /v3/clusters/{cluster}/topics/{topic}/partitions', 'TOPIC orders DESCRIBE', V3]],
  ['a v3 topic is one segment', 'GET', '/v3/clusters/c1/topics/a/b', 404],
  ['a v3 topic may hold an encoded slash', 'GET', '/v3/clusters/c1/topics/a%2Fb', ['GET /v3/clusters/{cluster}/topics/{topic}', 'TOPIC a/b DESCRIBE', { cluster: 'c1', topic: 'a/b' }]],
  ['v3 alone is unknown', 'GET', '/v3', 404],
  ['an unlisted v3 resource is unknown', 'GET', '/v3/clusters/c1/brokers', 404],

  // Methods.
  ['a CORS preflight on a topic', 'OPTIONS', '/topics/orders', ['OPTIONS *', '', {}, ['public']]],
  ['a CORS preflight on a v3 config', 'OPTIONS', `${T}/configs/x`, ['OPTIONS *', '', {}, ['public']]],
  ['a CORS preflight on health', 'OPTIONS', '/_health/', ['OPTIONS *', '', {}, ['public']]],
  ['a CORS preflight on an unknown path', 'OPTIONS', '/nope', 404],
  ['HEAD is not served', 'HEAD', '/topics', 405],
  ['methods are case-sensitive', 'get', '/topics', 405],
];

function describeRequires(
  requires: ReadonlyArray<{ resourceType: string; name: string; operation: string }>,
) {
  return requires.map((r) => `${r.resourceType} ${r.name} ${r.operation}`).join('; ');
}

describe('route-map', () => {
  describe('mapRoute', () => {
    for (const [name, method, path, expected] of ROWS) {
      it(`${name}: ${method} ${path}`, () => {
        const match = mapRoute(method, path);
        if (typeof expected === 'number') {
          assert.deepEqual(match, { known: false, status: expected });
          return;
        }
        assert.ok(match.known, `expected ${expected[0]}, got ${JSON.stringify(match)}`);
        const [route, requires, params = {}, flags = []] = expected;
        assert.equal(match.id, route);
        assert.equal(describeRequires(match.requires), requires);
        assert.deepEqual({ ...match.params }, params);
        assert.equal(match.checksBody, flags.includes('body'), 'checksBody');
        assert.equal(match.public, flags.includes('public'), 'public');
        assert.equal(match.badPartition, flags.includes('bad'), 'badPartition');
      });
    }
  });

  it('has a row for every route', () => {
    const covered = new Set(
      ROWS.flatMap(([, , , expected]) => (typeof expected === 'number' ? [] : [expected[0]])),
    );
    assert.deepEqual(
      ROUTE_IDS.filter((id) => !covered.has(id)),
      [],
    );
  });

  it('keeps each answer independent of the calls after it', () => {
    const first = mapRoute('GET', '/consumers/a/b/instances/c/records');
    mapRoute('GET', '/consumers/x/instances/y/records');
    mapRoute('GET', '/topics/z/partitions/9');
    assert.ok(first.known);
    assert.deepEqual({ ...first.params }, { group: 'a/b', instance: 'c' });
    assert.equal(describeRequires(first.requires), 'GROUP a/b READ');
  });

  it('stays linear on a hostile path of many keyword segments', function () {
    // A quadratic matcher takes seconds here; this one takes milliseconds.
    this.timeout(1000);
    const segments = 20000;
    const consumer = mapRoute('GET', `/consumers${'/instances'.repeat(segments)}/records`);
    assert.ok(consumer.known && consumer.params.instance === 'instances');
    const topic = mapRoute('GET', `/topics${'/partitions'.repeat(segments)}/offsets`);
    assert.ok(topic.known && topic.id === 'GET /topics/{topic}/partitions/{partition}/offsets');
  });

  it('makes every public route one that needs no operation', () => {
    for (const [, method, path] of ROWS) {
      const match = mapRoute(method, path);
      if (match.known && match.public) assert.equal(match.requires.length, 0, `${method} ${path}`);
    }
  });
});
