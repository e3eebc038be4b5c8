/**
 * Network policy enforced by the real kernel: the compiled state of
 * agent/src/policy rendered by render-policy.ts into `inet knit_policy` in a
 * router namespace, connections between container namespaces through it. For
 * every case the kernel's verdict must equal trace()'s verdict from the same
 * compiled state. Also: a change that keeps an established connection
 * allowed does not cut it; a removed allowance stops new connections; the
 * first table goes in whole and every later change as its difference, as
 * knitd does, and a difference leaves exactly the table a whole one would.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { policyRuleset, renderPolicyRemove, renderPolicyRuleset, renderPolicyUpdate, type PolicyRuleset } from '../../agent/src/dataplane/nft';
import { compileNetwork, parsePolicyFile, trace } from '../../agent/src/policy';
import type { PolicyEndpoint } from '../../agent/src/policy';
import { addNetns, delNetns, nsRun, uniqueName } from '../lab/netns';

const SERVER = `
const net = require('net');
for (const p of process.argv.slice(1).map(Number)) {
  net.createServer((s) => s.pipe(s)).listen(p, '::');
}
setTimeout(() => console.log('ready'), 200);
`;
/** Connect with a timeout; prints OK when the echo comes back, else FAIL. */
const CONNECT = `
const s = require('net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
const t = setTimeout(() => { console.log('FAIL'); process.exit(0); }, Number(process.argv[3]));
s.on('connect', () => s.write('x'));
s.on('data', () => { clearTimeout(t); console.log('OK'); process.exit(0); });
s.on('error', () => { clearTimeout(t); console.log('FAIL'); process.exit(0); });
`;
/** A long-lived connection: writes every 50 ms, prints a line per echo. */
const STREAM = `
const s = require('net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
s.on('connect', () => setInterval(() => s.write('x'), 50));
s.on('data', (d) => { for (let i = 0; i < d.length; i++) console.log('e'); });
s.on('error', (e) => { console.log('ERR ' + e.code); process.exit(0); });
`;

