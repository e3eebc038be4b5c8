/**
 * A whole cluster on one machine, for integration and e2e tests:
 *
 *   underlay netns ── bridge ──┬── veth ── node 1 netns (eth0 .11, default via .1)
 *   (.1: router/outside,       ├── veth ── node 2 netns (eth0 .12)
 *    etcd)                     └── …
 *
 * plus container namespaces (no links: knit's CNI plugin attaches them) and
 * optionally a real etcd inside the underlay namespace. See underlay-plan.ts
 * for the address plan.
 *
 * Every name carries a per-lab prefix "t-<run>-L<n>-" (RUN_PREFIX from
 * netns.ts plus a lab number), so a test can check that nothing of its lab
 * survives teardown. Links are created inside the lab's namespaces (the veth
 * is made in the underlay namespace with its peer placed straight into the
 * node namespace), so nothing ever exists in the root namespace and deleting
 * the namespaces deletes every link.
 *
 * Every lab registers itself; `teardownAllLabs()` (mocha root hook afterAll)
 * tears down whatever a failed test left open.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { type EtcdProcess, startEtcd, startEtcdCluster } from './etcd';
import { RUN_PREFIX, addNetnsNamed, delNetns, netnsPath, nsRun } from './netns';
import { type LabProcess, type SpawnOptions, spawnTracked } from './procs';
import { DEFAULT_UNDERLAY_CIDR, type UnderlayPlan, planUnderlay } from './underlay-plan';

const execFileP = promisify(execFile);

/** Options of `createLab`. */
export interface LabOptions {
  nodes: number;
  /** Start etcd in the underlay namespace: true = one member on the router address, or 3 members on .2–.4. */
  etcd?: boolean | { members: 1 | 3 };
  /** Underlay range; default 192.168.77.0/24. */
  underlayCidr?: string;
  /**
   * Dual-stack underlay: also IPv6 on the underlay, fd77::1/64 on the router
   * and fd77::<10+i>/64 on node i (added with nodad: usable at once) with an
   * IPv6 default route via the router, IPv6 forwarding on the router.
   */
  ipv6?: boolean;
}

/** The IPv6 underlay prefix of a lab made with `ipv6: true`. */
export const LAB_UNDERLAY6 = 'fd77::/64';

/** One node of the lab. */
export interface LabNode {
  /** Node name for knit (node1, node2, …). */
  name: string;
  ns: string;
  netnsPath: string;
  underlayIp: string;
  /** The node's IPv6 underlay address (labs made with `ipv6: true`). */
  underlayIp6?: string;
  /** The node's underlay interface inside its namespace ("eth0"). */
  dev: string;
}

/** A container namespace, without links. */
export interface LabContainer {
  /** Namespace name. */
  name: string;
  ns: string;
  netnsPath: string;
  node: LabNode;
  tag: string;
  /** A unique container ID for CNI_CONTAINERID. */
  containerId: string;
}

/** Outcome of `lab.ping`. */
export interface PingResult {
  transmitted: number;
  received: number;
  output: string;
}

/** A namespace given by name, or any lab object that has one. */
export type NsRef = string | { ns: string };

/** A running lab. */
export interface Lab {
  /** Prefix of every namespace and link of this lab, e.g. "t-1a2b-L1-". */
  readonly prefix: string;
  readonly underlay: { ns: string; netnsPath: string; bridge: string; plan: UnderlayPlan };
  readonly nodes: LabNode[];
  /** Client URLs of the lab's etcd ([] without etcd). */
  readonly etcdEndpoints: string[];
  /** The etcd members (for finer control than stop/start). */
  readonly etcdMembers: EtcdProcess[];
  /** Make a container namespace on `node` (a LabNode or its index). */
  addContainer(node: LabNode | number, tag?: string): LabContainer;
  /** Delete a container namespace (tolerates "already gone"). */
  removeContainer(c: LabContainer): void;
  /** Start a long-running process inside `ns`; killed on teardown. */
  spawn(ns: NsRef, cmd: string, args: string[], opts?: Omit<SpawnOptions, 'ns'>): LabProcess;
  /** Run a command inside `ns` to completion; resolves with stdout, rejects with stderr and exit code. */
  exec(ns: NsRef, cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<string>;
  /** ping -c `count` from `fromNs`; never rejects on loss (check `received`). */
  ping(fromNs: NsRef, ip: string, count?: number): Promise<PingResult>;
  /** Pause etcd member `member` (all when omitted) with SIGSTOP: it holds its sockets but answers nothing. */
  stopEtcd(member?: number): Promise<void>;
  /** Undo `stopEtcd` (SIGCONT); a killed member is restarted from its data dir. */
  startEtcd(member?: number): Promise<void>;
  /** SIGKILL etcd member `i` (restart it with `startEtcd(i)`). */
  killEtcdMember(i: number): Promise<void>;
  /** Namespaces of this lab that still exist. */
  namespaces(): string[];
  /** Every PID this lab started (all spawned processes and all etcd incarnations). */
  pids(): number[];
  /** Kill every process, delete every namespace and temp dir. Idempotent. */
  teardown(): Promise<void>;
}

const openLabs = new Set<Lab>();
let labSeq = 0;

/** Tear down every lab still open (mocha root hook afterAll). */
export async function teardownAllLabs(): Promise<void> {
  for (const lab of [...openLabs]) await lab.teardown();
}

function nsName(ref: NsRef): string {
  return typeof ref === 'string' ? ref : ref.ns;
}

class LabImpl implements Lab {
  readonly nodes: LabNode[] = [];
  readonly etcdMembers: EtcdProcess[] = [];
  readonly underlay: { ns: string; netnsPath: string; bridge: string; plan: UnderlayPlan };
  private readonly nsMade: string[] = [];
  private readonly procs: LabProcess[] = [];
  private containerSeq = 0;
  private torn = false;

