import { expect } from 'chai';
import { FIELDS, KnitdConfig, loadConfig } from '../../agent/src/config';

/** Builds loadConfig input; `files` maps paths to contents. Single-node subnet given by default so only the topic varies. */
function load(opts: { argv?: string[]; env?: Record<string, string>; files?: Record<string, string>; hostname?: string }): KnitdConfig {
  const files = opts.files ?? {};
  return loadConfig({
    argv: opts.argv ?? [],
    env: { KNIT_SUBNET: '10.244.1.0/24', ...opts.env },
    readFile: (p) => {
      if (!(p in files)) throw Object.assign(new Error(`ENOENT: no such file '${p}'`), { code: 'ENOENT' });
      return files[p];
    },
    hostname: opts.hostname ?? 'Node-A',
  });
}

describe('config: defaults', () => {
  it('gives the documented defaults', () => {
    expect(load({})).to.deep.equal({
      nodeName: 'node-a',
      stateDir: '/var/lib/knit',
      runDir: '/run/knit',
      cniSocket: '/run/knit/cni.sock',
      cniConfDir: '/etc/cni/net.d',
      cniConfFile: '10-knit.conflist',
      cniNetworkName: 'knit',
      cniMaxConnections: 512,
      cniIdleTimeoutSeconds: 10,
      cniReapIntervalSeconds: 60,
      bridge: 'knit0',
      subnet: '10.244.1.0/24',
      etcd: { endpoints: [], prefix: '/knit/v1', leaseTtlSeconds: 86400, livenessTtlSeconds: 10, releaseOnShutdown: false },
      bgp: {},
      grpc: { socket: '/run/knit/knitd.sock', insecure: false },
      metrics: { address: '127.0.0.1:9654' },
      docker: { enabled: false, pluginSocket: '/run/docker/plugins/knit.sock', apiSocket: '/run/docker.sock' },
      log: { level: 'info', format: 'json' },
      nft: 'library',
      masquerade: true,
      reconcileIntervalSeconds: 10,
    });
  });

  const derivedCases: Array<{ name: string; argv?: string[]; env?: Record<string, string>; files?: Record<string, string> }> = [
    { name: 'a runDir flag', argv: ['--run-dir', '/run/knit-a'] },
    { name: 'a runDir env var', env: { KNIT_RUN_DIR: '/run/knit-a' } },
    { name: 'a runDir in the file', env: { KNIT_CONFIG: '/etc/k.yaml' }, files: { '/etc/k.yaml': 'runDir: /run/knit-a\n' } },
  ];
  for (const tc of derivedCases) {
    it(`derived defaults follow ${tc.name}`, () => {
      const config = load(tc);
      expect(config.cniSocket).to.equal('/run/knit-a/cni.sock');
      expect(config.grpc.socket).to.equal('/run/knit-a/knitd.sock');
    });
  }

  it('an explicit derived field wins over the derivation', () => {
    const config = load({ argv: ['--run-dir', '/run/x', '--cni-socket', '/tmp/c.sock'] });
    expect(config.cniSocket).to.equal('/tmp/c.sock');
    expect(config.grpc.socket).to.equal('/run/x/knitd.sock');
  });
});

