/**
 * The labs of the cluster-dataplane bench, apart from its measuring loop so
 * other tools (dataplane-lab-hold.ts: keep the labs up and compare them) build
 * exactly what the bench measures:
 *   - knitLab: etcd + one knitd per node in cluster mode, one container per
 *     node attached with the real `knit` plugin;
 *   - handLab: the same subnets, MTUs and addresses made with `ip` commands,
 *     optionally with knit's nftables table copied in, or the "floor" table.
 * See cluster-dataplane.ts for what each lab stands for.
 */
import { execFile } from 'node:child_process';
import { createLab, type Lab, type LabContainer } from '../lab/lab';
import { startKnitd, type Knitd } from '../lab/knitd';
import { IPERF_PORT, SOCKPERF_PORT } from './cluster-common';

/** What a set of labs shares: the address family, and every lab and knitd made (for teardown). */
export interface LabSet {
  v6: boolean;
  verbose: boolean;
  labs: Lab[];
  knitds: Knitd[];
}

export function networkCidr(ctx: Pick<LabSet, 'v6'>): string {
  return ctx.v6 ? 'fd00:10:244::/56' : '10.244.0.0/16';
}

export function subnetLength(ctx: Pick<LabSet, 'v6'>): number {
  return ctx.v6 ? 64 : 24;
}

/** Destroy every knitd, then tear down every lab of `ctx`. */
export async function destroyLabs(ctx: LabSet): Promise<void> {
  for (const k of ctx.knitds) await k.destroy();
  for (const lab of ctx.labs) await lab.teardown();
}

/** What the hand build copies from knit's lab. */
export interface Mirror {
  subnets: [string, string];
  containerMtu: number;
  bridgeMtu: number;
  vxlanMtu?: number;
  /** `nft list table ip knit` of each knit node (the hand+nft variant loads it) */
  nftTables: [string, string];
}

async function ipJson<T>(lab: Lab, ns: string, args: string[]): Promise<T> {
  return JSON.parse(await lab.exec(ns, 'ip', ['-j', ...args]) || '[]') as T;
}

async function mtuOf(lab: Lab, ns: string, dev: string): Promise<number> {
  const [l] = await ipJson<Array<{ mtu: number }>>(lab, ns, ['link', 'show', 'dev', dev]);
  if (!l) throw new Error(`no link ${dev} in ${ns}`);
  return l.mtu;
}

export async function knitLab(ctx: LabSet, backend: 'vxlan' | 'host-gw'): Promise<{ lab: Lab; containers: LabContainer[]; ips: string[]; mirror: Mirror }> {
  const lab = await createLab({ nodes: 2, etcd: true, ipv6: ctx.v6 });
  ctx.labs.push(lab);
  const network = { clusterCidr: networkCidr(ctx), subnetLength: subnetLength(ctx), backend: { type: backend } };
  const ks: Knitd[] = [];
  for (const node of lab.nodes) {
    const k = await startKnitd(lab, node, { cluster: { etcdEndpoints: lab.etcdEndpoints, network } });
    ctx.knitds.push(k);
    ks.push(k);
  }
  const containers: LabContainer[] = [];
  const ips: string[] = [];
  for (let n = 0; n < 2; n++) {
    const c = lab.addContainer(n, 'bench');
    const r = await ks[n]!.cni('ADD', { CNI_CONTAINERID: c.containerId, CNI_NETNS: c.netnsPath, CNI_IFNAME: 'eth0' }, ks[n]!.conf('1.0.0'));
    if (r.code !== 0) throw new Error(`knit ADD on node ${n + 1} (${backend}): ${r.stdout} ${r.stderr}`);
    const ip = (r.json as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]!;
    containers.push(c);
    ips.push(ip);
  }
  const mirror: Mirror = {
    subnets: [ks[0]!.subnet, ks[1]!.subnet],
    containerMtu: await mtuOf(lab, containers[0]!.ns, 'eth0'),
    bridgeMtu: await mtuOf(lab, lab.nodes[0]!.ns, ks[0]!.bridge),
    ...(backend === 'vxlan' ? { vxlanMtu: await mtuOf(lab, lab.nodes[0]!.ns, 'knit.1') } : {}),
    nftTables: ctx.v6 ? ['', ''] : [
      await lab.exec(lab.nodes[0]!.ns, 'nft', ['list', 'table', 'ip', 'knit']),
      await lab.exec(lab.nodes[1]!.ns, 'nft', ['list', 'table', 'ip', 'knit']),
    ],
  };
  if (ctx.verbose) {
    console.log(`knit ${backend} lab, node 1:`);
    console.log(await lab.exec(lab.nodes[0]!.ns, 'ip', ['-d', 'link', 'show']));
    console.log(await lab.exec(lab.nodes[0]!.ns, 'ip', ['route', 'show']));
  }
  return { lab, containers, ips, mirror };
}