  constructor(readonly prefix: string, plan: UnderlayPlan) {
    const ns = this.addNs('ul');
    this.underlay = { ns, netnsPath: netnsPath(ns), bridge: this.name('br'), plan };
  }

  get etcdEndpoints(): string[] {
    return this.etcdMembers.flatMap((m) => m.endpoints);
  }

  /** A lab-prefixed name, checked against the 15-char limit of netns and interface names. */
  name(suffix: string): string {
    const n = `${this.prefix}${suffix}`;
    if (n.length > 15) throw new Error(`lab name ${n} longer than 15 chars`);
    return n;
  }

  addNs(suffix: string): string {
    const ns = addNetnsNamed(this.name(suffix));
    this.nsMade.push(ns);
    return ns;
  }

  /** Build the underlay bridge and the nodes; throws with the failing step. */
  build(nodes: number, etcdIps: string[], ipv6 = false): void {
    const { ns, bridge, plan } = this.underlay;
    const len = plan.prefixLen;
    const ipBatch = (target: string, lines: string[]): void => {
      nsRun(target, 'ip', ['-batch', '-'], `${lines.join('\n')}\n`);
    };
    const extraEtcd = etcdIps.filter((ip) => ip !== plan.routerIp).map((ip) => `addr add ${ip}/${len} dev ${bridge}`);
    // No MLD snooping on the underlay switch: with no querier on the segment a
    // node's solicited-node group can go unlearned, the first IPv6 neighbour
    // solicitation is dropped, and the retry comes a second later (IPv6 pings
    // across nodes failed in about 1 run in 4). A real snooping switch has a querier.
    ipBatch(ns, [
      `link add ${bridge} type bridge mcast_snooping 0`, `addr add ${plan.routerIp}/${len} dev ${bridge}`, ...extraEtcd, `link set ${bridge} up`,
      ...(ipv6 ? [`addr add fd77::1/64 dev ${bridge} nodad`] : []),
    ]);
    // The underlay plays the router between nodes and "outside".
    nsRun(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    if (ipv6) nsRun(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
    for (let i = 0; i < nodes; i++) {
      const nodeNs = this.addNs(`n${i + 1}`);
      const ul = this.name(`u${i + 1}`);
      const dev = 'eth0';
      ipBatch(ns, [`link add ${ul} type veth peer name ${dev} netns ${nodeNs}`, `link set ${ul} master ${bridge}`, `link set ${ul} up`]);
      const ip6 = ipv6 ? `fd77::${(10 + i + 1).toString(16)}` : undefined;
      // A node's underlay has been up for long on a real host. Here it comes up
      // a moment before the test: while its link-local address is tentative
      // (about 1-2 s of DAD), a neighbour solicitation for traffic the node
      // forwards goes out from :: (a DAD probe nobody answers), and the first
      // second of cross-node IPv6 is lost. No DAD on the lab's underlay links.
      if (ipv6) nsRun(nodeNs, 'sysctl', ['-qw', `net.ipv6.conf.${dev}.accept_dad=0`]);
      ipBatch(nodeNs, [
        `addr add ${plan.nodeIps[i]}/${len} dev ${dev}`, `link set ${dev} up`, `route add default via ${plan.routerIp}`,
        ...(ip6 ? [`addr add ${ip6}/64 dev ${dev} nodad`, 'route add ::/0 via fd77::1'] : []),
      ]);
      this.nodes.push({ name: `node${i + 1}`, ns: nodeNs, netnsPath: netnsPath(nodeNs), underlayIp: plan.nodeIps[i], dev, ...(ip6 ? { underlayIp6: ip6 } : {}) });
    }
  }

  async startEtcd(member?: number): Promise<void> {
    for (const m of this.pick(member)) {
      if (m.running()) m.resume();
      else await m.restart({ wait: false });
    }
  }

  async stopEtcd(member?: number): Promise<void> {
    for (const m of this.pick(member)) m.pause();
  }

  async killEtcdMember(i: number): Promise<void> {
    const [m] = this.pick(i);
    await m.kill();
  }

  private pick(member: number | undefined): EtcdProcess[] {
    if (member === undefined) return this.etcdMembers;
    const m = this.etcdMembers[member];
    if (!m) throw new Error(`lab ${this.prefix}: no etcd member ${member} (have ${this.etcdMembers.length})`);
    return [m];
  }

  addContainer(node: LabNode | number, tag = 'c'): LabContainer {
    const n = typeof node === 'number' ? this.nodes[node] : node;
    if (!n) throw new Error(`lab ${this.prefix}: no node ${String(node)}`);
    this.containerSeq += 1;
    const ns = this.addNs(`c${this.containerSeq}`);
    return { name: ns, ns, netnsPath: netnsPath(ns), node: n, tag, containerId: `${this.prefix}${tag}-${this.containerSeq}` };
  }

  removeContainer(c: LabContainer): void {
    delNetns(c.ns);
  }

  spawn(ns: NsRef, cmd: string, args: string[], opts: Omit<SpawnOptions, 'ns'> = {}): LabProcess {
    const p = spawnTracked(cmd, args, { ...opts, ns: nsName(ns) });
    this.procs.push(p);
    return p;
  }

  async exec(ns: NsRef, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
    const name = nsName(ns);
    try {
      const { stdout } = await execFileP('ip', ['netns', 'exec', name, cmd, ...args], {
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 30000,
        encoding: 'utf8',
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; code?: number | string };
      throw new Error(`in netns ${name}: ${cmd} ${args.join(' ')} failed (exit ${String(e.code)}): ${(e.stderr ?? '').trim()}`, { cause: err });
    }
  }

  async ping(fromNs: NsRef, ip: string, count = 3): Promise<PingResult> {
    const name = nsName(fromNs);
    let output = '';
    try {
      output = (await execFileP('ip', ['netns', 'exec', name, 'ping', '-n', '-q', '-c', String(count), '-i', '0.05', '-W', '1', ip],
        { encoding: 'utf8', timeout: 10000 + count * 1000 })).stdout;
    } catch (err) {
      // ping exits 1 when replies are missing: that is a result, not an error.
      output = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    }
    const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
    return { transmitted: m ? Number(m[1]) : 0, received: m ? Number(m[2]) : 0, output };
  }

  namespaces(): string[] {
    return this.nsMade.filter((ns) => nsExists(ns));
  }

  pids(): number[] {
    return [...this.procs.map((p) => p.pid), ...this.etcdMembers.flatMap((m) => m.pidHistory())];
  }

  async teardown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    try {
      await Promise.all(this.procs.map((p) => p.stop()));
      await Promise.all(this.etcdMembers.map((m) => m.destroy()));
    } finally {
      // Containers and nodes first, the underlay (bridge side of every veth) last.
      for (const ns of [...this.nsMade].reverse()) delNetns(ns);
      openLabs.delete(this);
    }
  }
}

function nsExists(ns: string): boolean {
  return existsSync(netnsPath(ns));
}

/** Build a lab: underlay, nodes, optionally etcd (healthy when this resolves). Undoes its work on failure. */
export async function createLab(opts: LabOptions): Promise<Lab> {
  const members = opts.etcd === undefined || opts.etcd === false ? 0 : opts.etcd === true ? 1 : opts.etcd.members;
  const plan = planUnderlay(opts.underlayCidr ?? DEFAULT_UNDERLAY_CIDR, opts.nodes, members);
  labSeq += 1;
  const lab = new LabImpl(`${RUN_PREFIX}-L${labSeq.toString(36)}-`, plan);
  openLabs.add(lab);
  try {
    lab.build(opts.nodes, plan.etcdIps, opts.ipv6 === true);
    if (members === 1) {
      lab.etcdMembers.push(await startEtcd({ ns: lab.underlay.ns, host: plan.routerIp, name: `${lab.prefix}etcd` }));
    } else if (members === 3) {
      const cluster = await startEtcdCluster(3, { ns: lab.underlay.ns, hosts: plan.etcdIps });
      lab.etcdMembers.push(...cluster.members);
    }
  } catch (err) {
    await lab.teardown();
    throw new Error(`create lab ${lab.prefix} (${opts.nodes} nodes, etcd members ${members})`, { cause: err });
  }
  return lab;
}
