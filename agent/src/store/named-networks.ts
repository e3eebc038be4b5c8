/**
 * Named networks in etcd. The layout grows out of v1 without renumbering:
 *
 *   <prefix>/network                         the default network (unchanged)
 *   <prefix>/subnets/<subnet>                its leases (unchanged)
 *   <prefix>/networks/<name>/network         a named network's config
 *   <prefix>/networks/<name>/subnets/<subnet>  its leases (same codec, same rules)
 *   <prefix>/networks/<name>/attached/<node> present while <node> has endpoints on it
 *
 * So a named network is the whole v1 layout again under
 * `<prefix>/networks/<name>`: the existing config reader, EtcdRegistry and
 * LeaseManager serve it unchanged, given that prefix. Names are validated so
 * a name can never contain "/" and walk into another key.
 *
 * Creation is create-if-absent after a uniqueness check against every
 * network read in the same call (CIDR overlap, VXLAN VNI, derived device
 * names). Two operators creating conflicting networks at the same instant
 * could both pass the check; the window is one round trip (documented in
 * docs/networks.md).
 */
import { createHash } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { cidrsOverlap, mustParseCidrAny } from '../net/ip';
import { ConflictError, wrapEtcdError } from './errors';
import { NetworkConfigError, formatNetworkConfig, networkFamilies, parseNetworkConfigText, type NetworkConfig } from './network-config';
import { networkKey, readNetworkConfig } from './network-store';
import { EtcdRegistry, prefixEnd } from './registry';
import { backoffDelay, errorMessage } from '../base';

/** The name of the network stored at `<prefix>/network`. */
export const DEFAULT_NETWORK = 'default';

/** Docker's network name alphabet, bounded so keys and labels stay short. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Why `name` is not a valid network name, or undefined when it is. */
export function networkNameProblem(name: string): string | undefined {
  if (!NAME_RE.test(name)) return `network name ${JSON.stringify(name)} must be 1-63 characters of letters, digits, "_", "." or "-", starting with a letter or digit`;
  return undefined;
}

/** The key prefix a network's v1 layout lives under ("/knit/v1" for the default one). */
export function networkPrefix(prefix: string, name: string): string {
  const base = prefix.replace(/\/+$/, '');
  return name === DEFAULT_NETWORK ? base : `${base}/networks/${name}`;
}

/**
 * Kernel names of a named network's devices, derived from a hash of the name
 * so any valid name fits the 15-character limit (never a truncation, which
 * would collide for "frontend-a"/"frontend-b"). Creation refuses a network
 * whose derived names equal an existing network's, so they never collide.
 */
export function networkBridgeName(name: string): string {
  return `knb${createHash('sha256').update(name).digest('hex').slice(0, 11)}`;
}

/** A network and its name, as listed. */
export interface NamedNetwork {
  name: string;
  config: NetworkConfig;
}

const CALL_TIMEOUT_MS = 5000;
function callOpts(): { deadline: Date } {
  return { deadline: new Date(Date.now() + CALL_TIMEOUT_MS) };
}

/** Name of the network whose config key this is, or undefined for any other key. */
export function networkNameOfKey(prefix: string, key: string): string | undefined {
  const head = `${prefix.replace(/\/+$/, '')}/networks/`;
  if (!key.startsWith(head) || !key.endsWith('/network')) return undefined;
  const name = key.slice(head.length, key.length - '/network'.length);
  return networkNameProblem(name) === undefined ? name : undefined;
}

/** One stored network that does not validate (listed so an operator can see and remove it). */
export interface InvalidNetwork {
  name: string;
  error: string;
}

/**
 * Every network: the default one (when configured) first, then the named
 * ones by name. Named configs that do not validate are returned in `invalid`.
 */
export async function listNetworks(client: Etcd3, prefix = '/knit/v1'): Promise<{ networks: NamedNetwork[]; invalid: InvalidNetwork[] }> {
  const networks: NamedNetwork[] = [];
  const invalid: InvalidNetwork[] = [];
  const head = Buffer.from(`${prefix.replace(/\/+$/, '')}/networks/`);
  // Both reads at once: one round trip to etcd instead of two, on every node at every change.
  const [dflt, kvs] = await Promise.all([
    readNetworkConfig(client, prefix).catch((err: unknown) => {
      if (err instanceof NetworkConfigError) {
        invalid.push({ name: DEFAULT_NETWORK, error: err.message });
        return undefined;
      }
      throw err;
    }),
    client.kv.range({ key: head, range_end: prefixEnd(head) }, callOpts()).then((r) => r.kvs, (err: unknown) => {
      throw wrapEtcdError(`list networks under ${head.toString()}`, err);
    }),
  ]);
  if (dflt) networks.push({ name: DEFAULT_NETWORK, config: dflt });
  for (const kv of kvs) {
    const name = networkNameOfKey(prefix, kv.key.toString('utf8'));
    if (name === undefined) continue;
    try {
      networks.push({ name, config: parseNetworkConfigText(kv.value.toString('utf8')) });
    } catch (err) {
      invalid.push({ name, error: errorMessage(err) });
    }
  }
  networks.sort((a, b) => (a.name === DEFAULT_NETWORK ? -1 : b.name === DEFAULT_NETWORK ? 1 : a.name.localeCompare(b.name)));
  return { networks, invalid };
}

