/**
 * knitd's configuration schema: one table, one row per field, from which
 * the loader, `knitd --help` and docs/configuration.md are all derived, so
 * they cannot disagree.
 *
 * A field's key is its camelCase path in the config file ("etcd.caFile");
 * its environment variable (KNIT_ETCD_CA_FILE) and flag (--etcd-ca-file) are
 * derived from the key. Rows are in resolution order: a derived default
 * (cniSocket from runDir) may only read fields above it.
 */
import { API_SOCKET_NAME, CNI_SOCKET_NAME, DEFAULT_LEASE_TTL_SECONDS, DEFAULT_RUN_DIR } from '../base';
import * as check from './validators';
import type { Check } from './validators';

/** A configuration value after parsing, before it is placed into KnitdConfig. */
export type ConfigValue = string | number | boolean | string[] | Record<string, unknown>;

/** Reads an already-resolved field (for derived defaults). */
export type Resolved = (key: string) => ConfigValue | undefined;

interface FieldBase {
  /** camelCase path in the config file, dots between groups. */
  key: string;
  /** Environment variable, KNIT_ + upper snake case of the key. */
  env: string;
  /** Flag name without the leading dashes, kebab case of the key. */
  flag: string;
  /** One sentence for --help and the docs. */
  description: string;
  /** Type as shown to users. */
  typeLabel: string;
  /** Default as shown to users, when the value itself does not say it. */
  docDefault?: string;
}
export interface StringField extends FieldBase {
  type: 'string';
  default?: string | ((get: Resolved) => string);
  check?: Check<string>;
  /** "" is a meaningful value (e.g. disables a listener) rather than "unset". */
  allowEmpty?: boolean;
}
export interface IntegerField extends FieldBase {
  type: 'integer';
  default?: number;
  check?: Check<number>;
}
export interface BooleanField extends FieldBase {
  type: 'boolean';
  default: boolean;
}
export interface ListField extends FieldBase {
  type: 'list';
  default: string[];
  checkItem?: Check<string>;
}
export interface ObjectField extends FieldBase {
  type: 'object';
}
export type FieldSpec = StringField | IntegerField | BooleanField | ListField | ObjectField;

type Extra<F extends FieldSpec> = Omit<F, 'key' | 'env' | 'flag' | 'type'>;

/** "etcd.caFile" → "KNIT_ETCD_CA_FILE". */
export function envName(key: string): string {
  return 'KNIT_' + key.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2')).join('_').toUpperCase();
}

/** "etcd.caFile" → "etcd-ca-file". */
export function flagName(key: string): string {
  return key.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1-$2')).join('-').toLowerCase();
}

function names(key: string): { key: string; env: string; flag: string } {
  return { key, env: envName(key), flag: flagName(key) };
}
const str = (key: string, extra: Extra<StringField>): StringField => ({ ...names(key), type: 'string', ...extra });
const int = (key: string, extra: Extra<IntegerField>): IntegerField => ({ ...names(key), type: 'integer', ...extra });
const bool = (key: string, extra: Extra<BooleanField>): BooleanField => ({ ...names(key), type: 'boolean', ...extra });
const list = (key: string, extra: Extra<ListField>): ListField => ({ ...names(key), type: 'list', ...extra });
const obj = (key: string, extra: Extra<ObjectField>): ObjectField => ({ ...names(key), type: 'object', ...extra });

const under = (dirKey: string, file: string) => (get: Resolved): string => `${String(get(dirKey))}/${file}`;

/** The config file path: not a field of the file itself, so kept apart from FIELDS. */
export const CONFIG_FILE = { env: 'KNIT_CONFIG', flag: 'config' } as const;

