import { EtcdUnavailableError } from '../../agent/src/store/errors';
import { expect } from 'chai';
import type { EtcdNetworkStoreOptions } from '../../agent/src/cli/etcd-network-store';
import { runKnitctl } from '../../agent/src/cli/main';
import type { NetworkConfigStore, NetworkDetail } from '../../agent/src/cli/network';
import { ConflictError } from '../../agent/src/store/errors';
import { freeVni, networkConflict, type NamedNetwork } from '../../agent/src/store/named-networks';
import type { NetworkConfig } from '../../agent/src/store/network-config';

/** In-memory etcd stand-in; conflicts are decided by the store's real networkConflict rules. */
class FakeStore implements NetworkConfigStore {
  stored: unknown;
  closed = 0;
  named = new Map<string, NetworkConfig>();
  attached = new Map<string, Array<{ node: string; endpoints: number }>>();
  private all(): NamedNetwork[] {
    return [
      ...(this.stored !== undefined ? [{ name: 'default', config: this.stored as NetworkConfig }] : []),
      ...[...this.named.entries()].map(([name, config]) => ({ name, config })),
    ];
  }
  async list() {
    return { networks: this.all(), invalid: [] };
  }
  async freeVni(): Promise<number> {
    return freeVni(this.all());
  }
  async create(name: string, cfg: NetworkConfig, opts: { pickVni?: boolean } = {}): Promise<NetworkConfig> {
    const want = opts.pickVni && cfg.backend.type === 'vxlan' ? { ...cfg, backend: { ...cfg.backend, vni: freeVni(this.all()) } } : cfg;
    const c = networkConflict(name, want, this.all());
    if (c) throw new ConflictError(`create network ${name}: ${c}`);
    this.named.set(name, want);
    return want;
  }
  async remove(name: string): Promise<boolean> {
    const a = this.attached.get(name) ?? [];
    if (a.length > 0) throw new ConflictError(`network ${name} still has endpoints on ${a.map((x) => `${x.node} (${x.endpoints})`).join(', ')}; detach them first`);
    return this.named.delete(name);
  }
  async inspect(name: string): Promise<NetworkDetail | undefined> {
    const config = this.named.get(name);
    return config && { name, config, subnets: [{ subnet: '10.50.1.0/24', node: 'n1', publicIp: '192.0.2.1' }], attached: this.attached.get(name) ?? [] };
  }
  async get(): Promise<unknown> {
    return this.stored;
  }
  async init(cfg: unknown): Promise<'created' | 'exists'> {
    if (this.stored !== undefined) return 'exists';
    this.stored = cfg;
    return 'created';
  }
  close(): void {
    this.closed += 1;
  }
}

function run(argv: string[], store: FakeStore, files: Record<string, string> = {}): Promise<{ code: number; out: string; err: string; opts?: EtcdNetworkStoreOptions }> {
  let out = '';
  let err = '';
  let opts: EtcdNetworkStoreOptions | undefined;
  return runKnitctl(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { KNIT_ETCD_ENDPOINTS: 'http://127.0.0.1:2379' },
    readFile: (p) => {
      if (!(p in files)) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
      return Buffer.from(files[p]);
    },
    readStdin: async () => files['-'] ?? '',
    networkStore: (o) => {
      opts = o;
      return store;
    },
  }).then((code) => ({ code, out, err, opts }));
}

