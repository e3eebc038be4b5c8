/**
 * NftTable in a lab namespace acting as a node: port mappings reached from
 * outside, from the node (its address and 127.0.0.1) and from a container on
 * the same bridge (hairpin); hostIp restriction; removal; outbound masquerade
 * that leaves container-to-container traffic alone. Every peer address is
 * reported by a tiny TCP server that writes the address it sees.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { NftTable, type NftDesiredState, type RouteLocalnetAccess } from '../../agent/src/dataplane/nft';
import { silentLogger } from '../../agent/src/log/logger';
import { addNetns, delNetns, nsRun, uniqueName } from '../lab/netns';

/** Answers every connection with the peer address it sees, then closes. */
const PEER_SERVER = `
const net = require('net');
const port = Number(process.argv[1]);
net.createServer((s) => s.end(s.remoteAddress + '\\n')).listen(port, '0.0.0.0', () => console.log('ready'));
`;

/** Prints what the server said, or ERR <code>, or TIMEOUT. */
const CLIENT = `
const net = require('net');
const [host, port] = [process.argv[1], Number(process.argv[2])];
let data = '';
const s = net.connect({ host, port });
const t = setTimeout(() => { console.log('TIMEOUT'); process.exit(0); }, 1500);
s.on('data', (d) => { data += d; });
s.on('end', () => { clearTimeout(t); console.log(data.trim()); });
s.on('error', (e) => { clearTimeout(t); console.log('ERR ' + e.code); });
`;

interface Lab {
  node: string;
  outside: string;
  c1: string;
  c2: string;
  c3: string;
  bridge: string;
  bridge2: string;
}

function addContainer(node: string, bridge: string, tag: string, cidr: string, gw: string): string {
  const ns = addNetns(tag);
  const host = uniqueName('h');
  nsRun(node, 'ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  nsRun(node, 'ip', ['link', 'set', host, 'master', bridge, 'up']);
  nsRun(ns, 'ip', ['addr', 'add', cidr, 'dev', 'eth0']);
  nsRun(ns, 'ip', ['link', 'set', 'eth0', 'up']);
  nsRun(ns, 'ip', ['route', 'add', 'default', 'via', gw]);
  return ns;
}

function addBridge(node: string, cidr: string): string {
  const br = uniqueName('br');
  nsRun(node, 'ip', ['link', 'add', br, 'type', 'bridge']);
  nsRun(node, 'ip', ['addr', 'add', cidr, 'dev', br]);
  nsRun(node, 'ip', ['link', 'set', br, 'up']);
  return br;
}

/** node: 192.168.77.1 towards outside, bridge 10.99.1.1/24 (c1 .2, c2 .3), bridge2 10.99.2.1/24 (c3 .2). */
function buildLab(): Lab {
  const node = addNetns('nd');
  const outside = addNetns('out');
  nsRun(node, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  nsRun(node, 'ip', ['link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside]);
  nsRun(node, 'ip', ['addr', 'add', '192.168.77.1/24', 'dev', 'up0']);
  nsRun(node, 'ip', ['link', 'set', 'up0', 'up']);
  nsRun(outside, 'ip', ['addr', 'add', '192.168.77.2/24', 'dev', 'eth0']);
  nsRun(outside, 'ip', ['link', 'set', 'eth0', 'up']);
  // The outside knows no route to the cluster: only masqueraded or DNATed traffic can work.
  const bridge = addBridge(node, '10.99.1.1/24');
  const bridge2 = addBridge(node, '10.99.2.1/24');
  const c1 = addContainer(node, bridge, 'ca', '10.99.1.2/24', '10.99.1.1');
  const c2 = addContainer(node, bridge, 'cb', '10.99.1.3/24', '10.99.1.1');
  const c3 = addContainer(node, bridge2, 'cc', '10.99.2.2/24', '10.99.2.1');
  return { node, outside, c1, c2, c3, bridge, bridge2 };
}

function startServer(ns: string, port: number, procs: ChildProcess[]): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns, 'node', '-e', PEER_SERVER, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`server in ${ns}:${port} exited ${code}: ${err}`)));
  });
}

function connect(ns: string, host: string, port: number): string {
  return nsRun(ns, 'node', ['-e', CLIENT, host, String(port)]).trim();
}

function sysctlInNs(ns: string): RouteLocalnetAccess {
  const path = (ifname: string): string => `/proc/sys/net/ipv4/conf/${ifname}/route_localnet`;
  return {
    read: async (ifname) => nsRun(ns, 'cat', [path(ifname)]).trim(),
    write: async (ifname, value) => {
      nsRun(ns, 'sh', ['-c', `echo ${value} > ${path(ifname)}`]);
    },
  };
}