describe('config: precedence flags > env > file > defaults', () => {
  const FILE = '/etc/knit/knitd.yaml';
  const file = 'nodeName: from-file\netcd:\n  prefix: /from/file\nmasquerade: false\nmtu: 1400\n';
  const cases: Array<{ name: string; argv: string[]; env: Record<string, string>; expected: Partial<Record<'nodeName' | 'prefix' | 'masquerade' | 'mtu', unknown>> }> = [
    { name: 'file over defaults', argv: [], env: {}, expected: { nodeName: 'from-file', prefix: '/from/file', masquerade: false, mtu: 1400 } },
    {
      name: 'env over file', argv: [],
      env: { KNIT_NODE_NAME: 'from-env', KNIT_ETCD_PREFIX: '/from/env', KNIT_MASQUERADE: '1', KNIT_MTU: '1450' },
      expected: { nodeName: 'from-env', prefix: '/from/env', masquerade: true, mtu: 1450 },
    },
    {
      name: 'flag over file', argv: ['--node-name', 'from-flag', '--etcd-prefix=/from/flag', '--masquerade', '--mtu', '9000'], env: {},
      expected: { nodeName: 'from-flag', prefix: '/from/flag', masquerade: true, mtu: 9000 },
    },
    {
      name: 'flag over env',
      argv: ['--node-name', 'from-flag', '--etcd-prefix=/from/flag', '--no-masquerade', '--mtu=1500'],
      env: { KNIT_NODE_NAME: 'from-env', KNIT_ETCD_PREFIX: '/from/env', KNIT_MASQUERADE: 'true', KNIT_MTU: '1450' },
      expected: { nodeName: 'from-flag', prefix: '/from/flag', masquerade: false, mtu: 1500 },
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const config = load({ argv: [...tc.argv, '--config', FILE], env: tc.env, files: { [FILE]: file } });
      expect({ nodeName: config.nodeName, prefix: config.etcd.prefix, masquerade: config.masquerade, mtu: config.mtu }).to.deep.equal(tc.expected);
      expect(config.configFile).to.equal(FILE);
    });
  }

  it('env over defaults without any file', () => {
    expect(load({ env: { KNIT_LOG_LEVEL: 'debug' } }).log.level).to.equal('debug');
  });

  it('--config wins over KNIT_CONFIG', () => {
    const config = load({
      argv: ['--config=/a.json'], env: { KNIT_CONFIG: '/b.json' },
      files: { '/a.json': '{"bridge": "from-a"}', '/b.json': '{"bridge": "from-b"}' },
    });
    expect(config.bridge).to.equal('from-a');
  });

  it('a list flag replaces the env list, and repeats and commas combine', () => {
    const config = load({
      argv: ['--etcd-endpoints', 'https://10.0.0.1:2379,https://10.0.0.2:2379', '--etcd-endpoints=http://e3:2379'],
      env: { KNIT_ETCD_ENDPOINTS: 'https://10.9.9.9:2379', KNIT_SUBNET: '' },
    });
    expect(config.etcd.endpoints).to.deep.equal(['https://10.0.0.1:2379', 'https://10.0.0.2:2379', 'http://e3:2379']);
  });
});

