/**
 * Proof that the lab builds a working cluster on one machine and leaves
 * nothing behind: underlay reachability between all nodes, etcd reachable
 * from every node, container namespaces, an etcd cluster that survives the
 * loss of one member, and a teardown that removes every namespace, link and
 * process the lab made.
 */
import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcd, startEtcdCluster } from '../lab/etcd';
import { type Lab, createLab } from '../lab/lab';
import { run } from '../lab/netns';
import { pidExists } from '../lab/procs';
import { sweepStrays } from '../lab/sweep';

/** Namespaces whose name starts with `prefix`, read from the kernel's list. */
function namespacesWithPrefix(prefix: string): string[] {
  return readdirSync('/var/run/netns').filter((n) => n.startsWith(prefix));
}

/** Root-namespace links whose name starts with `prefix`. */
function rootLinksWithPrefix(prefix: string): string[] {
  return (JSON.parse(run('ip', ['-j', 'link', 'show']) || '[]') as Array<{ ifname: string }>)
    .map((l) => l.ifname)
    .filter((n) => n.startsWith(prefix));
}

const ETCDCTL_ENV = { ...process.env, ETCDCTL_API: '3' };

/**
 * Retry `fn` until it resolves or `ms` pass. Losing the leader costs an
 * election (about one election timeout, 1 s by default) during which etcd
 * answers "request timed out"; the cluster must recover within `ms`.
 */
