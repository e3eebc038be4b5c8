/**
 * Network policy end to end with real knitds (issue 18): containers
 * attached through the real plugin carry labels (the CNI `args.cni.labels`
 * convention and Kubernetes' CNI_ARGS); each knitd publishes its endpoints'
 * labels and addresses to etcd; `knitctl policy apply` (the real binary)
 * stores a policy; every knitd compiles and enforces it. Two nodes, the
 * database on node 2, a web and another client on node 1:
 *   - the records appear with their labels, and go with DEL;
 *   - before the policy both clients reach the database; with it only web;
 *     without it again both;
 *   - a bad label fails the ADD with code 7 and leaves nothing;
 *   - a record deleted by hand is written again, and a stale one of this
 *     node is removed, when knitd restarts.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { hostVeths, PEER_ADDRESS, startKnitd, startTcpReplier, tcpGet, type Knitd } from '../lab/knitd';
import { makeTempDir } from '../lab/run-dir';
import { waitFor } from '../support/wait';
import { etcdctl } from './cluster-lab';
import { apiCall, apiClient, callStatus, WatchRecorder } from './api-lab';
import type { Policy__Output } from '../../agent/src/api/gen/knit/v1/Policy';
import type { TracePolicyResponse__Output } from '../../agent/src/api/gen/knit/v1/TracePolicyResponse';
import { cleanupAll } from '../lab/cleanup';

const KNITCTL = join(__dirname, '..', '..', '..', 'agent', 'bin', 'knitctl');
const RECORDS = '/knit/v1/policy-endpoints/default/';
const DB_PORT = 5432;

interface Attached { c: LabContainer; ip: string }

describe('network policy with real knitds: labels from the runtime, records in etcd, enforcement across nodes', function () {
  this.timeout(180_000);
  let lab: Lab;
  const knitds: Knitd[] = [];
  let web: Attached;
  let other: Attached;
  let db: Attached;

  const labelsConf = (labels: Array<{ key: string; value: string }>) => ({ args: { cni: { labels } } });
  async function attach(n: number, tag: string, labels: Array<{ key: string; value: string }>, cniArgs?: string): Promise<Attached> {
    const c = lab.addContainer(n, tag);
    const r = await knitds[n]!.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0', ...(cniArgs ? { CNI_ARGS: cniArgs } : {}) },
      knitds[n]!.conf('1.1.0', labelsConf(labels)));
    expect(r.code, `ADD ${tag}: ${r.stdout} ${r.stderr}`).to.equal(0);
    return { c, ip: (r.json as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]! };
  }
  async function records(): Promise<Record<string, { labels: Record<string, string>; addresses: string[] }>> {
    const out = (await etcdctl(lab, ['get', '--prefix', RECORDS])).split('\n').filter((l) => l !== '');
    const r: Record<string, { labels: Record<string, string>; addresses: string[] }> = {};
    for (let i = 0; i + 1 < out.length; i += 2) r[out[i]!.slice(RECORDS.length)] = JSON.parse(out[i + 1]!) as { labels: Record<string, string>; addresses: string[] };
    return r;
  }
  const knitctl = (args: string[]) => lab.exec(lab.underlay.ns, KNITCTL, [...args, '--etcd-endpoints', lab.etcdEndpoints.join(',')]);
  const reaches = async (from: Attached): Promise<boolean> => (await tcpGet(from.c.ns, db.ip, DB_PORT, 1000)).data === from.ip;

  before(async () => {
    lab = await createLab({ nodes: 2, etcd: true });
    const network = { clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } };
    for (const node of lab.nodes) knitds.push(await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } }));
    web = await attach(0, 'web', [{ key: 'app', value: 'web' }]);
    other = await attach(0, 'oth', [{ key: 'app', value: 'other' }]);
    db = await attach(1, 'db', [{ key: 'app', value: 'db' }], 'IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=db-0');
    await startTcpReplier(lab, db.c.ns, DB_PORT, PEER_ADDRESS);
  });
  after(async () => {
    await cleanupAll([
      ...Array.from(knitds, (k) => () => k.destroy()),
      () => lab?.teardown(),
    ]);
  });

  it('each knitd publishes its endpoints with their labels and addresses', async () => {
    const { value } = await waitFor('three endpoint records', async () => {
      const r = await records();
      return Object.keys(r).length === 3 ? r : undefined;
    }, 10_000);
    const n1 = lab.nodes[0]!.name;
    const n2 = lab.nodes[1]!.name;
    expect(value).to.deep.equal({
      [`${n1}:${web.c.containerId}:eth0`]: { labels: { app: 'web' }, addresses: [web.ip] },
      [`${n1}:${other.c.containerId}:eth0`]: { labels: { app: 'other' }, addresses: [other.ip] },
      [`${n2}:${db.c.containerId}:eth0`]: { labels: { app: 'db', 'k8s.namespace': 'prod', 'k8s.pod': 'db-0' }, addresses: [db.ip] },
    });
  });

  it('a policy selecting the database by label lets web in and keeps the other client out, across nodes; removing it opens access again', async () => {
    expect(await reaches(web), 'web before the policy').to.equal(true);
    expect(await reaches(other), 'other before the policy').to.equal(true);
    const file = join(makeTempDir('policy'), 'db.yaml');
    writeFileSync(file, [
      'name: db-in', 'network: default', 'selector: {app: db}',
      'ingress:', '  - from: [{selector: {app: web}}]', `    ports: [{protocol: TCP, port: ${DB_PORT}}]`, '',
    ].join('\n'));
    await knitctl(['policy', 'apply', '-f', file]);
    await waitFor('the other client to be refused', async () => !(await reaches(other)), 10_000);
    expect(await reaches(web), 'web with the policy').to.equal(true);
    // knitctl's trace reads the same records and policy: DENY, exit 3.
    const denied = await knitctl(['policy', 'trace', '--from', other.ip, '--to', db.ip, '--port', `tcp/${DB_PORT}`]).then(() => 'exit 0', (e: unknown) => {
      const cause = (e as { cause?: { stdout?: string; code?: number } }).cause;
      return `exit ${String(cause?.code)} ${cause?.stdout ?? ''}`;
    });
    expect(denied).to.match(/^exit 3 DENY/);
    expect(await knitctl(['policy', 'trace', '--from', web.ip, '--to', db.ip, '--port', `tcp/${DB_PORT}`])).to.match(/^ALLOW[\s\S]*db-in ingress\[0\]/);
    await knitctl(['policy', 'rm', 'db-in']);
    await waitFor('the other client to get in again', () => reaches(other), 10_000);
  });

  it('the gRPC API: ApplyPolicies on knitd 1 is enforced everywhere; knitd 2 lists, gets, traces and streams it; bad requests are refused; DeletePolicy lifts it', async () => {
    const a = apiClient(knitds[0]!.apiSocket);
    const b = apiClient(knitds[1]!.apiSocket);
    const watch = new WatchRecorder(b);
    try {
      const { item: first } = await watch.waitFor(() => true, 10_000, 0, 'the Watch snapshot');
      expect(first.snapshot!.policies).to.deep.equal([]);
      // Refused, nothing written: a document that does not validate, a bad reference, an unknown policy.
      expect(await callStatus(apiCall(a, 'ApplyPolicies', { document: '' }))).to.match(/^INVALID_ARGUMENT: document: is required/);
      expect(await callStatus(apiCall(a, 'ApplyPolicies', { document: 'name: db-in\nselector: {app: db}\ningress: [{ports: [{protocol: TCP, port: 70000}]}]\n' })))
        .to.match(/^INVALID_ARGUMENT: .*port/);
      expect(await callStatus(apiCall(a, 'ApplyPolicies', { document: 'name: Bad_Name\nselector: {}\n' }))).to.match(/^INVALID_ARGUMENT: .*name/);
      expect(await callStatus(apiCall(b, 'GetPolicy', { name: 'Nope!' }))).to.match(/^INVALID_ARGUMENT: name: /);
      expect(await callStatus(apiCall(b, 'GetPolicy', { name: 'db-in' }))).to.match(/^NOT_FOUND: no policy default\/db-in/);
      expect(await callStatus(apiCall(b, 'TracePolicy', { from: other.ip, to: db.ip, port: 'tcp/99999' }))).to.match(/^INVALID_ARGUMENT: port /);
      expect((await apiCall<object, { policies: Policy__Output[] }>(b, 'ListPolicies', {})).policies).to.deep.equal([]);

      const doc = ['name: db-in', 'selector: {app: db}', 'ingress:', '  - from: [{selector: {app: web}}]', `    ports: [{protocol: TCP, port: ${DB_PORT}}]`, ''].join('\n');
      const applied = await apiCall<object, { policies: Policy__Output[] }>(a, 'ApplyPolicies', { document: doc });
      expect(applied.policies.map((p) => `${p.network}/${p.name}`)).to.deep.equal(['default/db-in']);
      await waitFor('the other client to be refused', async () => !(await reaches(other)), 10_000);
      expect(await reaches(web), 'web with the policy').to.equal(true);
      await watch.waitFor((e) => e.policy?.change === 'CHANGE_TYPE_ADDED' && e.policy.policy?.name === 'db-in', 10_000, 0, 'db-in added on knitd 2\'s Watch');

      const got = await apiCall<object, Policy__Output>(b, 'GetPolicy', { network: 'default', name: 'db-in' });
      expect(got.selector).to.deep.equal({ app: 'db' });
      expect(JSON.parse(got.documentJson)).to.deep.equal({
        name: 'db-in', network: 'default', selector: { app: 'db' },
        ingress: [{ from: [{ selector: { app: 'web' } }], ports: [{ protocol: 'TCP', port: DB_PORT }] }],
      });
      expect((await apiCall<object, { policies: Policy__Output[] }>(b, 'ListPolicies', { network: 'default' })).policies.map((p) => p.name)).to.deep.equal(['db-in']);
      expect((await apiCall<object, { policies: Policy__Output[] }>(b, 'ListPolicies', { network: 'other' })).policies).to.deep.equal([]);

      // The trace names the deciding rule, and agrees with what the kernel just did.
      const denied = await apiCall<object, TracePolicyResponse__Output>(b, 'TracePolicy', { from: other.ip, to: db.ip, port: `tcp/${DB_PORT}` });
      expect(denied.allowed).to.equal(false);
      expect(denied.ingress!.reason).to.match(/^default deny: ingress of .* is isolated by db-in/);
      const allowed = await apiCall<object, TracePolicyResponse__Output>(b, 'TracePolicy', { from: web.ip, to: db.ip, port: `tcp/${DB_PORT}` });
      expect(allowed).to.deep.include({ allowed: true, from: web.ip, to: db.ip });
      expect(allowed.ingress).to.deep.include({ allowed: true, policy: 'db-in', rule: 0 });

      expect(await callStatus(apiCall(b, 'DeletePolicy', { name: 'db-in' }))).to.equal('OK');
      expect(await callStatus(apiCall(a, 'DeletePolicy', { name: 'db-in' }))).to.match(/^NOT_FOUND/);
      await waitFor('the other client to get in again', () => reaches(other), 10_000);
      await watch.waitFor((e) => e.policy?.change === 'CHANGE_TYPE_REMOVED' && e.policy.policy?.name === 'db-in', 10_000, 0, 'db-in removed on Watch');
    } finally {
      watch.close();
      a.close();
      b.close();
    }
  });

  it('on one node too: containers on the same bridge are held to the policy (knitd makes bridged traffic go through the forward hook)', async () => {
    // A second database on node 1, the node of both clients: their packets to it never leave the bridge.
    // With bridge-nf-call-iptables off (a host without kube-proxy or Docker), bridged packets skip the ip hooks.
    const sysctl = '/proc/sys/net/bridge/bridge-nf-call-iptables';
    await lab.exec(knitds[0]!.node.ns, 'sh', ['-c', `echo 0 > ${sysctl}`]);
    const local = await attach(0, 'db1', [{ key: 'app', value: 'db' }]);
    await startTcpReplier(lab, local.c.ns, DB_PORT, PEER_ADDRESS);
    const reachesLocal = async (from: Attached): Promise<boolean> => (await tcpGet(from.c.ns, local.ip, DB_PORT, 1000)).data === from.ip;
    expect(await reachesLocal(other), 'other -> local db before the policy').to.equal(true);
    const file = join(makeTempDir('policy'), 'db.yaml');
    writeFileSync(file, ['name: db-in', 'selector: {app: db}', 'ingress:', '  - from: [{selector: {app: web}}]', ''].join('\n'));
    await knitctl(['policy', 'apply', '-f', file]);
    try {
      await waitFor('the other client to be refused by the local db', async () => !(await reachesLocal(other)), 10_000);
      expect(await reachesLocal(web), 'web -> local db with the policy').to.equal(true);
      expect(await lab.exec(knitds[0]!.node.ns, 'cat', [sysctl]), 'knitd turned bridged IPv4 through the ip hooks').to.match(/^1/);
    } finally {
      await knitctl(['policy', 'rm', 'db-in']);
    }
    await waitFor('the other client to get in again', () => reachesLocal(other), 10_000);
    const r = await knitds[0]!.cni('DEL', { CNI_CONTAINERID: local.c.containerId, CNI_NETNS: local.c.netnsPath, CNI_IFNAME: 'eth0' }, knitds[0]!.conf('1.1.0'));
    expect(r.code, r.stdout).to.equal(0);
  });

  it('replies to an isolated endpoint pass by conntrack: its traffic is spared from pod-to-pod notrack', async () => {
    const dir = makeTempDir('policy');
    writeFileSync(join(dir, 'db.yaml'), ['name: db-in', 'selector: {app: db}', 'ingress:', '  - from: [{selector: {app: web}}]', ''].join('\n'));
    // web accepts nothing: the db's answers to web's connection are replies, allowed only by ct state established.
    writeFileSync(join(dir, 'web.yaml'), ['name: web-lockdown', 'selector: {app: web}', 'ingress: []', ''].join('\n'));
    await knitctl(['policy', 'apply', '-f', join(dir, 'db.yaml')]);
    await knitctl(['policy', 'apply', '-f', join(dir, 'web.yaml')]);
    await waitFor('the other client to be refused', async () => !(await reaches(other)), 10_000);
    for (const k of knitds) {
      await waitFor(`${k.node.name}: web and db kept tracked`, async () => {
        const set = await lab.exec(k.node.ns, 'nft', ['list', 'set', 'ip', 'knit', 'policy_tracked']).catch(() => '');
        return set.includes(web.ip) && set.includes(db.ip);
      }, 10_000);
    }
    for (let i = 0; i < 3; i++) expect(await reaches(web), `web -> db with web isolated (try ${i + 1})`).to.equal(true);
    await knitctl(['policy', 'rm', 'web-lockdown']);
    await knitctl(['policy', 'rm', 'db-in']);
    await waitFor('the other client to get in again', () => reaches(other), 10_000);
    await waitFor('no tracked set once no policy is left', async () => !(await lab.exec(knitds[0]!.node.ns, 'nft', ['list', 'table', 'ip', 'knit'])).includes('policy_tracked'), 10_000);
  });

  it('a bad label fails the ADD with code 7 before anything is made', async () => {
    const before = (await hostVeths(lab.nodes[0]!.ns)).length;
    const c = lab.addContainer(0, 'bad');
    const r = await knitds[0]!.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, knitds[0]!.conf('1.1.0', labelsConf([{ key: 'app', value: 'a/b' }])));
    expect(r.code).to.not.equal(0);
    expect((r.json as { code?: number }).code, r.stdout).to.equal(7);
    expect(r.stdout).to.match(/args\.cni\.labels\.app: label value must be/);
    expect((await hostVeths(lab.nodes[0]!.ns)).length).to.equal(before);
    expect(Object.keys(await records()).some((k) => k.includes(c.containerId))).to.equal(false);
  });

  it('DEL removes the record; a restart writes back a record deleted by hand and removes a stale one of its node', async () => {
    const n1 = lab.nodes[0]!.name;
    const r = await knitds[0]!.cni('DEL', { CNI_CONTAINERID: other.c.containerId, CNI_NETNS: other.c.netnsPath, CNI_IFNAME: 'eth0' }, knitds[0]!.conf('1.1.0'));
    expect(r.code, r.stdout).to.equal(0);
    await waitFor('the DELed endpoint\'s record to go', async () => !(`${n1}:${other.c.containerId}:eth0` in await records()), 10_000);
    await knitds[0]!.stop();
    await etcdctl(lab, ['del', `${RECORDS}${n1}:${web.c.containerId}:eth0`]);
    await etcdctl(lab, ['put', `${RECORDS}${n1}:gone0000:eth0`, JSON.stringify({ labels: { app: 'db' }, addresses: ['10.244.9.9'] })]);
    await knitds[0]!.restart();
    const { value } = await waitFor('node1\'s records as its endpoints say', async () => {
      const mine = Object.keys(await records()).filter((k) => k.startsWith(`${n1}:`));
      return mine.length === 1 && mine[0] === `${n1}:${web.c.containerId}:eth0` ? mine : undefined;
    }, 10_000);
    expect(value).to.deep.equal([`${n1}:${web.c.containerId}:eth0`]);
  });
});