describe('knitctl network show/init (fake etcd store)', () => {
  it('show exits 1 with advice when nothing is stored', async () => {
    const r = await run(['network', 'show'], new FakeStore());
    expect(r.code).to.equal(1);
    expect(r.err).to.include('no network config is stored in etcd yet; create one with "knitctl network init FILE"');
    expect(r.opts).to.deep.include({ endpoints: ['http://127.0.0.1:2379'], prefix: '/knit/v1' });
  });

  it('init validates, fills defaults, stores once; a second init exits 1 and writes nothing', async () => {
    const store = new FakeStore();
    const file = { '/cfg.json': JSON.stringify({ clusterCidr: '10.244.0.0/16', backend: { type: 'vxlan' } }) };
    const r = await run(['network', 'init', '/cfg.json', '--etcd-prefix', '/lab/v1/'], store, file);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.equal('network config stored: cluster 10.244.0.0/16, /24 per node, backend vxlan\n');
    expect(r.opts?.prefix).to.equal('/lab/v1');
    expect(store.stored).to.deep.include({ clusterCidr: '10.244.0.0/16', subnetLength: 24, masquerade: true });
    expect(store.closed).to.equal(1);
    const again = await run(['network', 'init', '/cfg.json'], store, { '/cfg.json': JSON.stringify({ clusterCidr: '10.9.0.0/16', backend: { type: 'host-gw' } }) });
    expect(again.code).to.equal(1);
    expect(again.err).to.include('already stored');
    expect(store.stored).to.deep.include({ clusterCidr: '10.244.0.0/16' });
    const shown = await run(['network', 'show', '-o', 'json'], store);
    expect(shown.code).to.equal(0);
    expect(JSON.parse(shown.out)).to.deep.equal(store.stored);
    const table = await run(['network', 'show', '-o', 'table'], store);
    expect(table.code).to.equal(0);
    const lines = table.out.trimEnd().split('\n');
    for (const re of [/^clusterCidr: +10\.244\.0\.0\/16$/, /^subnetLength: +24$/, /^masquerade: +yes$/, /^backend\.type: +vxlan$/]) {
      expect(lines.filter((l) => re.test(l)), `${re} in\n${table.out}`).to.have.length(1);
    }
    // aligned: every value starts in the same column
    expect(new Set(lines.map((l) => /^\S+: +/.exec(l)![0].length)).size).to.equal(1);
    expect((await run(['network', 'show'], store)).out, 'table is the default').to.equal(table.out);
  });

  it('init refuses an invalid config naming the field, before any write', async () => {
    const store = new FakeStore();
    const r = await run(['network', 'init', '-'], store, { '-': '{"clusterCidr":"10.244.0.0/16","backend":{"type":"vxlan","vni":0}}' });
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/invalid network config in stdin: .*backend\.vni/);
    expect(store.stored).to.equal(undefined);
    const notJson = await run(['network', 'init', '-'], store, { '-': 'clusterCidr: 10.0.0.0/8' });
    expect(notJson.code).to.equal(1);
    expect(notJson.err).to.include('stdin is not JSON');
  });

  it('a missing file or half a client key pair is a usage error (exit 2)', async () => {
    expect((await run(['network', 'init', '/nope.json'], new FakeStore())).code).to.equal(2);
    const r = await run(['network', 'show', '--etcd-cert', '/c.pem'], new FakeStore(), { '/c.pem': 'x' });
    expect(r.code).to.equal(2);
    expect(r.err).to.include('--etcd-cert and --etcd-key go together');
  });

  it('an unreachable etcd exits 3', async () => {
    const store = new FakeStore();
    store.get = async () => {
      throw new EtcdUnavailableError('etcd unavailable: connect ECONNREFUSED');
    };
    const r = await run(['network', 'show'], store);
    expect(r.code).to.equal(3);
    expect(r.err).to.include('cannot reach etcd at http://127.0.0.1:2379');
  });
});