async function within<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('lab: 3 nodes with etcd', function () {
  this.timeout(30000);
  let lab: Lab;

  before(async () => {
    lab = await createLab({ nodes: 3, etcd: true });
  });

  after(async () => {
    await lab?.teardown();
  });

  it('has three nodes with distinct underlay addresses and eth0', () => {
    expect(lab.nodes).to.have.length(3);
    expect(lab.nodes.map((n) => n.underlayIp)).to.deep.equal(['192.168.77.11', '192.168.77.12', '192.168.77.13']);
    for (const n of lab.nodes) {
      expect(n.dev).to.equal('eth0');
      expect(n.ns.startsWith(lab.prefix)).to.equal(true);
    }
  });

  it('lets every node ping every other node over the underlay', async () => {
    const pairs = lab.nodes.flatMap((a) => lab.nodes.filter((b) => b !== a).map((b) => [a, b] as const));
    expect(pairs).to.have.length(6);
    const results = await Promise.all(pairs.map(([a, b]) => lab.ping(a, b.underlayIp, 2)));
    results.forEach((r, i) => {
      expect(r.received, `${pairs[i][0].name} -> ${pairs[i][1].underlayIp}: ${r.output}`).to.equal(2);
    });
  });

  it('lets every node put and get keys in etcd', async () => {
    expect(lab.etcdEndpoints).to.deep.equal(['http://192.168.77.1:2379']);
    const ep = `--endpoints=${lab.etcdEndpoints.join(',')}`;
    for (const n of lab.nodes) {
      await lab.exec(n, 'etcdctl', [ep, 'put', `/lab-test/${n.name}`, n.underlayIp], { env: ETCDCTL_ENV });
    }
    for (const reader of lab.nodes) {
      for (const n of lab.nodes) {
        const v = await lab.exec(reader, 'etcdctl', [ep, 'get', `/lab-test/${n.name}`, '--print-value-only'], { env: ETCDCTL_ENV });
        expect(v.trim()).to.equal(n.underlayIp);
      }
    }
  });

  it('makes container namespaces without links', async () => {
    const c = lab.addContainer(0, 'web');
    expect(c.node).to.equal(lab.nodes[0]);
    expect(c.netnsPath).to.equal(`/var/run/netns/${c.ns}`);
    expect(c.ns.startsWith(lab.prefix)).to.equal(true);
    const links = JSON.parse(await lab.exec(c, 'ip', ['-j', 'link', 'show'])) as Array<{ ifname: string }>;
    expect(links.map((l) => l.ifname)).to.deep.equal(['lo']);
  });

  it('reports paused etcd as unreachable and resumed etcd as reachable', async () => {
    const ep = `--endpoints=${lab.etcdEndpoints.join(',')}`;
    await lab.stopEtcd();
    let failed = false;
    try {
      await lab.exec(lab.nodes[0], 'etcdctl', [ep, '--command-timeout=500ms', 'get', '/lab-test/node1'], { env: ETCDCTL_ENV });
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
    await lab.startEtcd();
    const v = await lab.exec(lab.nodes[0], 'etcdctl', [ep, 'get', '/lab-test/node1', '--print-value-only'], { env: ETCDCTL_ENV });
    expect(v.trim()).to.equal('192.168.77.11');
  });

  it('removes every namespace, link and process on teardown, and tolerates a second teardown', async () => {
    const sleeper = lab.spawn(lab.nodes[1], 'sleep', ['600']);
    expect(pidExists(sleeper.pid)).to.equal(true);
    const pids = lab.pids();
    expect(pids).to.include(sleeper.pid);
    expect(pids.length).to.be.at.least(2); // the sleeper and etcd
    expect(namespacesWithPrefix(lab.prefix).length).to.equal(5); // underlay, 3 nodes, 1 container
    await lab.teardown();
    await lab.teardown();
    expect(namespacesWithPrefix(lab.prefix)).to.deep.equal([]);
    expect(rootLinksWithPrefix(lab.prefix)).to.deep.equal([]);
    expect(lab.namespaces()).to.deep.equal([]);
    for (const pid of pids) expect(pidExists(pid), `pid ${pid}`).to.equal(false);
  });
});

describe('lab: 3-member etcd cluster', function () {
  this.timeout(30000);
  let lab: Lab;

  before(async () => {
    lab = await createLab({ nodes: 1, etcd: { members: 3 } });
  });

  after(async () => {
    await lab?.teardown();
  });

  it('serves put/get with one member stopped, and with it killed and restarted', async () => {
    expect(lab.etcdEndpoints).to.have.length(3);
    const node = lab.nodes[0];
    const ep = `--endpoints=${lab.etcdEndpoints.join(',')}`;
    await lab.exec(node, 'etcdctl', [ep, 'put', '/lab-test/a', '1'], { env: ETCDCTL_ENV });

    await lab.stopEtcd(0);
    await within(10000, () => lab.exec(node, 'etcdctl', [ep, '--command-timeout=1s', 'put', '/lab-test/b', '2'], { env: ETCDCTL_ENV }));
    const b = await lab.exec(node, 'etcdctl', [ep, 'get', '/lab-test/b', '--print-value-only'], { env: ETCDCTL_ENV });
    expect(b.trim()).to.equal('2');
    await lab.startEtcd(0);

    await lab.killEtcdMember(2);
    expect(lab.etcdMembers[2].running()).to.equal(false);
    await within(10000, () => lab.exec(node, 'etcdctl', [ep, '--command-timeout=1s', 'put', '/lab-test/c', '3'], { env: ETCDCTL_ENV }));
    await lab.startEtcd(2);
    await lab.etcdMembers[2].waitHealthy();
    // The restarted member kept its data dir: it serves what it missed and what it had.
    const only2 = `--endpoints=${lab.etcdEndpoints[2]}`;
    const got = await lab.exec(node, 'etcdctl', [only2, 'get', '/lab-test/', '--prefix', '--print-value-only'], { env: ETCDCTL_ENV });
    expect(got.trim().split('\n')).to.deep.equal(['1', '2', '3']);
  });
});

describe('lab: standalone etcd on loopback', function () {
  this.timeout(30000);

  it('runs on 127.0.0.1 with free ports, keeps data across restart, and is gone after destroy', async () => {
    const e = await startEtcd();
    try {
      expect(e.endpoints[0]).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const ep = `--endpoints=${e.endpoints.join(',')}`;
      run('etcdctl', [ep, 'put', 'k', 'v']);
      await e.restart();
      expect(e.pidHistory()).to.have.length(2);
      expect(run('etcdctl', [ep, 'get', 'k', '--print-value-only']).trim()).to.equal('v');
    } finally {
      await e.destroy();
    }
    for (const pid of e.pidHistory()) expect(pidExists(pid)).to.equal(false);
    expect(readdirSync(e.dataDir.replace(/\/[^/]+$/, ''))).to.not.include(e.dataDir.split('/').pop());
  });

  it('runs a 3-member cluster on loopback that keeps serving with one member killed', async () => {
    const c = await startEtcdCluster(3);
    try {
      expect(new Set(c.endpoints).size).to.equal(3);
      const ep = `--endpoints=${c.endpoints.join(',')}`;
      run('etcdctl', [ep, 'put', 'k', 'before']);
      await c.members[1].kill();
      await within(10000, async () => run('etcdctl', [ep, '--command-timeout=1s', 'put', 'k', 'after']));
      expect(run('etcdctl', [ep, 'get', 'k', '--print-value-only']).trim()).to.equal('after');
    } finally {
      await c.destroy();
    }
    for (const m of c.members) expect(pidExists(m.pid), m.name).to.equal(false);
  });
});

/**
 * True when `pid` has exited: gone, or a zombie. A process orphaned by a
 * crashed run is reaped by PID 1, which here does so only every few seconds;
 * a zombie runs no code and holds no socket, so it counts as dead.
 */
function exited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** What a child test process reports about the lab it built. */
interface ChildLab {
  prefix: string;
  pids: number[];
  namespaces: string[];
}

/**
 * Start a separate node process that installs the root hooks' handlers,
 * builds a one-node lab with etcd and idles: a stand-in for another test run.
 */
function childWithLab(): { child: ChildProcess; lab: Promise<ChildLab> } {
  const script = `
    const hooks = require(${JSON.stringify(join(__dirname, '../lab/root-hooks.js'))}).mochaHooks;
    const { createLab } = require(${JSON.stringify(join(__dirname, '../lab/lab.js'))});
    hooks.beforeAll();
    createLab({ nodes: 1, etcd: true }).then((lab) => {
      process.stdout.write(JSON.stringify({ prefix: lab.prefix, pids: lab.pids(), namespaces: lab.namespaces() }) + '\\n');
      setInterval(() => {}, 1000);
    }, (err) => { console.error(err); process.exit(2); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lab = new Promise<ChildLab>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out) as ChildLab);
    });
    child.once('exit', (code) => reject(new Error(`child lab exited early with ${code}`)));
  });
  return { child, lab };
}

describe('lab: cleanup after crashed and interrupted runs', function () {
  this.timeout(30000);
  const children: ChildProcess[] = [];

  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('sweeps a SIGKILLed run (namespaces and its etcd) but not a live one, which cleans up on SIGTERM', async () => {
    const crashed = childWithLab();
    const live = childWithLab();
    children.push(crashed.child, live.child);
    const [crashedLab, liveLab] = await Promise.all([crashed.lab, live.lab]);
    expect(crashedLab.namespaces).to.have.length(2); // underlay and one node
    expect(liveLab.namespaces).to.have.length(2);
    expect(crashedLab.pids).to.have.length(1); // its etcd

    const crashedExit = new Promise((r) => crashed.child.once('exit', r));
    crashed.child.kill('SIGKILL');
    await crashedExit;
    // A crash leaves everything behind: that is what the sweep is for.
    expect(pidExists(crashedLab.pids[0])).to.equal(true);
    expect(namespacesWithPrefix(crashedLab.prefix)).to.have.length(2);

    const report = sweepStrays();
    expect(report.namespaces).to.include.members(crashedLab.namespaces);
    expect(report.processes).to.include(crashedLab.pids[0]);
    expect(namespacesWithPrefix(crashedLab.prefix)).to.deep.equal([]);
    await within(5000, async () => {
      if (!exited(crashedLab.pids[0])) throw new Error(`etcd ${crashedLab.pids[0]} still alive`);
    });
    // The live run keeps everything.
    expect(namespacesWithPrefix(liveLab.prefix)).to.have.length(2);
    expect(pidExists(liveLab.pids[0])).to.equal(true);

    const liveExit = new Promise<number | null>((r) => live.child.once('exit', (code) => r(code)));
    live.child.kill('SIGTERM');
    expect(await liveExit).to.equal(130);
    expect(namespacesWithPrefix(liveLab.prefix)).to.deep.equal([]);
    await within(5000, async () => {
      if (!exited(liveLab.pids[0])) throw new Error(`etcd ${liveLab.pids[0]} still alive`);
    });
  });
});
