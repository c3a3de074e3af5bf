import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceFile } from '../../test/support/files.ts';
import { waitFor } from '../../test/support/wait.ts';
import { isKnownUser } from '../acl/acl-match.ts';
import { type AclReload, type AclSource, createAclSource } from './acl-source.ts';

const POLL_MS = 20;

const ALICE_ONLY = `
serviceUsers: [alice]
acls:
  - {username: alice, topic: "orders.*", permission: read}
`;
const ALICE_AND_BOB = `
serviceUsers: [alice, bob]
acls:
  - {username: alice, topic: "orders.*", permission: read}
  - {username: bob, topic: "logs.*", permission: write}
`;
// Two problems: a bad permission and a rule for a user nobody listed.
const BROKEN = `
serviceUsers: [alice]
acls:
  - {username: alice, topic: "orders.*", permission: rw}
  - {principal: "User:bobb", resourceType: TOPIC, resourceName: x, operation: READ, permissionType: DENY}
`;

describe('createAclSource', () => {
  let dir: string;
  let file: string;
  let reports: AclReload[];
  let source: AclSource | undefined;

  function open(): AclSource {
    source = createAclSource(file, POLL_MS, (result) => reports.push(result));
    return source;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-acl-source-'));
    file = join(dir, 'acl.yaml');
    reports = [];
    source = undefined;
  });

  afterEach(async () => {
    source?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a good file and reports its rule count', async () => {
    await writeFile(file, ALICE_AND_BOB);
    const acls = open();
    const result = await acls.reload();
    assert.deepEqual(result, { ok: true, rules: 2, problems: [] });
    assert.deepEqual(reports, [result]);
    assert.equal(acls.loaded(), true);
    assert.equal(isKnownUser(acls.current(), 'bob'), true);
  });

  it('is not loaded, and current() throws, while no file was ever good', async () => {
    const acls = open();
    const missing = await acls.reload();
    assert.equal(missing.ok, false);
    assert.equal(missing.problems.length, 1);
    assert.ok(missing.problems[0]!.includes('ENOENT'));
    await writeFile(file, BROKEN);
    const broken = await acls.reload();
    assert.equal(broken.ok, false);
    assert.equal(acls.loaded(), false);
    assert.throws(() => acls.current());
  });

  it('keeps the old rules when a new file is bad, and reports every problem with its entry', async () => {
    await writeFile(file, ALICE_ONLY);
    const acls = open();
    await acls.reload();
    const before = acls.current();
    await writeFile(file, BROKEN);
    const result = await acls.reload();
    assert.equal(result.ok, false);
    assert.equal(result.rules, 1, 'the rule count in force');
    assert.equal(result.problems.length, 2);
    assert.ok(result.problems[0]!.startsWith('acls.0.permission:'));
    assert.ok(result.problems[1]!.startsWith('acls.1.principal:'));
    assert.equal(acls.current(), before);
    assert.equal(acls.loaded(), true);
  });

  it('picks up a good change by polling', async () => {
    await writeFile(file, ALICE_ONLY);
    const acls = open();
    await acls.reload();
    acls.start();
    await replaceFile(file, ALICE_AND_BOB);
    await waitFor('reports.length === 2', () => reports.length === 2);
    assert.deepEqual(reports[1], { ok: true, rules: 2, problems: [] });
    assert.equal(isKnownUser(acls.current(), 'bob'), true);
  });

  it('reports a bad change found by polling once, keeps the old rules, then takes the fix', async () => {
    await replaceFile(file, ALICE_ONLY);
    const acls = open();
    await acls.reload();
    const before = acls.current();
    acls.start();
    await replaceFile(file, BROKEN);
    await waitFor('reports.length === 2', () => reports.length === 2);
    assert.equal(reports[1]!.ok, false);
    // Unchanged bad file: not reread and not reported again.
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 5));
    assert.equal(reports.length, 2);
    assert.equal(acls.current(), before);
    await replaceFile(file, ALICE_AND_BOB);
    await waitFor('reports.length === 3', () => reports.length === 3);
    assert.equal(reports[2]!.ok, true);
    assert.equal(isKnownUser(acls.current(), 'bob'), true);
  });

  it('sees a file swapped in by rename even with the same size and mtime (ConfigMap update)', async () => {
    const same = ALICE_ONLY.replace('alice', 'carol').replace('alice', 'carol');
    assert.equal(same.length, ALICE_ONLY.length);
    await replaceFile(file, ALICE_ONLY);
    const acls = open();
    await acls.reload();
    acls.start();
    const { mtime } = await stat(file);
    const next = join(dir, 'acl.yaml.next');
    await writeFile(next, same);
    await utimes(next, mtime, mtime);
    await rename(next, file);
    await waitFor('reports.length === 2', () => reports.length === 2);
    assert.equal(isKnownUser(acls.current(), 'carol'), true);
    assert.equal(isKnownUser(acls.current(), 'alice'), false);
  });

  it('keeps the rules in force when the file disappears', async () => {
    await replaceFile(file, ALICE_ONLY);
    const acls = open();
    await acls.reload();
    acls.start();
    await unlink(file);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 5));
    assert.equal(reports.length, 1);
    assert.equal(isKnownUser(acls.current(), 'alice'), true);
  });

  it('stops polling when stopped', async () => {
    await replaceFile(file, ALICE_ONLY);
    const acls = open();
    await acls.reload();
    acls.start();
    acls.stop();
    await replaceFile(file, ALICE_AND_BOB);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 5));
    assert.equal(reports.length, 1);
    assert.equal(isKnownUser(acls.current(), 'bob'), false);
  });
});