describe('config: parsing each source', () => {
  it('reads a JSON file with nested groups', () => {
    const json = JSON.stringify({
      nodeName: 'n1', subnet: null,
      etcd: { endpoints: ['https://10.0.0.1:2379'], certFile: '/c.pem', keyFile: '/k.pem', leaseTtlSeconds: 600 },
      network: { clusterCidr: '10.244.0.0/16', backend: { type: 'vxlan' } },
      grpc: { address: '0.0.0.0:50051', insecure: true },
      metrics: { address: '' },
    });
    const config = load({ argv: ['--config', '/k.json'], env: { KNIT_SUBNET: '' }, files: { '/k.json': json } });
    expect(config.etcd).to.deep.equal({ endpoints: ['https://10.0.0.1:2379'], prefix: '/knit/v1', certFile: '/c.pem', keyFile: '/k.pem', leaseTtlSeconds: 600, livenessTtlSeconds: 10, releaseOnShutdown: false });
    expect(config.network).to.deep.equal({ clusterCidr: '10.244.0.0/16', backend: { type: 'vxlan' } });
    expect(config.grpc).to.deep.equal({ socket: '/run/knit/knitd.sock', address: '0.0.0.0:50051', insecure: true });
    expect(config.metrics.address).to.equal('');
    expect(config.subnet).to.equal(undefined);
  });

  it('treats an empty YAML file and null values as unset', () => {
    expect(load({ argv: ['--config', '/e.yml'], files: { '/e.yml': '# nothing\n' } }).bridge).to.equal('knit0');
    expect(load({ argv: ['--config', '/n.yaml'], files: { '/n.yaml': 'publicIp:\netcd:\n' } }).publicIp).to.equal(undefined);
  });

  const booleanCases: Array<[string[], boolean]> = [
    [['--grpc-insecure'], true],
    [['--grpc-insecure', 'true'], true],
    [['--grpc-insecure', '0'], false],
    [['--grpc-insecure=1'], true],
    [['--grpc-insecure=false'], false],
    [['--no-grpc-insecure'], false],
  ];
  for (const [argv, expected] of booleanCases) {
    it(`boolean flag ${argv.join(' ')} → ${expected}`, () => {
      expect(load({ argv }).grpc.insecure).to.equal(expected);
    });
  }

  it('a bare boolean flag does not swallow the next flag', () => {
    const config = load({ argv: ['--masquerade', '--bridge', 'br9'] });
    expect(config.masquerade).to.equal(true);
    expect(config.bridge).to.equal('br9');
  });

  it('network as JSON in env', () => {
    expect(load({ env: { KNIT_NETWORK: '{"clusterCidr":"10.244.0.0/16"}' } }).network).to.deep.equal({ clusterCidr: '10.244.0.0/16' });
  });

  it('an IPv6 publicIp (the underlay of an IPv6-only cluster)', () => {
    expect(load({ argv: ['--public-ip', 'fd77::b'] }).publicIp).to.equal('fd77::b');
  });

  it('empty env vars count as unset, except metrics.address', () => {
    const config = load({ env: { KNIT_PUBLIC_IP: '', KNIT_BRIDGE: '', KNIT_METRICS_ADDRESS: '' } });
    expect(config.publicIp).to.equal(undefined);
    expect(config.bridge).to.equal('knit0');
    expect(config.metrics.address).to.equal('');
  });

  it('ignores --help when loading (main.ts handles it first)', () => {
    expect(load({ argv: ['--help'] }).bridge).to.equal('knit0');
  });

  it('every schema field can be set by its flag and reaches KnitdConfig', () => {
    const argv: string[] = [];
    const sample: Record<string, string> = {
      nodeName: 'n1', publicIp: '192.0.2.10', publicInterface: 'eth1', stateDir: '/s', runDir: '/r', cniSocket: '/r/c.sock',
      cniConfDir: '/cni', cniConfFile: '20-x.conflist', cniNetworkName: 'x', cniMaxConnections: '7', cniIdleTimeoutSeconds: '3', cniReapIntervalSeconds: '0', bridge: 'br1', mtu: '1400', subnet: '10.1.2.0/24', ipv6Subnet: 'fd00:1:2::/64',
      'etcd.endpoints': '', 'etcd.prefix': '/p', 'etcd.caFile': '/ca', 'etcd.certFile': '/c', 'etcd.keyFile': '/k', 'etcd.leaseTtlSeconds': '60', 'etcd.livenessTtlSeconds': '17', 'etcd.releaseOnShutdown': 'true',
      network: '{"a":1}', 'bgp.routerId': '198.51.100.7', 'grpc.socket': '/g.sock', 'grpc.address': '127.0.0.1:1', 'grpc.tlsCertFile': '/tc', 'grpc.tlsKeyFile': '/tk',
      'grpc.tlsClientCaFile': '/tca', 'grpc.insecure': 'false', 'metrics.address': ':1',
      'docker.enabled': 'true', 'docker.pluginSocket': '/d/knit.sock', 'docker.apiSocket': '/d/docker.sock', 'log.level': 'warn', 'log.format': 'text',
      nft: 'exec', masquerade: 'false', reconcileIntervalSeconds: '5',
    };
    for (const spec of FIELDS) {
      expect(sample, `sample value for ${spec.key}`).to.have.property(spec.key);
      argv.push(`--${spec.flag}=${sample[spec.key]}`);
    }
    const config = load({ argv });
    const flat = JSON.stringify(config);
    for (const [key, value] of Object.entries(sample)) {
      if (value === '' || value === 'false' || value === 'true' || value === '{"a":1}') continue;
      expect(flat, key).to.contain(JSON.stringify(/^[0-9]+$/.test(value) ? Number(value) : value));
    }
    expect(config.network).to.deep.equal({ a: 1 });
    expect(config.masquerade).to.equal(false);
    expect(config.etcd.releaseOnShutdown).to.equal(true);
    expect(config.docker.enabled).to.equal(true);
  });
});