/** Every configuration field, in resolution order. */
export const FIELDS: readonly FieldSpec[] = [
  str('nodeName', {
    typeLabel: 'DNS-1123 name', check: check.nodeName, docDefault: 'host name, lower-cased',
    description: 'Name of this node in etcd keys and subnet leases; must stay stable across restarts.',
  }),
  str('publicIp', {
    typeLabel: 'IP address', check: check.unicastIp, docDefault: 'auto-detected',
    description: 'Underlay address other nodes reach this node at (VXLAN/IPIP tunnel endpoint, host-gw next hop, BGP next hop); IPv6 when the cluster is IPv6-only.',
  }),
  str('publicInterface', {
    typeLabel: 'interface name', check: check.interfaceName, docDefault: 'interface of the default route',
    description: 'Underlay interface; its address is publicIp when publicIp is not set, and its MTU sets the default container MTU.',
  }),
  str('stateDir', { typeLabel: 'path', default: '/var/lib/knit', check: check.absolutePath, description: 'Directory for state that survives reboots (IPAM allocations, the last subnet lease).' }),
  str('runDir', { typeLabel: 'path', default: DEFAULT_RUN_DIR, check: check.absolutePath, description: 'Directory for sockets and other runtime files.' }),
  str('cniSocket', {
    typeLabel: 'path', default: under('runDir', CNI_SOCKET_NAME), docDefault: `\`<runDir>/${CNI_SOCKET_NAME}\``, check: check.socketPath,
    description: 'Unix socket the `knit` CNI plugin sends requests to.',
  }),
  str('cniConfDir', { typeLabel: 'path', default: '/etc/cni/net.d', check: check.absolutePath, description: 'Directory the container runtime reads CNI network configurations from.' }),
  str('cniConfFile', { typeLabel: 'file name', default: '10-knit.conflist', check: check.conflistFileName, description: 'Name of the conflist knitd writes into cniConfDir.' }),
  str('cniNetworkName', { typeLabel: 'string', default: 'knit', check: check.cniNetworkName, description: 'CNI network name in the conflist.' }),
  int('cniMaxConnections', {
    typeLabel: 'integer', default: 512, check: check.intRange(1, 65536),
    description: 'Most CNI socket connections served at once (1..65536); a connection beyond it is answered at once with CNI error 11 (try again later) and closed, so a flood cannot exhaust knitd\'s file descriptors.',
  }),
  int('cniIdleTimeoutSeconds', {
    typeLabel: 'integer', default: 10, check: check.intRange(1, 300),
    description: 'A CNI socket connection that has not sent its whole request after this many seconds (1..300) is closed.',
  }),
  int('cniReapIntervalSeconds', {
    typeLabel: 'integer', default: 60, check: check.intRange(0, 86400),
    description: 'How often (0..86400 s; 0 = only at start-up) knitd releases attachments whose container is provably gone (host veth and network namespace both absent) because their CNI DEL never arrived.',
  }),
  str('bridge', { typeLabel: 'interface name', default: 'knit0', check: check.interfaceName, description: 'Linux bridge the containers of this node are attached to; its address is the gateway.' }),
  int('mtu', {
    typeLabel: 'integer', check: check.intRange(576, 65535), docDefault: 'underlay MTU minus backend overhead',
    description: 'MTU of container interfaces (576..65535).',
  }),
  str('subnet', {
    typeLabel: 'IPv4 CIDR', check: check.containerCidr(8, 30),
    description: 'Single-node mode only (no etcd endpoints): this node\'s container subnet, e.g. 10.244.1.0/24 (prefix 8..30; not loopback, multicast, link-local, 0.0.0.0/8 or class E, and clear of the node\'s own addresses and routes). Required then, rejected otherwise.',
  }),
  str('ipv6Subnet', {
    typeLabel: 'IPv6 CIDR', check: check.containerCidr6(64, 126),
    description: 'Single-node mode only: this node\'s IPv6 container subnet, e.g. fd00:10:244:1::/64 (prefix 64..126); with it every container also gets an IPv6 address and a ::/0 route (dual-stack). Rejected with etcd endpoints (the network config\'s ipv6ClusterCidr decides there).',
  }),
  list('etcd.endpoints', {
    typeLabel: 'list of URLs', default: [], checkItem: check.etcdEndpoint, docDefault: 'empty (single-node mode)',
    description: 'etcd client URLs (`http(s)://host:port`); comma-separated in the environment and flags, and the flag may be repeated.',
  }),
  str('etcd.prefix', { typeLabel: 'etcd key', default: '/knit/v1', check: check.etcdPrefix, description: 'Prefix of every key knit reads and writes in etcd.' }),
  str('etcd.caFile', { typeLabel: 'path', check: check.absolutePath, description: 'CA bundle to verify etcd\'s server certificate.' }),
  str('etcd.certFile', { typeLabel: 'path', check: check.absolutePath, description: 'Client certificate for etcd; requires etcd.keyFile.' }),
  str('etcd.keyFile', { typeLabel: 'path', check: check.absolutePath, description: 'Client private key for etcd; requires etcd.certFile.' }),
  int('etcd.leaseTtlSeconds', {
    typeLabel: 'integer', default: DEFAULT_LEASE_TTL_SECONDS, check: check.intRange(60, 9_000_000_000),
    description: 'TTL of the etcd lease that holds this node\'s subnet (at least 60); a node that stays away longer loses its subnet.',
  }),
  int('etcd.livenessTtlSeconds', {
    typeLabel: 'integer', default: 10, check: check.intRange(3, 3600),
    description: 'TTL of the short etcd lease behind this node\'s liveness key (3..3600), kept alive every third of it: peers see this agent down at most this long after it died. Liveness never removes routes.',
  }),
  bool('etcd.releaseOnShutdown', {
    typeLabel: 'boolean', default: false,
    description: 'On a clean shutdown (SIGTERM), delete this node\'s subnet lease so peers drop its routes at once; off by default, so a restart keeps the subnet and running containers keep their addresses.',
  }),
  obj('network', {
    typeLabel: 'object',
    description: 'Network config written to `<etcd.prefix>/network` when that key is absent: clusterCidr, subnetLength, backend {type: vxlan, host-gw, ipip or bgp, …}; its content is validated when it is stored. JSON in the environment and flags.',
  }),
  str('bgp.routerId', {
    typeLabel: 'dotted quad', check: check.routerId, docDefault: 'publicIp when IPv4; IPv6-only: derived from nodeName',
    description: 'BGP Identifier of this node (backend bgp), a 32-bit number written a.b.c.d, not 0.0.0.0, multicast or 255.255.255.255; unique per node. Without it a node with an IPv4 publicIp uses that address, and an IPv6-only node a stable value hashed from its name (two nodes can collide: set it when that matters).',
  }),
  str('grpc.socket', {
    typeLabel: 'path', default: under('runDir', API_SOCKET_NAME), docDefault: `\`<runDir>/${API_SOCKET_NAME}\``, check: check.socketPath,
    description: 'Unix socket of the gRPC operator API (knitctl).',
  }),
  str('grpc.address', { typeLabel: 'host:port', check: check.hostPort, description: 'Also serve the gRPC API on TCP; needs all three grpc.tls* files, or grpc.insecure.' }),
  str('grpc.tlsCertFile', { typeLabel: 'path', check: check.absolutePath, description: 'Server certificate for the TCP gRPC listener.' }),
  str('grpc.tlsKeyFile', { typeLabel: 'path', check: check.absolutePath, description: 'Server private key for the TCP gRPC listener.' }),
  str('grpc.tlsClientCaFile', { typeLabel: 'path', check: check.absolutePath, description: 'CA that client certificates must chain to (mutual TLS).' }),
  bool('grpc.insecure', { typeLabel: 'boolean', default: false, description: 'Allow the TCP gRPC listener without TLS; for labs only.' }),
  bool('docker.enabled', {
    typeLabel: 'boolean', default: false,
    description: 'Serve Docker\'s network and IPAM plugin API (driver `knit`) on docker.pluginSocket, and keep a Docker network per knit network on this node\'s dockerd (cluster mode only; docs/docker.md).',
  }),
  str('docker.pluginSocket', {
    typeLabel: 'path', default: '/run/docker/plugins/knit.sock', check: check.socketPath,
    description: 'Unix socket of the Docker plugin API; dockerd discovers plugins in /run/docker/plugins (or through a .spec file in /etc/docker/plugins naming another path).',
  }),
  str('docker.apiSocket', {
    typeLabel: 'path', default: '/run/docker.sock', check: check.socketPath,
    description: 'dockerd\'s API socket, used to create and remove the Docker network of each knit network on this node.',
  }),
  str('metrics.address', {
    typeLabel: 'host:port', default: '127.0.0.1:9654', check: check.optionalHostPort, allowEmpty: true,
    description: 'Listen address of Prometheus /metrics and /healthz; "" disables it.',
  }),
  str('log.level', { typeLabel: 'error, warn, info, debug', default: 'info', check: check.oneOf(['error', 'warn', 'info', 'debug']), description: 'Least severe log level written.' }),
  str('log.format', { typeLabel: 'json, text', default: 'json', check: check.oneOf(['json', 'text']), description: 'Log line format on stderr.' }),
  str('nft', {
    typeLabel: 'library, exec', default: 'library', check: check.oneOf(['library', 'exec']),
    description: 'How knitd runs its nftables commands: library = through libnftables inside knitd (no process per command; the nft binary when the library or knitd\'s addon cannot load), exec = an nft process per command.',
  }),
  bool('masquerade', { typeLabel: 'boolean', default: true, description: 'Masquerade (SNAT) container traffic leaving the cluster CIDR, like flannel\'s --ip-masq.' }),
  int('reconcileIntervalSeconds', {
    typeLabel: 'integer', default: 10, check: check.intRange(1, 3600),
    description: 'How often backends re-check routes, neighbours and FDB entries against their desired state (1..3600), besides reacting to etcd watch events; also how often knitd checks for a forward chain that drops cluster traffic.',
  }),
];

/** Field by key. */
export const FIELD_BY_KEY: ReadonlyMap<string, FieldSpec> = new Map(FIELDS.map((f) => [f.key, f]));

/** Group names of nested keys ("etcd", "grpc", …): mappings in the config file. */
export const GROUPS: ReadonlySet<string> = new Set(FIELDS.filter((f) => f.key.includes('.')).map((f) => f.key.split('.')[0]));
