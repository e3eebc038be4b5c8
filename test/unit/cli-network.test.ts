import { EtcdUnavailableError } from '../../agent/src/store/errors';
import { expect } from 'chai';
import type { EtcdNetworkStoreOptions } from '../../agent/src/cli/etcd-network-store';
import { runKnitctl } from '../../agent/src/cli/main';
import type { NetworkConfigStore } from '../../agent/src/cli/network';

class FakeStore implements NetworkConfigStore {
  stored: unknown;
  closed = 0;
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
