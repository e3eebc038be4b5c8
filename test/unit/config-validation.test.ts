import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../agent/src/config';
import { didYouMean } from '../../agent/src/config/errors';

interface Input {
  argv?: string[];
  env?: Record<string, string>;
  file?: { path: string; text: string };
  hostname?: string;
}

function attempt(input: Input): ConfigError {
  try {
    loadConfig({
      argv: input.argv ?? [],
      env: { KNIT_SUBNET: '10.244.1.0/24', ...input.env },
      readFile: (p) => {
        if (input.file !== undefined && p === input.file.path) return input.file.text;
        throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      },
      hostname: input.hostname ?? 'node-a',
    });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted the input');
}

const yaml = (text: string): Input => ({ argv: ['--config', '/etc/knit/knitd.yaml'], file: { path: '/etc/knit/knitd.yaml', text } });

interface Case {
  name: string;
  input: Input;
  field: string;
  source: 'flag' | 'env' | 'file' | 'default';
  value?: unknown;
  fragment: string;
}

const cases: Case[] = [
  // nodeName
  { name: 'upper-case node name', input: { argv: ['--node-name', 'Node_A'] }, field: 'nodeName', source: 'flag', value: 'Node_A', fragment: 'DNS-1123' },
  { name: 'node name too long', input: { env: { KNIT_NODE_NAME: 'a'.repeat(254) } }, field: 'nodeName', source: 'env', fragment: '1..253' },
  { name: 'unusable host name', input: { hostname: 'my_host' }, field: 'nodeName', source: 'default', value: 'my_host', fragment: 'set --node-name' },
  // addresses and names
  { name: 'public IP not IPv4', input: { env: { KNIT_PUBLIC_IP: '10.0.0.300' } }, field: 'publicIp', source: 'env', value: '10.0.0.300', fragment: 'IPv4' },
  { name: 'public IP loopback', input: { argv: ['--public-ip', '127.0.0.1'] }, field: 'publicIp', source: 'flag', fragment: 'unicast' },
  { name: 'public IP IPv6 loopback', input: { argv: ['--public-ip', '::1'] }, field: 'publicIp', source: 'flag', fragment: 'loopback' },
  { name: 'public IP IPv6 link-local', input: { argv: ['--public-ip', 'fe80::1'] }, field: 'publicIp', source: 'flag', fragment: 'link-local' },
  { name: 'public IP IPv6 not canonical', input: { argv: ['--public-ip', 'FD77:0::b'] }, field: 'publicIp', source: 'flag', fragment: 'canonical form (fd77::b)' },
  { name: 'public interface too long', input: yaml('publicInterface: averyveryverylongname\n'), field: 'publicInterface', source: 'file', fragment: '1..15' },
  { name: 'bridge name with slash', input: { argv: ['--bridge=a/b'] }, field: 'bridge', source: 'flag', fragment: '"/"' },
  { name: 'bridge name 16 characters', input: { env: { KNIT_BRIDGE: 'abcdefghijklmnop' } }, field: 'bridge', source: 'env', fragment: '1..15' },
  // paths
  { name: 'relative state dir', input: { argv: ['--state-dir', 'var/lib/knit'] }, field: 'stateDir', source: 'flag', fragment: 'absolute' },
  { name: 'socket path too long', input: { argv: ['--cni-socket', '/' + 'x'.repeat(120)] }, field: 'cniSocket', source: 'flag', fragment: '107 bytes' },
  { name: 'derived socket too long', input: { argv: ['--run-dir', '/' + 'r'.repeat(100)] }, field: 'cniSocket', source: 'default', fragment: '107 bytes' },
  { name: 'conflist name with a directory', input: { argv: ['--cni-conf-file', 'x/10-knit.conflist'] }, field: 'cniConfFile', source: 'flag', fragment: '.conflist' },
  { name: 'conflist name with wrong extension', input: yaml('cniConfFile: 10-knit.conf\n'), field: 'cniConfFile', source: 'file', fragment: '.conflist' },
  { name: 'bad CNI network name', input: { argv: ['--cni-network-name', '-knit'] }, field: 'cniNetworkName', source: 'flag', fragment: 'letter or digit' },
  // numbers
  { name: 'MTU too small', input: { argv: ['--mtu', '500'] }, field: 'mtu', source: 'flag', value: 500, fragment: '576 and 65535' },
  { name: 'MTU not a number', input: { env: { KNIT_MTU: '15OO' } }, field: 'mtu', source: 'env', value: '15OO', fragment: 'integer' },
  { name: 'MTU as a YAML string', input: yaml('mtu: "1500"\n'), field: 'mtu', source: 'file', fragment: 'integer' },
  { name: 'MTU fractional', input: yaml('mtu: 1500.5\n'), field: 'mtu', source: 'file', fragment: 'integer' },
  { name: 'lease TTL below 60', input: { argv: ['--etcd-lease-ttl-seconds', '59'] }, field: 'etcd.leaseTtlSeconds', source: 'flag', fragment: 'between 60' },
  // subnet and mode
  { name: 'subnet host bits set', input: { env: { KNIT_SUBNET: '10.244.1.5/24' } }, field: 'subnet', source: 'env', fragment: 'host bits' },
  { name: 'subnet prefix /31', input: { argv: ['--subnet', '10.244.1.0/31'] }, field: 'subnet', source: 'flag', fragment: 'between 8 and 30' },
  { name: 'subnet IPv6', input: { argv: ['--subnet', 'fd00::/64'] }, field: 'subnet', source: 'flag', fragment: 'IPv4 CIDR' },
  { name: 'single-node without subnet', input: { env: { KNIT_SUBNET: '' } }, field: 'subnet', source: 'default', fragment: 'single-node mode' },
  { name: 'subnet together with etcd', input: { argv: ['--etcd-endpoints', 'http://127.0.0.1:2379'] }, field: 'subnet', source: 'env', fragment: 'single-node mode only' },
  // etcd
  { name: 'endpoint without scheme', input: { env: { KNIT_SUBNET: '', KNIT_ETCD_ENDPOINTS: '10.0.0.5:2379' } }, field: 'etcd.endpoints', source: 'env', fragment: '"10.0.0.5:2379" must be a URL' },
  { name: 'endpoint without port', input: { env: { KNIT_SUBNET: '' }, argv: ['--etcd-endpoints', 'https://etcd.local'] }, field: 'etcd.endpoints', source: 'flag', fragment: 'must be a URL' },
  { name: 'endpoint with a path', input: { env: { KNIT_SUBNET: '' }, argv: ['--etcd-endpoints', 'https://e:2379/v3'] }, field: 'etcd.endpoints', source: 'flag', fragment: 'no path' },
  { name: 'endpoint unix scheme', input: { env: { KNIT_SUBNET: '' }, ...yaml('etcd:\n  endpoints: [unix:///run/etcd.sock]\n') }, field: 'etcd.endpoints', source: 'file', fragment: 'must be a URL' },
  { name: 'endpoints not a list in the file', input: yaml('etcd:\n  endpoints: https://e:2379\n'), field: 'etcd.endpoints', source: 'file', fragment: 'list of strings' },
  { name: 'prefix with trailing slash', input: { argv: ['--etcd-prefix', '/knit/v1/'] }, field: 'etcd.prefix', source: 'flag', fragment: 'no trailing' },
  { name: 'cert without key', input: { argv: ['--etcd-cert-file', '/c.pem'] }, field: 'etcd.certFile', source: 'flag', value: '/c.pem', fragment: 'set together' },
  { name: 'key without cert', input: { env: { KNIT_ETCD_KEY_FILE: '/k.pem' } }, field: 'etcd.keyFile', source: 'env', fragment: 'set together' },
  // network
  { name: 'network not an object', input: yaml('network: [1, 2]\n'), field: 'network', source: 'file', fragment: 'mapping' },
  { name: 'network env not JSON', input: { env: { KNIT_NETWORK: '{clusterCidr: x}' } }, field: 'network', source: 'env', fragment: 'JSON object' },
  // grpc
  { name: 'TCP gRPC without TLS', input: { argv: ['--grpc-address', '0.0.0.0:50051', '--grpc-tls-cert-file', '/c'] }, field: 'grpc.address', source: 'flag', fragment: 'grpc.tlsKeyFile, grpc.tlsClientCaFile' },
  { name: 'gRPC address without port', input: { env: { KNIT_GRPC_ADDRESS: '10.0.0.1' } }, field: 'grpc.address', source: 'env', fragment: 'host:port' },
  { name: 'gRPC port out of range', input: { argv: ['--grpc-address', ':70000', '--grpc-insecure'] }, field: 'grpc.address', source: 'flag', fragment: '1..65535' },
  { name: 'insecure not boolean', input: { env: { KNIT_GRPC_INSECURE: 'yes' } }, field: 'grpc.insecure', source: 'env', value: 'yes', fragment: 'true, false, 1 or 0' },
  { name: 'insecure a string in YAML', input: yaml('grpc:\n  insecure: "true"\n'), field: 'grpc.insecure', source: 'file', fragment: 'true or false' },
  // metrics, log, misc
  { name: 'metrics address bad', input: { argv: ['--metrics-address', 'localhost'] }, field: 'metrics.address', source: 'flag', fragment: 'host:port' },
  { name: 'log level unknown', input: { env: { KNIT_LOG_LEVEL: 'verbose' } }, field: 'log.level', source: 'env', value: 'verbose', fragment: 'error, warn, info, debug' },
  { name: 'log format unknown', input: yaml('log:\n  format: xml\n'), field: 'log.format', source: 'file', fragment: 'json, text' },
  { name: 'nft mode unknown', input: { env: { KNIT_NFT: 'fast' } }, field: 'nft', source: 'env', value: 'fast', fragment: 'library, exec' },
  { name: 'string given a number in YAML', input: yaml('cniNetworkName: 1234\n'), field: 'cniNetworkName', source: 'file', fragment: 'quote it' },
  { name: 'empty flag value', input: { argv: ['--bridge='] }, field: 'bridge', source: 'flag', fragment: 'must not be empty' },
  { name: 'reconcile interval zero', input: { argv: ['--reconcile-interval-seconds', '0'] }, field: 'reconcileIntervalSeconds', source: 'flag', fragment: 'between 1 and 3600' },
  // unknown names and shape
  { name: 'unknown flag, close', input: { argv: ['--etcd-endpoint', 'http://e:2379'] }, field: 'etcd-endpoint', source: 'flag', fragment: 'did you mean --etcd-endpoints?' },
  { name: 'camelCase flag', input: { argv: ['--nodeName', 'x'] }, field: 'nodeName', source: 'flag', fragment: 'did you mean --node-name?' },
  { name: 'unknown flag, far', input: { argv: ['--frobnicate'] }, field: 'frobnicate', source: 'flag', fragment: 'unknown flag --frobnicate (see' },
  { name: 'negated non-boolean flag', input: { argv: ['--no-bridge'] }, field: 'no-bridge', source: 'flag', fragment: 'unknown flag' },
  { name: 'flag missing its value', input: { argv: ['--bridge'] }, field: 'bridge', source: 'flag', fragment: 'needs a value' },
  { name: 'flag followed by a flag', input: { argv: ['--node-name', '--bridge', 'x'] }, field: 'nodeName', source: 'flag', fragment: 'needs a value' },
  { name: 'positional argument', input: { argv: ['start'] }, field: 'start', source: 'flag', fragment: 'no positional' },
  { name: 'unknown key in file, snake case', input: yaml('node_name: x\n'), field: 'node_name', source: 'file', fragment: 'did you mean nodeName?' },
  { name: 'unknown nested key', input: yaml('etcd:\n  endpoint: [http://e:2379]\n'), field: 'etcd.endpoint', source: 'file', fragment: 'did you mean etcd.endpoints?' },
  { name: 'key outside its group', input: yaml('endpoints: [http://e:2379]\n'), field: 'endpoints', source: 'file', fragment: 'did you mean etcd.endpoints?' },
  { name: 'unknown key, far', input: yaml('zzz: 1\n'), field: 'zzz', source: 'file', fragment: 'unknown key zzz' },
  { name: 'group not a mapping', input: yaml('etcd: http://e:2379\n'), field: 'etcd', source: 'file', fragment: 'must be a mapping' },
  { name: 'YAML syntax error', input: yaml('nodeName: [\n'), field: 'config', source: 'file', fragment: 'cannot parse YAML' },
  { name: 'duplicate YAML key', input: yaml('bridge: a\nbridge: b\n'), field: 'config', source: 'file', fragment: 'cannot parse YAML' },
  { name: 'top level not a mapping', input: yaml('- a\n- b\n'), field: 'config', source: 'file', fragment: 'top level must be a mapping' },
  { name: 'JSON syntax error', input: { argv: ['--config', '/k.json'], file: { path: '/k.json', text: '{"bridge": ' } }, field: 'config', source: 'file', fragment: 'cannot parse JSON' },
  { name: 'unsupported extension', input: { argv: ['--config', '/k.toml'], file: { path: '/k.toml', text: '' } }, field: 'config', source: 'file', fragment: '.yaml, .yml or .json' },
  { name: 'unreadable config file (flag)', input: { argv: ['--config', '/missing.yaml'] }, field: 'config', source: 'flag', value: '/missing.yaml', fragment: 'ENOENT' },
  { name: 'unreadable config file (env)', input: { env: { KNIT_CONFIG: '/missing.yaml' } }, field: 'config', source: 'env', fragment: 'cannot read' },
];

describe('config: validation errors name field, source and value', () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const error = attempt(tc.input);
      expect(error.field).to.equal(tc.field);
      expect(error.source).to.equal(tc.source);
      if ('value' in tc) expect(error.value).to.deep.equal(tc.value);
      expect(error.message).to.contain(tc.fragment);
      expect(error.message).to.contain(tc.field === 'config' && tc.source === 'file' ? tc.input.file!.path : tc.field);
    });
  }

  it('the message says where the value came from', () => {
    expect(attempt({ env: { KNIT_MTU: '1' } }).message).to.contain('environment variable KNIT_MTU');
    expect(attempt({ argv: ['--mtu', '1'] }).message).to.contain('flag --mtu');
    expect(attempt(yaml('mtu: 1\n')).message).to.contain('config file /etc/knit/knitd.yaml');
  });

  it('a lower-precedence bad value is not reported when a higher one overrides it', () => {
    // The file's bad MTU is overridden by the flag and must not matter.
    const input = { ...yaml('mtu: 1\n'), argv: ['--config', '/etc/knit/knitd.yaml', '--mtu', '1500'] };
    const config = loadConfig({ argv: input.argv, env: { KNIT_SUBNET: '10.244.1.0/24' }, readFile: () => 'mtu: 1\n', hostname: 'n' });
    expect(config.mtu).to.equal(1500);
  });
});

describe('config: didYouMean', () => {
  const candidates = ['nodeName', 'etcd.endpoints', 'etcd.prefix', 'bridge'];
  const table: Array<[string, string | undefined]> = [
    ['nodename', 'nodeName'],
    ['node-name', 'nodeName'],
    ['brigde', 'bridge'],
    ['prefix', 'etcd.prefix'],
    ['completely-else', undefined],
    ['x', undefined],
  ];
  for (const [input, expected] of table) {
    it(`${input} → ${String(expected)}`, () => expect(didYouMean(input, candidates)).to.equal(expected));
  }
});
