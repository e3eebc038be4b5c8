/**
 * knitctl's command and flag table: the single source for parsing and for
 * `--help`, so the help can never describe a flag the parser does not know.
 */
import { DEFAULT_API_SOCKET } from '../base';

export interface FlagSpec {
  name: string;
  short?: string;
  /** Placeholder of the value; absent for boolean flags. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  /** "status", or two words for grouped commands ("network show"). */
  name: string;
  summary: string;
  /** Positional arguments after the command, e.g. "[sessions|routes]". */
  args?: string;
  /** Allowed positional counts. */
  minArgs: number;
  maxArgs: number;
  flags: FlagSpec[];
  /** Extra help text (exit codes, examples). */
  details?: string;
}

/** Flags every command takes. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'output', short: 'o', value: 'table|json', help: 'Output format (default table).' },
  { name: 'socket', value: 'PATH', help: `knitd API unix socket (default ${DEFAULT_API_SOCKET}, or $KNITCTL_SOCKET).` },
  { name: 'address', value: 'HOST:PORT', help: 'Talk to knitd over TCP instead (mutual TLS: --tls-cert, --tls-key, --tls-ca).' },
  { name: 'tls-cert', value: 'FILE', help: 'Client certificate for --address.' },
  { name: 'tls-key', value: 'FILE', help: 'Client private key for --address.' },
  { name: 'tls-ca', value: 'FILE', help: 'CA that signed knitd\'s server certificate.' },
  { name: 'insecure', help: 'Plaintext TCP to --address (only if knitd runs with grpc.insecure).' },
  { name: 'timeout', value: 'SECONDS', help: 'Give up on knitd (or etcd, for network) after this long (default 5; 0 = no timeout; at most 3600).' },
  { name: 'help', short: 'h', help: 'Show help.' },
  { name: 'version', help: 'Print versions, as "knitctl version".' },
];

const ETCD_FLAGS: FlagSpec[] = [
  { name: 'etcd-endpoints', value: 'URLS', help: 'Comma-separated etcd URLs (or $KNIT_ETCD_ENDPOINTS), e.g. http://127.0.0.1:2379.' },
  { name: 'etcd-prefix', value: 'PREFIX', help: 'Key prefix (default /knit/v1).' },
  { name: 'etcd-ca', value: 'FILE', help: 'CA of etcd\'s server certificate (https endpoints).' },
  { name: 'etcd-cert', value: 'FILE', help: 'Client certificate for etcd.' },
  { name: 'etcd-key', value: 'FILE', help: 'Client private key for etcd.' },
];

export const COMMANDS: CommandSpec[] = [
  {
    name: 'status', summary: 'This node: lease (remaining TTL, last renewal), backend, MTU, peers alive, IPAM, health and readiness.', minArgs: 0, maxArgs: 0, flags: [],
    details: 'Exit status 0 when the node is healthy and ready, 1 when it is not, 3 when knitd cannot be reached.',
  },
  {
    name: 'subnets', summary: 'Every subnet lease known from etcd.', minArgs: 0, maxArgs: 0,
    flags: [{ name: 'subnet', value: 'CIDR', help: 'Only this subnet, e.g. 10.244.1.0/24.' }],
  },
  {
    name: 'peers', summary: 'Peers: agent alive or DOWN (since), last change, and whether their routes, nexthops, neighbours and FDB entries match.', minArgs: 0, maxArgs: 0,
    flags: [{ name: 'node', value: 'NAME', help: 'Only this peer node.' }],
  },
  {
    name: 'routes', summary: 'The kernel objects programmed for peers (routes, nexthops, neighbours, FDB), one per line.', minArgs: 0, maxArgs: 0,
    flags: [{ name: 'node', value: 'NAME', help: 'Only this peer node.' }],
  },
  {
    name: 'endpoints', summary: 'Containers attached on this node.', minArgs: 0, maxArgs: 0,
    flags: [{ name: 'container', value: 'ID', help: 'Only this container (exit 1 when it has no endpoint).' }],
  },
  {
    name: 'bgp', summary: 'BGP sessions (default) or the routes learned.', args: '[sessions|routes]', minArgs: 0, maxArgs: 1, flags: [],
    details: 'Exit status 1 with "BGP is not enabled" when this node runs no BGP speaker.',
  },
  {
    name: 'watch', summary: 'Stream changes: a snapshot, then one line per lease, peer, peer-alive/peer-down, endpoint or BGP change.', minArgs: 0, maxArgs: 0,
    flags: [{ name: 'count', value: 'N', help: 'Exit after N events (the snapshot counts as one).' }],
    details: 'With -o json, one JSON object per line. Stops on Ctrl-C.',
  },
  {
    name: 'top', summary: 'Live view of the cluster from this node: health, lease, peers alive or DOWN, drift; trouble first.', minArgs: 0, maxArgs: 0,
    flags: [
      { name: 'interval', value: 'SECONDS', help: 'Seconds between refreshes (default 2).' },
      { name: 'once', help: 'Print one frame and exit (scripts, logs).' },
    ],
    details: 'Refreshes until Ctrl-C (or once with --once). -o json prints {node, peers, endpoints} per frame, one line each. ' +
      'Exit status 0; 3 when knitd cannot be reached.',
  },
  {
    name: 'version', summary: 'knitctl\'s version and API version, and those of the knitd it reaches.', minArgs: 0, maxArgs: 0, flags: [],
    details: 'knitctl\'s own line is printed even when knitd cannot be reached; exit status 0 when knitd answered, 3 when it could not be reached. ' +
      '--version does the same.',
  },
  {
    name: 'completion', summary: 'Print a shell completion script.', args: 'bash|zsh', minArgs: 1, maxArgs: 1, flags: [],
    details: 'bash: source <(knitctl completion bash), or save it as /etc/bash_completion.d/knitctl. ' +
      'zsh: knitctl completion zsh > "${fpath[1]}/_knitctl" and start a new shell, or source <(knitctl completion zsh) after compinit.',
  },
  {
    name: 'network show', summary: 'The cluster network config stored in etcd.', minArgs: 0, maxArgs: 0, flags: ETCD_FLAGS,
    details: 'Exit status 1 when no network config is stored yet.',
  },
  {
    name: 'network init', summary: 'Store the cluster network config in etcd if none exists.', args: 'FILE|-', minArgs: 1, maxArgs: 1,
    flags: ETCD_FLAGS,
    details: 'FILE holds JSON such as {"clusterCidr":"10.244.0.0/16","backend":{"type":"vxlan"}}; "-" reads stdin. ' +
      'The config is validated before anything is written. Exit status 0 when written, 1 when a config already exists.',
  },
  {
    name: 'network create', summary: 'Create a named network in etcd; every knitd serves it within moments.', args: 'NAME', minArgs: 1, maxArgs: 1,
    flags: [
      { name: 'cidr', value: 'CIDR', help: 'The network\'s CIDR (required), e.g. 10.50.0.0/16; an IPv6 one (fd00:50::/56) makes an IPv6-only network. Must not overlap another network.' },
      { name: 'subnet-length', value: 'N', help: 'Prefix length of each node\'s subnet (default 24, or 64 for an IPv6 --cidr).' },
      { name: 'ipv6-cidr', value: 'CIDR', help: 'Dual-stack: the network\'s IPv6 CIDR next to an IPv4 --cidr, e.g. fd00:50::/56 (config key ipv6ClusterCidr).' },
      { name: 'ipv6-subnet-length', value: 'N', help: 'Dual-stack: prefix length of each node\'s IPv6 subnet (64..126, default 64).' },
      { name: 'ipv6-masquerade', help: 'Masquerade IPv6 traffic leaving the network (default off: IPv6 addresses are usually routable).' },
      { name: 'backend', value: 'TYPE', help: 'vxlan (default) or host-gw.' },
      { name: 'vni', value: 'N', help: 'VXLAN VNI (default: the lowest one no network uses).' },
      { name: 'mtu', value: 'N', help: 'Container MTU (default: derived from the underlay).' },
      { name: 'internal', help: 'No traffic in or out of the network, no masquerade (Docker\'s --internal).' },
      { name: 'no-masquerade', help: 'Do not masquerade IPv4 traffic leaving the network (IPv6: see --ipv6-masquerade).' },
      ...ETCD_FLAGS,
    ],
    details: 'IPv4-only: --cidr 10.50.0.0/16. Dual-stack: --cidr 10.50.0.0/16 --ipv6-cidr fd00:50::/56 (every node gets one subnet of each). ' +
      'IPv6-only: --cidr fd00:50::/56. Exit status 0 when created, 1 when the name is taken or the network conflicts with another (overlapping CIDR of either family, VNI in use).',
  },
  { name: 'network ls', summary: 'List the networks (the default one and the named ones).', minArgs: 0, maxArgs: 0, flags: ETCD_FLAGS },
  { name: 'network inspect', summary: 'One network: config, per-node subnets and where it has endpoints.', args: 'NAME', minArgs: 1, maxArgs: 1, flags: ETCD_FLAGS },
  {
    name: 'network rm', summary: 'Remove a named network; every knitd tears it down.', args: 'NAME', minArgs: 1, maxArgs: 1, flags: ETCD_FLAGS,
    details: 'Refused (exit status 1, naming the nodes) while any node has endpoints on it.',
  },
  {
    name: 'policy apply', summary: 'Create or replace the network policies of a YAML or JSON file (docs/policy.md).', minArgs: 0, maxArgs: 0,
    flags: [{ name: 'file', short: 'f', value: 'FILE', help: 'The policy file ("-" reads stdin); required.' }, ...ETCD_FLAGS],
    details: 'The whole file is validated first and written in one etcd transaction: all of it applies, or none. Exit status 0 when applied.',
  },
  { name: 'policy ls', summary: 'List the network policies of every network.', minArgs: 0, maxArgs: 0, flags: ETCD_FLAGS },
  {
    name: 'policy inspect', summary: 'One policy, in its file form.', args: 'NAME', minArgs: 1, maxArgs: 1, flags: ETCD_FLAGS,
    details: 'NAME is NAME (network "default") or NETWORK/NAME. Exit status 1 when there is no such policy.',
  },
  {
    name: 'policy rm', summary: 'Remove a network policy.', args: 'NAME', minArgs: 1, maxArgs: 1, flags: ETCD_FLAGS,
    details: 'NAME is NAME (network "default") or NETWORK/NAME. Exit status 1 when there is no such policy.',
  },
  {
    name: 'policy trace', summary: 'Would a connection be allowed? Names the deciding policy and rule, or the default deny.', minArgs: 0, maxArgs: 0,
    flags: [
      { name: 'from', value: 'ENDPOINT|IP', help: 'Source endpoint id or address (required).' },
      { name: 'to', value: 'ENDPOINT|IP', help: 'Destination endpoint id or address (required).' },
      { name: 'port', value: 'PROTO/N', help: 'tcp/8080, udp/53, sctp/N or icmp (required).' },
      ...ETCD_FLAGS,
    ],
    details: 'Compiles the stored policies and endpoint records with the compiler knitd programs nft from. Exit status 0 allow, 3 deny.',
  },
];

/** Looks up "network show" from ["network", "show", …] or "status" from ["status", …]. */
export function findCommand(words: string[]): { spec: CommandSpec; used: number } | undefined {
  const two = COMMANDS.find((c) => c.name === `${words[0]} ${words[1]}`);
  if (two !== undefined) return { spec: two, used: 2 };
  const one = COMMANDS.find((c) => c.name === words[0]);
  return one === undefined ? undefined : { spec: one, used: 1 };
}

/** Top-level names, for the usage listing and "did you mean". */
export function commandGroups(): string[] {
  return [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]))];
}