describe('nft port mappings and masquerade in a lab node (root)', function () {
  this.timeout(60000);
  let lab: Lab;
  let table: NftTable;
  const procs: ChildProcess[] = [];

  before(async () => {
    lab = buildLab();
    table = new NftTable({
      nftCommand: ['ip', 'netns', 'exec', lab.node, 'nft'],
      conntrackCommand: ['ip', 'netns', 'exec', lab.node, 'conntrack'],
      routeLocalnet: sysctlInNs(lab.node),
      logger: silentLogger(),
    });
    // A table knit does not own: it must survive every apply and the remove.
    nsRun(lab.node, 'nft', ['add table ip other; add chain ip other keep { type filter hook forward priority 10; }']);
    await Promise.all([
      startServer(lab.c1, 80, procs), startServer(lab.c3, 80, procs), startServer(lab.outside, 7000, procs),
      // A service of the node's own, reachable through 127.0.0.1 (listening on every address).
      startServer(lab.node, 7100, procs),
    ]);
    // c2 plays the CVE-2020-8558 neighbour: it routes 127.0.0.1 to the node over the bridge
    // and accepts the 127.0.0.1-sourced answer.
    nsRun(lab.c2, 'ip', ['addr', 'flush', 'dev', 'lo']); // its own 127/8 routes go with the addresses
    nsRun(lab.c2, 'ip', ['route', 'add', '127.0.0.1/32', 'via', '10.99.1.1', 'dev', 'eth0']);
    nsRun(lab.c2, 'sysctl', ['-qw', 'net.ipv4.conf.eth0.route_localnet=1']);
  });

  after(async () => {
    for (const p of procs) if (p.exitCode === null && p.pid !== undefined) process.kill(p.pid);
    if (lab) for (const ns of [lab.c1, lab.c2, lab.c3, lab.outside, lab.node]) delNetns(ns);
  });

  const desired = (): NftDesiredState => ({
    masquerade: { clusterCidr: '10.99.0.0/16' },
    nodeSubnet: '10.99.1.0/24',
    bridge: lab.bridge,
    portMappings: [
      { id: 'c1/eth0', containerIp: '10.99.1.2', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { id: 'c1/eth0', containerIp: '10.99.1.2', hostPort: 9090, containerPort: 80, protocol: 'tcp', hostIp: '192.168.77.1' },
    ],
  });

  it('without mappings the host port is closed', () => {
    expect(connect(lab.outside, '192.168.77.1', 8080)).to.equal('ERR ECONNREFUSED');
  });

  it('applies the table and sets route_localnet on the bridge only', async () => {
    await table.apply(desired());
    expect(nsRun(lab.node, 'cat', [`/proc/sys/net/ipv4/conf/${lab.bridge}/route_localnet`]).trim()).to.equal('1');
    expect(nsRun(lab.node, 'cat', ['/proc/sys/net/ipv4/conf/up0/route_localnet']).trim()).to.equal('0');
    const objs = await table.list();
    expect(objs?.filter((o) => 'chain' in o).map((o) => o.chain.name)).to.have.members(['portmaps', 'prerouting', 'output', 'postrouting', 'input']);
  });

  it('reaches the container from another host, keeping the client address', () => {
    expect(connect(lab.outside, '192.168.77.1', 8080)).to.equal('192.168.77.2');
  });

  it('reaches the container from the node through its own address', () => {
    expect(connect(lab.node, '192.168.77.1', 8080)).to.equal('192.168.77.1');
  });

  it('reaches the container from the node through 127.0.0.1 (masqueraded to the bridge address)', () => {
    expect(connect(lab.node, '127.0.0.1', 8080)).to.equal('10.99.1.1');
  });

  it('keeps a neighbour on the bridge away from the node\'s 127.0.0.1 services while route_localnet is on (CVE-2020-8558)', async () => {
    expect(connect(lab.c2, '127.0.0.1', 7100)).to.equal('TIMEOUT');
    // Control: without knit's input chain the same probe reaches the service, so the TIMEOUT above is the guard's.
    nsRun(lab.node, 'nft', ['delete', 'chain', 'ip', 'knit', 'input']);
    try {
      expect(connect(lab.c2, '127.0.0.1', 7100)).to.equal('10.99.1.3');
    } finally {
      await table.apply(desired(), { force: true });
    }
    expect(connect(lab.c2, '127.0.0.1', 7100)).to.equal('TIMEOUT');
  });

  it('reaches the container from another container on the same bridge (hairpin)', () => {
    expect(connect(lab.c2, '192.168.77.1', 8080)).to.equal('10.99.1.1');
    expect(connect(lab.c2, '10.99.1.1', 8080)).to.equal('10.99.1.1');
  });

  it('reaches the container from itself through the mapping (hairpin to self)', () => {
    // Needs hairpin mode on the container's bridge port, which CNI ADD sets; the lab sets it here.
    const port = JSON.parse(nsRun(lab.node, 'ip', ['-j', 'link', 'show', 'master', lab.bridge])) as Array<{ ifname: string }>;
    for (const p of port) nsRun(lab.node, 'ip', ['link', 'set', p.ifname, 'type', 'bridge_slave', 'hairpin', 'on']);
    expect(connect(lab.c1, '192.168.77.1', 8080)).to.equal('10.99.1.1');
  });

  it('honours hostIp: the mapping answers on that address only', () => {
    expect(connect(lab.outside, '192.168.77.1', 9090)).to.equal('192.168.77.2');
    expect(connect(lab.c2, '10.99.1.1', 9090)).to.equal('ERR ECONNREFUSED');
  });

  it('masquerades container traffic leaving the cluster CIDR', () => {
    expect(connect(lab.c1, '192.168.77.2', 7000)).to.equal('192.168.77.1');
  });

  it('keeps the source of container-to-container traffic routed through the node', () => {
    expect(connect(lab.c1, '10.99.2.2', 80)).to.equal('10.99.1.2');
  });

  it('keeps the rule count constant as mappings grow', async () => {
    const count = async (): Promise<number> => ((await table.list()) ?? []).filter((o) => 'rule' in o).length;
    const before = await count();
    const many = desired();
    for (let i = 0; i < 200; i++) {
      many.portMappings.push({ id: `m${i}`, containerIp: '10.99.1.3', hostPort: 20000 + i, containerPort: 80, protocol: i % 2 ? 'udp' : 'tcp' });
    }
    await table.apply(many);
    expect(await count()).to.equal(before);
    const anyPorts = (await table.list())?.find((o) => o.map?.name === 'any_ports');
    expect((anyPorts?.map.elem as unknown[]).length).to.equal(201);
    expect(connect(lab.outside, '192.168.77.1', 8080)).to.equal('192.168.77.2');
  });

  it('closes the port again when the mapping is removed', async () => {
    await table.apply({ ...desired(), portMappings: [] });
    expect(connect(lab.outside, '192.168.77.1', 8080)).to.equal('ERR ECONNREFUSED');
    expect(connect(lab.node, '127.0.0.1', 8080)).to.equal('ERR ECONNREFUSED');
    // No loopback-reachable mapping left: route_localnet goes back off, and with it the guard
    // (one netfilter hook less for every packet the node receives); the neighbour stays out.
    expect(nsRun(lab.node, 'cat', [`/proc/sys/net/ipv4/conf/${lab.bridge}/route_localnet`]).trim()).to.equal('0');
    expect((await table.list())?.filter((o) => 'chain' in o).map((o) => o.chain.name)).to.not.include('input');
    expect(connect(lab.c2, '127.0.0.1', 7100)).to.equal('TIMEOUT');
    // Outbound NAT is still there.
    expect(connect(lab.c1, '192.168.77.2', 7000)).to.equal('192.168.77.1');
  });

  it('guards 127.0.0.0/8 whenever route_localnet is on, even when someone else turned it on', async () => {
    nsRun(lab.node, 'sysctl', ['-qw', `net.ipv4.conf.${lab.bridge}.route_localnet=1`]);
    try {
      await table.apply({ ...desired(), portMappings: [] });
      expect((await table.list())?.filter((o) => 'chain' in o).map((o) => o.chain.name)).to.include('input');
      expect(connect(lab.c2, '127.0.0.1', 7100)).to.equal('TIMEOUT');
    } finally {
      nsRun(lab.node, 'sysctl', ['-qw', `net.ipv4.conf.${lab.bridge}.route_localnet=0`]);
    }
  });

  it('guards 127.0.0.0/8 when route_localnet is on for all interfaces (the kernel ORs `all` with the bridge)', async () => {
    nsRun(lab.node, 'sysctl', ['-qw', 'net.ipv4.conf.all.route_localnet=1']);
    try {
      await table.apply({ ...desired(), portMappings: [] });
      expect(nsRun(lab.node, 'cat', [`/proc/sys/net/ipv4/conf/${lab.bridge}/route_localnet`]).trim()).to.equal('0');
      expect((await table.list())?.filter((o) => 'chain' in o).map((o) => o.chain.name)).to.include('input');
      expect(connect(lab.c2, '127.0.0.1', 7100)).to.equal('TIMEOUT');
      // Control: `all` alone lets the neighbour in once the guard is gone.
      nsRun(lab.node, 'nft', ['delete', 'chain', 'ip', 'knit', 'input']);
      expect(connect(lab.c2, '127.0.0.1', 7100)).to.equal('10.99.1.3');
    } finally {
      nsRun(lab.node, 'sysctl', ['-qw', 'net.ipv4.conf.all.route_localnet=0']);
      await table.apply({ ...desired(), portMappings: [] }, { force: true });
    }
  });

  it('remove() deletes only knit\'s table and tolerates its absence', async () => {
    await table.remove();
    await table.remove();
    expect(await table.list()).to.equal(null);
    expect(nsRun(lab.node, 'nft', ['list', 'tables'])).to.contain('table ip other');
    expect(connect(lab.c1, '192.168.77.2', 7000)).to.equal('TIMEOUT');
  });
});