describe('nft network policy in the kernel (root)', function () {
  this.timeout(120000);
  let router: string;
  const c: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  const procs: ChildProcess[] = [];
  const endpoints: PolicyEndpoint[] = [
    { id: 'a', network: 'default', labels: { app: 'web' }, addresses: ['10.97.1.2', 'fd97:1::2'] },
    { id: 'b', network: 'default', labels: { app: 'db' }, addresses: ['10.97.2.2', 'fd97:2::2'] },
    { id: 'c', network: 'default', labels: { app: 'batch' }, addresses: ['10.97.3.2'] },
  ];
  const nft = (script: string) => nsRun(router, 'nft', ['-f', '-'], script);
  /** What the router's table holds, as knitd keeps it: the next change is written as the difference. */
  let programmed: PolicyRuleset | undefined;
  const apply = (yaml: string, eps = endpoints) => {
    const state = compileNetwork('default', parsePolicyFile(yaml), eps);
    const next = policyRuleset([state]);
    const script = programmed === undefined ? renderPolicyRuleset(next) : renderPolicyUpdate(programmed, next);
    if (script !== '') nft(script);
    programmed = next;
    return state;
  };
  const connect = (from: string, host: string, port: number): boolean => {
    // 1.5 s: past the first SYN retransmit (1 s), so one lost SYN on a busy machine is not a deny.
    const out = nsRun(from, 'node', ['-e', CONNECT, host, String(port), '1500']).trim();
    return out === 'OK';
  };

  before(async () => {
    router = addNetns('pr');
    nsRun(router, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    nsRun(router, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
    (['a', 'b', 'c'] as const).forEach((k, i) => {
      const ns = addNetns(`p${k}`);
      c[k] = ns;
      const host = uniqueName('v');
      const n = i + 1;
      nsRun(router, 'ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      nsRun(router, 'ip', ['addr', 'add', `10.97.${n}.1/24`, 'dev', host]);
      nsRun(router, 'ip', ['-6', 'addr', 'add', `fd97:${n}::1/64`, 'dev', host, 'nodad']);
      nsRun(router, 'ip', ['link', 'set', host, 'up']);
      nsRun(ns, 'ip', ['addr', 'add', `10.97.${n}.2/24`, 'dev', 'eth0']);
      nsRun(ns, 'ip', ['-6', 'addr', 'add', `fd97:${n}::2/64`, 'dev', 'eth0', 'nodad']);
      nsRun(ns, 'ip', ['link', 'set', 'eth0', 'up']);
      nsRun(ns, 'ip', ['route', 'add', 'default', 'via', `10.97.${n}.1`]);
      nsRun(ns, 'ip', ['-6', 'route', 'add', 'default', 'via', `fd97:${n}::1`]);
    });
    for (const k of ['a', 'b', 'c'] as const) {
      const server = spawn('ip', ['netns', 'exec', c[k], 'node', '-e', SERVER, '5432', '7005', '8080', '9000'], { stdio: ['ignore', 'pipe', 'pipe'] });
      procs.push(server);
      await new Promise<void>((resolve, reject) => {
        server.stdout?.once('data', () => resolve());
        server.once('exit', (code) => reject(new Error(`server in ${k} exited ${code}`)));
      });
    }
  });

  after(() => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill();
    for (const ns of [c.a, c.b, c.c, router]) if (ns) delNetns(ns);
  });

  const policy = `
name: db-in
selector: {app: db}
ingress:
  - from: [{selector: {app: web}}]
    ports: [{protocol: TCP, port: 5432}, {protocol: TCP, port: 7000, endPort: 7010}]
  - from: [{cidr: 10.97.0.0/16, except: [10.97.1.0/24]}]
    ports: [{port: 8080}]
---
name: batch-out
selector: {app: batch}
egress:
  - to: [{cidr: 10.97.0.0/16}]
    ports: [{protocol: TCP, port: 8080}, {protocol: TCP, port: 9000}]
`;

  it('the kernel agrees with trace on an allow/deny matrix (selectors, ports, ranges, CIDR except, egress, both families)', () => {
    const state = apply(policy);
    const addr = { a: ['10.97.1.2', 'fd97:1::2'], b: ['10.97.2.2', 'fd97:2::2'], c: ['10.97.3.2'] } as const;
    const cases: Array<[keyof typeof c, keyof typeof c, number, number, boolean]> = [
      // from, to, family index, port, expected
      ['a', 'b', 0, 5432, true], ['a', 'b', 0, 7005, true], ['a', 'b', 0, 8080, false], ['a', 'b', 0, 9000, false],
      ['a', 'b', 1, 5432, true], ['a', 'b', 1, 8080, false],
      ['c', 'b', 0, 8080, true], ['c', 'b', 0, 5432, false], ['c', 'b', 0, 9000, false],
      ['c', 'a', 0, 9000, true], ['c', 'a', 0, 5432, false],
      ['b', 'a', 0, 9000, true], ['b', 'c', 0, 5432, true], ['a', 'c', 0, 5432, true],
    ];
    const mismatches: string[] = [];
    for (const [from, to, fam, port, want] of cases) {
      const src = addr[from][fam]!;
      const dst = addr[to][fam]!;
      const kernel = connect(c[from], dst, port);
      const traced = trace(state, { from: src, to: dst, protocol: 'TCP', port }).allowed;
      if (kernel !== want || traced !== want) mismatches.push(`${src} → ${dst}:${port} want ${want} kernel ${kernel} trace ${traced}`);
    }
    expect(mismatches).to.deep.equal([]);
  });

  it('an endpoint added after the policy is matched once recompiled', () => {
    // c becomes a "web": now allowed to the db on 5432 by the selector rule (its egress allows 8080/9000 only, so 8080 it is).
    apply(policy);
    expect(connect(c.c, '10.97.2.2', 7005)).to.equal(false);
    const relabelled = endpoints.map((e) => (e.id === 'c' ? { ...e, labels: { app: 'web' } } : e));
    apply(policy, relabelled);
    expect(connect(c.c, '10.97.2.2', 7005), 'no egress policy selects c any more, ingress selector matches').to.equal(true);
  });

  it('a change that keeps a connection allowed does not cut it; a removed allowance stops new connections', async () => {
    apply(policy);
    const stream = spawn('ip', ['netns', 'exec', c.a, 'node', '-e', STREAM, '10.97.2.2', '5432'], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(stream);
    let echoes = 0;
    let err = '';
    stream.stdout?.on('data', (d: Buffer) => {
      const s = d.toString();
      echoes += (s.match(/^e$/gm) ?? []).length;
      if (s.includes('ERR')) err = s;
    });
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await wait(500);
    const before = echoes;
    expect(before).to.be.greaterThan(3);
    // Change: drop the port range, keep 5432. Many swaps while the stream runs.
    const narrowed = policy.replace(', {protocol: TCP, port: 7000, endPort: 7010}', '');
    for (let i = 0; i < 20; i++) apply(i % 2 === 0 ? narrowed : policy);
    apply(narrowed);
    await wait(500);
    const mid = echoes;
    expect(mid - before, 'echoes while the table was swapped 21 times').to.be.greaterThan(5);
    expect(connect(c.a, '10.97.2.2', 7005), 'range removed').to.equal(false);
    expect(connect(c.a, '10.97.2.2', 5432), 'kept').to.equal(true);
    // Remove the allowance of 5432 for web: new connections stop.
    apply(narrowed.replace('ports: [{protocol: TCP, port: 5432}]', 'ports: [{protocol: TCP, port: 5433}]'));
    expect(connect(c.a, '10.97.2.2', 5432), 'allowance removed').to.equal(false);
    expect(err).to.equal('');
    stream.kill();
  });

  it('removing the table restores open access', () => {
    apply(policy);
    expect(connect(c.a, '10.97.2.2', 9000)).to.equal(false);
    nft(renderPolicyRemove());
    programmed = undefined;
    expect(connect(c.a, '10.97.2.2', 9000)).to.equal(true);
    nft(renderPolicyRemove());
  });

  it('a difference leaves exactly the table a whole one would (40 seeded random changes of policies and endpoints)', () => {
    const inc = addNetns('pi');
    const whole = addNetns('pw');
    try {
      let seed = 18;
      const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
      const apps = ['web', 'db', 'batch', 'cache'];
      const rule = (): string => {
        const b = rnd(3);
        const peers = [`{selector: {app: ${apps[rnd(4)]!}}}`, `{cidr: 10.${b}.0.0/16, except: [10.${b}.${rnd(4)}.0/24]}`, '{cidr: fd00::/8}'];
        const from = rnd(4) === 0 ? '' : `[${peers.filter(() => rnd(2) === 0).join(', ') || peers[0]!}]`;
        const ports = [`{protocol: TCP, port: ${80 + rnd(3)}}`, `{protocol: UDP, port: 53}`, `{protocol: TCP, port: 8000, endPort: ${8000 + rnd(200)}}`];
        const p = rnd(3) === 0 ? '' : `[${ports.filter(() => rnd(2) === 0).join(', ') || ports[0]!}]`;
        return `{${[from ? `from: ${from}` : '', p ? `ports: ${p}` : ''].filter(Boolean).join(', ')}}`;
      };
      const randomPolicies = (): string => Array.from({ length: 1 + rnd(5) }, (_, i) => {
        const dir = ['ingress', 'egress'][rnd(2)]!;
        return `name: p${i}\nselector: {${rnd(5) === 0 ? '' : `app: ${apps[rnd(4)]!}`}}\n${dir}: [${rule().replace(/^\{from/, dir === 'egress' ? '{to' : '{from')}${rnd(2) === 0 ? `, ${rule().replace(/^\{from/, dir === 'egress' ? '{to' : '{from')}` : ''}]`;
      }).join('\n---\n');
      let eps: PolicyEndpoint[] = [];
      let yaml = randomPolicies();
      let prev: PolicyRuleset | undefined;
      const list = (ns: string): string => {
        const j = JSON.parse(nsRun(ns, 'nft', ['-j', 'list', 'table', 'inet', 'knit_policy'])) as { nftables: Array<Record<string, Record<string, unknown>>> };
        return j.nftables.map((o) => {
          const [kind, body] = Object.entries(o)[0]!;
          if (kind === 'metainfo') return '';
          const { handle, ...rest } = body;
          void handle;
          if (Array.isArray(rest.elem)) rest.elem = (rest.elem as unknown[]).map((e) => JSON.stringify(e)).sort();
          return `${kind} ${JSON.stringify(rest)}`;
        }).filter(Boolean).sort().join('\n');
      };
      let incrementalSteps = 0;
      for (let step = 0; step < 40; step++) {
        const what = rnd(4);
        if (what === 0) yaml = randomPolicies();
        else if (what === 1 || eps.length === 0) {
          const n = eps.length + 1 + step;
          eps = [...eps, { id: `e${n}`, network: 'default', labels: { app: apps[rnd(4)]! }, addresses: [`10.${rnd(3)}.${rnd(4)}.${n % 250 + 2}`, ...(rnd(2) === 0 ? [`fd00::${n.toString(16)}`] : [])] }];
        } else if (what === 2) eps = eps.filter((_, i) => i !== rnd(eps.length));
        else eps = eps.map((e, i) => (i === rnd(eps.length) ? { ...e, labels: { app: apps[rnd(4)]! } } : e));
        const next = policyRuleset([compileNetwork('default', parsePolicyFile(yaml), eps)]);
        const script = prev === undefined ? renderPolicyRuleset(next) : renderPolicyUpdate(prev, next);
        if (prev !== undefined && script !== '') incrementalSteps++;
        if (script !== '') nsRun(inc, 'nft', ['-f', '-'], script);
        nsRun(whole, 'nft', ['-f', '-'], renderPolicyRuleset(next));
        prev = next;
        expect(list(inc), `step ${step}: ${script}`).to.equal(list(whole));
      }
      expect(incrementalSteps, 'steps written as a difference').to.be.greaterThan(25);
    } finally {
      delNetns(inc);
      delNetns(whole);
    }
  });
});