/** Reads one network (default or named); undefined when absent. */
export async function readNamedNetwork(client: Etcd3, name: string, prefix = '/knit/v1'): Promise<NetworkConfig | undefined> {
  return readNetworkConfig(client, networkPrefix(prefix, name));
}

/** A network's CIDRs, one per family it has (IPv4-only, dual-stack or IPv6-only). */
function familyCidrs(config: NetworkConfig): string[] {
  const f = networkFamilies(config);
  return [f.ipv4?.clusterCidr, f.ipv6?.clusterCidr].filter((c): c is string => c !== undefined);
}

/**
 * Why `config` cannot join `existing` (a CIDR of either family overlapping
 * another network's, taken VNI, colliding device), or undefined. CIDRs of
 * different families never overlap, so an IPv4-only and an IPv6-only network
 * can always coexist.
 */
export function networkConflict(name: string, config: NetworkConfig, existing: readonly NamedNetwork[]): string | undefined {
  const mine = familyCidrs(config);
  for (const other of existing) {
    if (other.name === name) return `network ${name} already exists`;
    for (const theirs of familyCidrs(other.config)) {
      const clash = mine.find((c) => cidrsOverlap(mustParseCidrAny(c), mustParseCidrAny(theirs)));
      if (clash !== undefined) return `CIDR ${clash} overlaps network ${other.name} (${theirs})`;
    }
    if (config.backend.type === 'vxlan' && other.config.backend.type === 'vxlan' && config.backend.vni === other.config.backend.vni) {
      return `VXLAN VNI ${config.backend.vni} is used by network ${other.name}`;
    }
    if (other.name !== DEFAULT_NETWORK && networkBridgeName(other.name) === networkBridgeName(name)) {
      return `device name ${networkBridgeName(name)} would collide with network ${other.name}'s; pick another name`;
    }
  }
  return undefined;
}

/** The lowest VXLAN VNI no network uses (≥ 2: 1 is the default network's default). */
export function freeVni(existing: readonly NamedNetwork[]): number {
  const used = new Set(existing.flatMap((n) => (n.config.backend.type === 'vxlan' ? [n.config.backend.vni] : [])));
  let vni = 2;
  while (used.has(vni)) vni++;
  return vni;
}

/**
 * The key every create bumps, in the same transaction as the new network's
 * config: a create commits only if this key is unchanged since the network
 * list it checked for conflicts was read. Two creates of different names
 * with overlapping CIDRs (or the same VNI) cannot both pass their check on
 * the same list any more; the loser reads the list again and sees the
 * winner.
 */
export function networksEpochKey(prefix: string): string {
  return `${prefix.replace(/\/+$/, '')}/networks-epoch`;
}

/**
 * Tries before a create that keeps losing its race to other creates gives
 * up. Every lost try means another create committed, so N racers all finish
 * within N tries; the jittered pause spreads retries that lost together.
 */
const CREATE_ATTEMPTS = 32;

async function modRevision(client: Etcd3, key: Buffer): Promise<string> {
  const res = await client.kv.range({ key, keys_only: true }, callOpts());
  return res.kvs[0]?.mod_revision ?? '0';
}

/**
 * Creates a named network if absent and if it conflicts with no other
 * network, as one decision: the conflict check and the write commit
 * together or not at all (networksEpochKey). With `pickVni`, a VXLAN
 * network's VNI is chosen inside that decision (the lowest free one), so
 * concurrent creates that left the VNI to knit get different ones. Returns
 * the config as stored. Throws ConflictError naming the conflict.
 */
