/**
 * `knitctl policy` (the real binary) against a real etcd: apply a file (YAML
 * and JSON), ls/inspect with -o json, trace from the stored state with
 * endpoint records, rm; malformed files are refused with a clear error and
 * leave etcd exactly as it was.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Etcd3 } from 'etcd3';
import { startEtcd, type EtcdProcess } from '../lab/etcd';

const KNITCTL = path.resolve(__dirname, '..', '..', '..', 'agent', 'bin', 'knitctl');

describe('knitctl policy against a real etcd', function () {
  this.timeout(120_000);
  let etcd: EtcdProcess;
  let client: Etcd3;
  let dir: string;
  const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
    execFile(KNITCTL, [...args, '--etcd-endpoints', etcd.endpoints.join(',')], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const snapshot = async () => JSON.stringify(await client.getAll().prefix('/knit/v1/policies/').strings());

  before(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.endpoints });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'knit-policy-'));
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('apply, ls, inspect, trace, rm', async () => {
    const yaml = file('p.yaml', `
name: db-in
selector: {app: db}
ingress:
  - from: [{selector: {app: web}}]
    ports: [{protocol: TCP, port: 5432}]
---
name: web-out
network: blue
selector: {}
egress: []
`);
    const applied = await run(['policy', 'apply', '-f', yaml]);
    expect(applied.stderr).to.equal('');
    expect(applied.stdout).to.equal('policy default/db-in applied\npolicy blue/web-out applied\n');
    expect(Object.keys(await client.getAll().prefix('/knit/v1/policies/').strings()).sort()).to.deep.equal(['/knit/v1/policies/blue/web-out', '/knit/v1/policies/default/db-in']);
    const ls = await run(['policy', 'ls', '-o', 'json']);
    expect(JSON.parse(ls.stdout).map((p: { name: string }) => p.name)).to.deep.equal(['web-out', 'db-in']);
    const table = await run(['policy', 'ls']);
    expect(table.stdout).to.match(/NETWORK\s+NAME\s+SELECTOR\s+INGRESS\s+EGRESS/);
    const insp = await run(['policy', 'inspect', 'db-in', '-o', 'json']);
    expect(JSON.parse(insp.stdout)).to.deep.equal({ name: 'db-in', network: 'default', selector: { app: 'db' }, ingress: [{ from: [{ selector: { app: 'web' } }], ports: [{ protocol: 'TCP', port: 5432 }] }] });
    expect((await run(['policy', 'inspect', 'nope'])).code).to.equal(1);

    await client.put('/knit/v1/policy-endpoints/default/web1').value(JSON.stringify({ labels: { app: 'web' }, addresses: ['10.244.1.2'] }));
    await client.put('/knit/v1/policy-endpoints/default/db1').value(JSON.stringify({ labels: { app: 'db' }, addresses: ['10.244.2.3'] }));
    await client.put('/knit/v1/policy-endpoints/default/x1').value(JSON.stringify({ labels: { app: 'x' }, addresses: ['10.244.2.4'] }));
    const ok = await run(['policy', 'trace', '--from', 'web1', '--to', 'db1', '--port', 'tcp/5432']);
    expect(ok.code).to.equal(0);
    expect(ok.stdout).to.contain('ALLOW 10.244.1.2 -> 10.244.2.3 tcp/5432');
    expect(ok.stdout).to.contain('allowed by policy db-in ingress[0]');
    const no = await run(['policy', 'trace', '--from', '10.244.2.4', '--to', 'db1', '--port', 'tcp/5432', '-o', 'json']);
    expect(no.code).to.equal(3);
    expect(JSON.parse(no.stdout).ingress.reason).to.equal('default deny: ingress of 10.244.2.3 is isolated by db-in and no rule allows it');
    expect((await run(['policy', 'trace', '--from', 'web1', '--to', 'db1', '--port', 'tcp/99999'])).code).to.equal(2);

    expect((await run(['policy', 'rm', 'blue/web-out'])).stdout).to.equal('policy blue/web-out removed\n');
    expect((await run(['policy', 'rm', 'blue/web-out'])).code).to.equal(1);
  });

  it('fuzz: malformed files are refused with a clear error and nothing is applied', async () => {
    const before = await snapshot();
    let seed = 99;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const base = '{"name":"fz","selector":{"app":"db"},"ingress":[{"from":[{"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}],"ports":[{"port":80,"endPort":90}]}]}\n---\n{"name":"fz2","selector":{},"egress":[]}';
    const alphabet = '{}[]":,-0123456789xyz/ \n';
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const chars = base.split('');
      for (let k = 0; k < 3; k++) chars[rnd(chars.length)] = alphabet[rnd(alphabet.length)]!;
      const r = await run(['policy', 'apply', '-f', file(`f${i}.yaml`, chars.join(''))]);
      if (r.code === 0) {
        // A mutation that is still a valid file: undo it so the snapshot comparison holds.
        await client.delete().prefix('/knit/v1/policies/').exec();
        await client.put('/knit/v1/policies/default/db-in').value(JSON.parse(before)['/knit/v1/policies/default/db-in']);
        continue;
      }
      refused += 1;
      expect(r.stderr, chars.join('')).to.match(/^knitctl: policy apply: .+/);
      expect(r.stderr).not.to.match(/at .*\.js:\d+/); // no stack trace
      expect(await snapshot()).to.equal(before);
    }
    expect(refused).to.be.greaterThan(20);
  });
});