/** The i-th address of a /24 subnet "a.b.c.0/24", or of an IPv6 /64 "p::/64" (i < 65536). */
export function host(ctx: Pick<LabSet, 'v6'>, subnet: string, i: number): string {
  const net = subnet.split('/')[0]!;
  if (ctx.v6) return i === 0 ? net : `${net}${i.toString(16)}`;
  return `${net.split('.').slice(0, 3).join('.')}.${i}`;
}

/**
 * A hand-built table on top of the hand-built lab:
 *   - 'floor': the least any masquerading table with notrack costs: a nat
 *     chain with one masquerade rule for traffic leaving the cluster CIDR and
 *     one raw rule `ip saddr CIDR ip daddr CIDR notrack`. The masquerade rule
 *     matters: an empty nat chain registers the NAT hooks but does not turn
 *     conntrack on (its expressions do), so before stop 31 this "floor" was
 *     a namespace without connection tracking. knit's own VXLAN packets stay
 *     tracked here (untracking them is knit's optimisation, not the floor's);
 *   - 'stateful': the least any stateful filter costs (network policy's
 *     floor): the same nat chain, no notrack, and a forward chain that lets
 *     pod-to-pod traffic through by conntrack state (established, or new to
 *     the bench's ports or ICMP) and drops the rest of it.
 */
export type HandTable = 'none' | 'floor' | 'stateful';