export async function createNamedNetwork(
  client: Etcd3, name: string, config: NetworkConfig, prefix = '/knit/v1', opts: { pickVni?: boolean } = {},
): Promise<NetworkConfig> {
  const problem = networkNameProblem(name);
  if (problem) throw new NetworkConfigError('name', problem);
  if (name === DEFAULT_NETWORK) throw new ConflictError(`network ${DEFAULT_NETWORK} is the one at ${networkKey(prefix)}; create it with "knitctl network init"`);
  const key = Buffer.from(networkKey(networkPrefix(prefix, name)));
  const epoch = Buffer.from(networksEpochKey(prefix));
  const dflt = Buffer.from(networkKey(prefix));
  for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
    let seen: { epoch: string; dflt: string };
    try {
      // Read before the list: anything committed after these reads fails the compare below.
      seen = { epoch: await modRevision(client, epoch), dflt: await modRevision(client, dflt) };
    } catch (err) {
      throw wrapEtcdError(`create network ${name}`, err);
    }
    const { networks } = await listNetworks(client, prefix);
    const want: NetworkConfig = opts.pickVni && config.backend.type === 'vxlan'
      ? { ...config, backend: { ...config.backend, vni: freeVni(networks) } }
      : config;
    const conflict = networkConflict(name, want, networks);
    if (conflict) throw new ConflictError(`create network ${name}: ${conflict}`);
    let res;
    try {
      res = await client.kv.txn({
        compare: [
          { key, target: 'Create', result: 'Equal', create_revision: 0 },
          { key: epoch, target: 'Mod', result: 'Equal', mod_revision: seen.epoch },
          { key: dflt, target: 'Mod', result: 'Equal', mod_revision: seen.dflt },
        ],
        success: [
          { request_put: { key, value: Buffer.from(formatNetworkConfig(want)) } },
          { request_put: { key: epoch, value: Buffer.from(name) } },
        ],
        failure: [{ request_range: { key, keys_only: true } }],
      }, callOpts());
    } catch (err) {
      throw wrapEtcdError(`create network ${name}`, err);
    }
    if (res.succeeded) return want;
    const existing = res.responses[0]?.response_range?.kvs ?? [];
    if (existing.length > 0) throw new ConflictError(`create network ${name}: network ${name} already exists`);
    // Another create (or the default network) changed in between: check again against the new list.
    await new Promise((r) => setTimeout(r, backoffDelay(Math.min(attempt, 5), 5, 200, 0.5, Math.random())));
  }
  throw new ConflictError(`create network ${name}: other networks kept being created meanwhile (${CREATE_ATTEMPTS} tries); try again`);
}

/** What a new named network is asked for (knitctl's flags, the API's CreateNetwork); unset = knit's default. */
export interface NetworkSpec {
  /** the network's CIDR: IPv4 (IPv4-only, or dual-stack with ipv6Cidr) or IPv6 (IPv6-only) */
  cidr?: string;
  subnetLength?: number;
  /** dual-stack: the IPv6 CIDR next to an IPv4 `cidr` (config key ipv6ClusterCidr) */
  ipv6Cidr?: string;
  /** dual-stack: each node's IPv6 subnet length (config key ipv6SubnetLength, default 64) */
  ipv6SubnetLength?: number;
  /** masquerade IPv6 traffic leaving the network (config key ipv6Masquerade, default off) */
  ipv6Masquerade?: boolean;
  /** 'vxlan' (default), 'host-gw', … */
  backend?: string;
  /** vxlan only; unset = a free one */
  vni?: number;
  mtu?: number;
  internal?: boolean;
  noMasquerade?: boolean;
}

/** The config document of a new named network (to validate with the backend's parseNetwork). */
export function networkDocument(spec: NetworkSpec, freeVniValue: number): Record<string, unknown> {
  if (spec.cidr === undefined) throw new NetworkConfigError('--cidr', 'is required, e.g. --cidr 10.50.0.0/16');
  const type = spec.backend ?? 'vxlan';
  const backend: Record<string, unknown> = { type };
  if (type === 'vxlan') backend.vni = spec.vni ?? freeVniValue;
  else if (spec.vni !== undefined) throw new NetworkConfigError('--vni', `only applies to the vxlan backend, not ${type}`);
  const doc: Record<string, unknown> = { clusterCidr: spec.cidr, backend };
  if (spec.subnetLength !== undefined) doc.subnetLength = spec.subnetLength;
  if (spec.ipv6Cidr !== undefined) doc.ipv6ClusterCidr = spec.ipv6Cidr;
  if (spec.ipv6SubnetLength !== undefined) doc.ipv6SubnetLength = spec.ipv6SubnetLength;
  if (spec.ipv6Masquerade) doc.ipv6Masquerade = true;
  if (spec.mtu !== undefined) doc.mtu = spec.mtu;
  if (spec.internal) doc.internal = true;
  if (spec.noMasquerade || spec.internal) doc.masquerade = false;
  return doc;
}

/** A network with where it lives. */
export interface NetworkDetail {
  name: string;
  config: NetworkConfig;
  /** derived bridge name on every node (the default network's is each knitd's --bridge) */
  bridge?: string;
  /** per node: its subnet (IPv6 in an IPv6-only network) and, dual-stack, its paired IPv6 subnet */
  subnets: Array<{ subnet: string; ipv6Subnet?: string; node: string; publicIp: string; publicIpv6?: string }>;
  attached: Array<{ node: string; endpoints: number }>;
}

