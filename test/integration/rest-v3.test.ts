import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from './rest-client.ts';
import { tokenFor } from './stack-env.ts';

// v3 topic admin through the whole stack: the gateway checks CREATE/DELETE/ALTER_CONFIGS on the
// topic, the broker checks again.

describe('REST v3 topic admin', function () {
  this.timeout(60_000);

  it('lists, creates, describes, configures and deletes a topic as the super user', async () => {
    const admin = await tokenFor('admin');
    const clusters = await api('GET', '/v3/clusters', { token: admin });
    assert.equal(clusters.status, 200, clusters.text);
    const cluster = clusters.json.data[0].cluster_id as string;
    assert.ok(cluster);

    const name = `orders.v3-${randomUUID().slice(0, 8)}`;
    const created = await api('POST', `/v3/clusters/${cluster}/topics`, {
      token: admin,
      contentType: 'application/json',
      body: {
        topic_name: name,
        partitions_count: 2,
        replication_factor: 1,
        configs: [{ name: 'retention.ms', value: '3600000' }],
      },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.partitions_count, 2);

    const again = await api('POST', `/v3/clusters/${cluster}/topics`, {
      token: admin,
      contentType: 'application/json',
      body: { topic_name: name },
    });
    assert.equal(again.status, 400, 'a topic that exists is not created twice');

    const listed = await api('GET', `/v3/clusters/${cluster}/topics`, { token: admin });
    assert.ok(listed.json.data.some((t: { topic_name: string }) => t.topic_name === name));

    const config = await api('GET', `/v3/clusters/${cluster}/topics/${name}/configs/retention.ms`, {
      token: admin,
    });
    assert.equal(config.status, 200, config.text);
    assert.equal(config.json.value, '3600000');

    const put = await api('PUT', `/v3/clusters/${cluster}/topics/${name}/configs/cleanup.policy`, {
      token: admin,
      contentType: 'application/json',
      body: { value: 'compact' },
    });
    assert.equal(put.status, 204, put.text);
    const configs = await api('GET', `/v3/clusters/${cluster}/topics/${name}/configs`, { token: admin });
    const byName = new Map(configs.json.data.map((c: { name: string; value: string }) => [c.name, c.value]));
    assert.equal(byName.get('cleanup.policy'), 'compact');
    assert.equal(byName.get('retention.ms'), '3600000', 'changing one setting keeps the others');

    const partitions = await api('GET', `/v3/clusters/${cluster}/topics/${name}/partitions`, {
      token: admin,
    });
    assert.equal(partitions.json.data.length, 2);

    assert.equal(
      (await api('DELETE', `/v3/clusters/${cluster}/topics/${name}`, { token: admin })).status,
      204,
    );
    const gone = await api('GET', `/v3/clusters/${cluster}/topics/${name}`, { token: admin });
    assert.equal(gone.status, 404);
  });

  it('refuses topic creation and deletion to a user without those rights', async () => {
    const admin = await tokenFor('admin');
    const alice = await tokenFor('alice');
    const cluster = (await api('GET', '/v3/clusters', { token: admin })).json.data[0].cluster_id as string;
    const create = await api('POST', `/v3/clusters/${cluster}/topics`, {
      token: alice,
      contentType: 'application/json',
      body: { topic_name: `orders.nope-${randomUUID().slice(0, 8)}` },
    });
    assert.equal(create.status, 403, create.text);
    const del = await api('DELETE', `/v3/clusters/${cluster}/topics/orders.eu`, { token: alice });
    assert.equal(del.status, 403, del.text);
    assert.equal(
      (await api('GET', '/topics/orders.eu', { token: alice })).status,
      200,
      'orders.eu is still there',
    );
  });
});