/** The same topology by hand; returns the two container namespaces and IPs. */
export async function handLab(ctx: LabSet, backend: 'vxlan' | 'host-gw', m: Mirror, withNft: boolean, table: HandTable = 'none'): Promise<{ lab: Lab; containers: LabContainer[]; ips: string[] }> {
  const lab = await createLab({ nodes: 2, ipv6: ctx.v6 });
  ctx.labs.push(lab);
  const nodeIp = (n: number): string => (ctx.v6 ? lab.nodes[n]!.underlayIp6! : lab.nodes[n]!.underlayIp);
  const nodad = ctx.v6 ? ' nodad' : '';
  const br = `${lab.prefix}br`;
  const vx = `${lab.prefix}vx`;
  const macs = ['0e:aa:00:00:00:01', '0e:aa:00:00:00:02'];
  const containers: LabContainer[] = [];
  const ips: string[] = [];
  for (let n = 0; n < 2; n++) {
    const node = lab.nodes[n]!;
    const sub = m.subnets[n]!;
    const c = lab.addContainer(n, 'hand');
    const veth = `${lab.prefix}h${n}`;
    const lines = [
      `link add ${br} type bridge`,
      `link set ${br} mtu ${m.bridgeMtu} up`,
      `addr add ${host(ctx, sub, 1)}/${subnetLength(ctx)} dev ${br}${nodad}`,
      `link add ${veth} mtu ${m.containerMtu} type veth peer name eth0 netns ${c.ns}`,
      `link set ${veth} master ${br} up`,
    ];
    if (backend === 'vxlan') {
      lines.push(
        `link add ${vx} type vxlan id 1 dstport 8472 local ${nodeIp(n)} dev ${node.dev} nolearning`,
        `link set ${vx} address ${macs[n]} mtu ${m.vxlanMtu ?? 1450} up`,
        // (knit puts no address on an IPv6-only VXLAN device)
        ...(ctx.v6 ? [] : [`addr add ${host(ctx, sub, 0)}/32 dev ${vx}`]),
      );
    }
    await execBatch(node.ns, lines);
    await lab.exec(node.ns, 'sysctl', ['-qw', ctx.v6 ? 'net.ipv6.conf.all.forwarding=1' : 'net.ipv4.ip_forward=1']);
    if (withNft) await runStdin('ip', ['netns', 'exec', node.ns, 'nft', '-f', '-'], m.nftTables[n]!);
    const masquerade = `  chain post { type nat hook postrouting priority srcnat; policy accept; ip saddr ${networkCidr(ctx)} ip daddr != ${networkCidr(ctx)} masquerade; }`;
    if (table === 'floor') {
      await runStdin('ip', ['netns', 'exec', node.ns, 'nft', '-f', '-'], [
        'table ip bench_floor {',
        '  chain raw { type filter hook prerouting priority raw; policy accept;',
        `    ip saddr ${networkCidr(ctx)} ip daddr ${networkCidr(ctx)} notrack`,
        '  }',
        masquerade,
        '}', ''].join('\n'));
    }
    if (table === 'stateful') {
      const pods = `ip saddr ${networkCidr(ctx)} ip daddr ${networkCidr(ctx)}`;
      await runStdin('ip', ['netns', 'exec', node.ns, 'nft', '-f', '-'], [
        'table ip bench_stateful {',
        masquerade,
        '  chain pods { type filter hook forward priority filter; policy accept;',
        `    ${pods} ct state established,related accept`,
        `    ${pods} ct state new tcp dport { ${IPERF_PORT}, ${SOCKPERF_PORT} } accept`,
        `    ${pods} ct state new meta l4proto icmp accept`,
        `    ${pods} drop`,
        '  }',
        '}', ''].join('\n'));
    }
    await execBatch(c.ns, [
      'link set lo up', `link set eth0 mtu ${m.containerMtu} up`, `addr add ${host(ctx, sub, 2)}/${subnetLength(ctx)} dev eth0${nodad}`,
      `route add ${ctx.v6 ? '::/0' : 'default'} via ${host(ctx, sub, 1)}`,
    ]);
    containers.push(c);
    ips.push(host(ctx, sub, 2));
  }
  for (let n = 0; n < 2; n++) {
    const node = lab.nodes[n]!;
    const peer = 1 - n;
    const psub = m.subnets[peer]!;
    if (backend === 'vxlan') {
      await execBatch(node.ns, [
        `neigh replace ${host(ctx, psub, 0)} lladdr ${macs[peer]} dev ${vx} nud permanent`,
        `route replace ${psub} via ${host(ctx, psub, 0)} dev ${vx} onlink`,
      ]);
      await lab.exec(node.ns, 'bridge', ['fdb', 'append', macs[peer]!, 'dst', nodeIp(peer), 'dev', vx, 'self', 'permanent']);
    } else {
      await execBatch(node.ns, [`route replace ${psub} via ${nodeIp(peer)} dev ${node.dev}`]);
    }
  }
  if (ctx.verbose) {
    console.log(`hand-built ${backend} lab, node 1:`);
    console.log(await lab.exec(lab.nodes[0]!.ns, 'ip', ['-d', 'link', 'show']));
    console.log(await lab.exec(lab.nodes[0]!.ns, 'ip', ['route', 'show']));
  }
  return { lab, containers, ips };
}

/** `ip -n NS -batch -` with `lines` on stdin. */
export async function execBatch(ns: string, lines: string[]): Promise<void> {
  await runStdin('ip', ['-n', ns, '-batch', '-'], `${lines.join('\n')}\n`);
}

export async function runStdin(cmd: string, args: string[], input: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile(cmd, args, (err, _out, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr}\n${input}`, { cause: err }));
      else resolve();
    });
    child.stdin?.end(input);
  });
}