/** One network (default or named) with its leases and attached nodes; undefined when absent. */
export async function inspectNetwork(client: Etcd3, name: string, prefix = '/knit/v1'): Promise<NetworkDetail | undefined> {
  const config = await readNamedNetwork(client, name, prefix);
  if (config === undefined) return undefined;
  const registry = new EtcdRegistry(client, {
    prefix: networkPrefix(prefix, name),
    scope: config,
  });
  const { leases } = await registry.listLeases();
  return {
    name, config,
    ...(name !== DEFAULT_NETWORK ? { bridge: networkBridgeName(name) } : {}),
    subnets: leases.map((r) => ({
      subnet: r.lease.subnet, ...(r.lease.ipv6Subnet !== undefined ? { ipv6Subnet: r.lease.ipv6Subnet } : {}),
      node: r.lease.nodeName, publicIp: r.lease.publicIp, ...(r.lease.publicIpv6 !== undefined ? { publicIpv6: r.lease.publicIpv6 } : {}),
    }))
      .sort((a, b) => a.node.localeCompare(b.node)),
    attached: name === DEFAULT_NETWORK ? [] : await attachedNodes(client, name, prefix),
  };
}

/** Key of the marker saying `node` has endpoints on network `name`. */
export function attachedKey(prefix: string, name: string, node: string): string {
  return `${networkPrefix(prefix, name)}/attached/${node}`;
}

/** Nodes that have endpoints on the network (from their markers). */
export async function attachedNodes(client: Etcd3, name: string, prefix = '/knit/v1'): Promise<Array<{ node: string; endpoints: number }>> {
  const head = Buffer.from(`${networkPrefix(prefix, name)}/attached/`);
  let kvs;
  try {
    kvs = (await client.kv.range({ key: head, range_end: prefixEnd(head) }, callOpts())).kvs;
  } catch (err) {
    throw wrapEtcdError(`list nodes attached to network ${name}`, err);
  }
  return kvs.map((kv) => {
    const n = Number((JSON.parse(kv.value.toString('utf8')) as { endpoints?: unknown }).endpoints);
    return { node: kv.key.toString('utf8').slice(head.length), endpoints: Number.isInteger(n) ? n : 0 };
  });
}

/**
 * Writes (count > 0) or deletes (count 0) this node's attachment marker,
 * bound to the node's etcd lease when given so a dead node's marker goes
 * with its subnet lease.
 */
export async function setAttached(client: Etcd3, name: string, node: string, endpoints: number, leaseId: string | undefined, prefix = '/knit/v1'): Promise<void> {
  const key = attachedKey(prefix, name, node);
  try {
    if (endpoints === 0) {
      await client.kv.deleteRange({ key: Buffer.from(key) }, callOpts());
    } else {
      await client.kv.put({ key: Buffer.from(key), value: Buffer.from(JSON.stringify({ endpoints })), ...(leaseId ? { lease: leaseId } : {}) }, callOpts());
    }
  } catch (err) {
    throw wrapEtcdError(`record ${endpoints} endpoints of ${node} on network ${name}`, err);
  }
}

/**
 * Removes a named network: refused (ConflictError naming the nodes) while
 * any node has endpoints on it. Nodes see the config key go and tear down
 * their bridge, device, routes and lease. Returns false when it did not exist.
 */
export async function removeNamedNetwork(client: Etcd3, name: string, prefix = '/knit/v1'): Promise<boolean> {
  if (name === DEFAULT_NETWORK) throw new ConflictError(`network ${DEFAULT_NETWORK} cannot be removed`);
  const problem = networkNameProblem(name);
  if (problem) throw new NetworkConfigError('name', problem);
  const attached = (await attachedNodes(client, name, prefix)).filter((a) => a.endpoints > 0);
  if (attached.length > 0) {
    const where = attached.map((a) => `${a.node} (${a.endpoints})`).join(', ');
    throw new ConflictError(`network ${name} still has endpoints on ${where}; detach them first`);
  }
  const key = Buffer.from(networkKey(networkPrefix(prefix, name)));
  const attachedHead = Buffer.from(`${networkPrefix(prefix, name)}/attached/`);
  try {
    // Only if still no endpoint marker appeared since the check (a node writes
    // its marker before it attaches the first container).
    const res = await client.kv.txn({
      compare: [{ key: attachedHead, range_end: prefixEnd(attachedHead), target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_delete_range: { key } }],
      failure: [],
    }, callOpts());
    if (!res.succeeded) throw new ConflictError(`network ${name} gained endpoints while being removed; retry`);
    return Number(res.responses[0]?.response_delete_range?.deleted ?? 0) > 0;
  } catch (err) {
    if (err instanceof ConflictError) throw err;
    throw wrapEtcdError(`remove network ${name}`, err);
  }
}