describe('knitctl network create/ls/inspect/rm (fake etcd store)', () => {
  const dflt = { clusterCidr: '10.244.0.0/16', subnetLength: 24, subnetMin: '10.244.0.0/24', subnetMax: '10.244.255.0/24', backend: { type: 'vxlan', vni: 1, port: 8472, directRouting: false, disableTxChecksumOffload: false }, masquerade: true };

  it('create validates the flags, picks a free VNI, and refuses overlaps and taken names', async () => {
    const store = new FakeStore();
    store.stored = dflt;
    const r = await run(['network', 'create', 'blue', '--cidr', '10.50.0.0/16', '--subnet-length', '26'], store);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.equal('network blue created: 10.50.0.0/16, /26 per node, backend vxlan (VNI 2)\n');
    expect(store.named.get('blue')).to.deep.include({ clusterCidr: '10.50.0.0/16', subnetLength: 26, masquerade: true });
    const overlap = await run(['network', 'create', 'red', '--cidr', '10.244.128.0/17'], store);
    expect(overlap.code).to.equal(1);
    expect(overlap.err).to.include('overlaps network default (10.244.0.0/16)');
    const taken = await run(['network', 'create', 'blue', '--cidr', '10.60.0.0/16'], store);
    expect(taken.err).to.include('network blue already exists');
    const vni = await run(['network', 'create', 'red', '--cidr', '10.60.0.0/16', '--vni', '2'], store);
    expect(vni.err).to.include('VXLAN VNI 2 is used by network blue');
    const internal = await run(['network', 'create', 'red', '--cidr', '10.60.0.0/16', '--internal', '--backend', 'host-gw'], store);
    expect(internal.code, internal.err).to.equal(0);
    expect(store.named.get('red')).to.deep.include({ internal: true, masquerade: false, backend: { type: 'host-gw' } });
    const noCidr = await run(['network', 'create', 'green'], store);
    expect(noCidr.code).to.equal(1);
    expect(noCidr.err).to.include('--cidr');
  });

  it('ls -o json lists every network with its name under "name"; inspect and rm', async () => {
    const store = new FakeStore();
    store.stored = dflt;
    await run(['network', 'create', 'blue', '--cidr', '10.50.0.0/16'], store);
    const ls = await run(['network', 'ls', '-o', 'json'], store);
    const list = JSON.parse(ls.out) as Array<{ name: string; clusterCidr: string }>;
    expect(list.map((n) => [n.name, n.clusterCidr])).to.deep.equal([['default', '10.244.0.0/16'], ['blue', '10.50.0.0/16']]);
    const table = await run(['network', 'ls'], store);
    expect(table.out).to.match(/^NAME\s+CIDR/);
    expect(table.out).to.match(/blue\s+10\.50\.0\.0\/16\s+\/24\s+vxlan \(VNI 2\)/);
    const insp = await run(['network', 'inspect', 'blue'], store);
    expect(insp.out).to.include('CIDR:        10.50.0.0/16 (/24 per node)');
    expect(insp.out).to.match(/10\.50\.1\.0\/24\s+n1\s+192\.0\.2\.1/);
    store.attached.set('blue', [{ node: 'n2', endpoints: 3 }]);
    const refused = await run(['network', 'rm', 'blue'], store);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.include('still has endpoints on n2 (3)');
    store.attached.delete('blue');
    const rm = await run(['network', 'rm', 'blue'], store);
    expect(rm.code, rm.err).to.equal(0);
    expect((await run(['network', 'rm', 'blue'], store)).err).to.include('no network named blue');
    expect((await run(['network', 'inspect', 'blue'], store)).code).to.equal(1);
  });

  it('IPv6: --ipv6-cidr makes a dual-stack network, an IPv6 --cidr an IPv6-only one; overlaps are refused per family; ls and inspect show both families', async () => {
    const store = new FakeStore();
    store.stored = dflt;
    const dual = await run(['network', 'create', 'dual', '--cidr', '10.80.0.0/16', '--ipv6-cidr', 'fd00:80::/56', '--ipv6-subnet-length', '80'], store);
    expect(dual.code, dual.err).to.equal(0);
    expect(dual.out).to.equal('network dual created: 10.80.0.0/16, /24 per node, IPv6 fd00:80::/56, /80 per node, backend vxlan (VNI 2)\n');
    expect(store.named.get('dual')).to.deep.include({ clusterCidr: '10.80.0.0/16', ipv6ClusterCidr: 'fd00:80::/56', ipv6SubnetLength: 80, ipv6Masquerade: false });
    const six = await run(['network', 'create', 'six', '--cidr', 'fd00:90::/56', '--ipv6-masquerade', '--backend', 'host-gw'], store);
    expect(six.code, six.err).to.equal(0);
    expect(six.out).to.equal('network six created: fd00:90::/56, /64 per node, backend host-gw\n');
    expect(store.named.get('six')).to.deep.include({ clusterCidr: 'fd00:90::/56', subnetLength: 64, ipv6Masquerade: true });
    const cases: Array<{ argv: string[]; err: string }> = [
      { argv: ['--cidr', '10.81.0.0/16', '--ipv6-cidr', 'fd00:90::/48'], err: 'CIDR fd00:90::/48 overlaps network six (fd00:90::/56)' },
      { argv: ['--cidr', 'fd00:80:0:40::/58'], err: 'CIDR fd00:80:0:40::/58 overlaps network dual (fd00:80::/56)' },
      { argv: ['--cidr', '10.80.0.0/17', '--ipv6-cidr', 'fd00:82::/56'], err: 'CIDR 10.80.0.0/17 overlaps network dual (10.80.0.0/16)' },
      { argv: ['--cidr', 'fd00:83::/56', '--ipv6-cidr', 'fd00:84::/56'], err: 'ipv6ClusterCidr' },
      { argv: ['--cidr', '10.85.0.0/16', '--ipv6-cidr', '10.86.0.0/16'], err: 'must be an IPv6 CIDR' },
      { argv: ['--cidr', '10.85.0.0/16', '--ipv6-subnet-length', '64'], err: 'needs ipv6ClusterCidr' },
      { argv: ['--cidr', '10.85.0.0/16', '--ipv6-cidr', 'fd00:85::/56', '--ipv6-subnet-length', 'x'], err: '--ipv6-subnet-length' },
      { argv: ['--cidr', 'fd00:85::/56', '--internal', '--ipv6-masquerade'], err: 'ipv6Masquerade' },
      { argv: ['--cidr', '10.85.0.0/16', '--ipv6-masquerade'], err: 'needs IPv6' },
    ];
    for (const tc of cases) {
      const r = await run(['network', 'create', 'bad', ...tc.argv], store);
      expect(r.code, tc.argv.join(' ')).to.equal(1);
      expect(r.err, tc.argv.join(' ')).to.include(tc.err);
    }
    expect(store.named.has('bad')).to.equal(false);
    // An IPv4-only and an IPv6-only network never overlap.
    expect((await run(['network', 'create', 'four', '--cidr', '10.90.0.0/16'], store)).code).to.equal(0);
    const table = await run(['network', 'ls'], store);
    expect(table.out).to.match(/dual\s+10\.80\.0\.0\/16,fd00:80::\/56\s+\/24,\/80\s+vxlan \(VNI 2\)\s+IPv4 yes, IPv6 no\s+no/);
    expect(table.out).to.match(/six\s+fd00:90::\/56\s+\/64\s+host-gw\s+IPv6 yes\s+no/);
    expect(table.out).to.match(/four\s+10\.90\.0\.0\/16\s+\/24\s+vxlan \(VNI 3\)\s+yes\s+no/);
    const insp = await run(['network', 'inspect', 'dual'], store);
    expect(insp.out).to.include('CIDR:        10.80.0.0/16 (/24 per node), fd00:80::/56 (/80 per node)');
    expect(insp.out).to.include('Masquerade:  IPv4 yes, IPv6 no');
  });

  it('--help of network create documents the IPv6 flags', async () => {
    const r = await run(['network', 'create', '--help'], new FakeStore());
    for (const flag of ['--ipv6-cidr', '--ipv6-subnet-length', '--ipv6-masquerade']) expect(r.out).to.include(flag);
    expect(r.out).to.include('IPv6-only: --cidr fd00:50::/56');
  });
});
