/**
 * `knitctl network show|init|create|ls|inspect|rm`: the networks live in
 * etcd, not in any knitd, so these talk to etcd through `NetworkConfigStore`
 * (the real one is etcd-network-store.ts; tests pass a fake). Configs are
 * validated with the store's own parser before writing, so a bad config
 * never reaches etcd.
 */
import { ConflictError, networkDocument, NetworkConfigError, type NetworkConfig, type NetworkDetail } from '../store';
import { parseNetwork } from '../backend';
import { renderFields, renderTable, type Cell } from './table';
import { errorMessage } from '../base';

/** The two etcd operations knitctl needs. */
export interface NetworkConfigStore {
  /** The stored config (validated), or undefined when none is stored. */
  get(): Promise<unknown | undefined>;
  /** Writes `cfg` only if no config exists. */
  init(cfg: unknown): Promise<'created' | 'exists'>;
  /** Every network, the default one first, and named configs that do not validate. */
  list(): Promise<{ networks: NetworkSummary[]; invalid: Array<{ name: string; error: string }> }>;
  /** One network with its leases and attached nodes; undefined when absent. */
  inspect(name: string): Promise<NetworkDetail | undefined>;
  /** The VNI a new VXLAN network gets when none is given. */
  freeVni(): Promise<number>;
  /**
   * Creates a named network, checked against every other network in one
   * atomic step; rejects with a message naming the conflict. With `pickVni`
   * the store chooses a free VXLAN VNI in that step. Resolves with the
   * config as stored.
   */
  create(name: string, cfg: NetworkConfig, opts?: { pickVni?: boolean }): Promise<NetworkConfig>;
  /** Removes a named network; rejects while endpoints exist; false when absent. */
  remove(name: string): Promise<boolean>;
  close?(): Promise<void> | void;
}

/** A network as listed. */
export interface NetworkSummary {
  name: string;
  config: NetworkConfig;
}

export type { NetworkDetail };

export interface NetworkIo {
  out(text: string): void;
  err(text: string): void;
  json: boolean;
}

/** Exit status 0 when a config is stored (printed), 1 when none is. */
export async function networkShow(store: NetworkConfigStore, io: NetworkIo): Promise<number> {
  const cfg = await store.get();
  if (cfg === undefined) {
    io.err('knitctl: no network config is stored in etcd yet; create one with "knitctl network init FILE"\n');
    return 1;
  }
  io.out(io.json ? JSON.stringify(cfg, null, 2) + '\n' : renderFields(flatten(cfg)));
  return 0;
}

/** `{backend: {type: "vxlan"}}` → [["backend.type", "vxlan"]]: every leaf once, in the stored order. */
function flatten(v: unknown, prefix = ''): Array<[string, Cell]> {
  if (v === null || v === undefined) return [[prefix, '']];
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return [[prefix, v]];
  if (typeof v !== 'object') return [[prefix, String(v)]];
  if (Array.isArray(v)) return [[prefix, v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')]];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => flatten(x, prefix === '' ? k : `${prefix}.${k}`));
}

/**
 * Validates and stores `text` (JSON). Exit status 0 when written, 1 when a
 * config already exists or the text does not validate.
 */
export async function networkInit(store: NetworkConfigStore, text: string, source: string, io: NetworkIo): Promise<number> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    io.err(`knitctl: ${source} is not JSON: ${errorMessage(e)}\n`);
    return 1;
  }
  let cfg;
  try {
    cfg = parseNetwork(doc);
  } catch (e) {
    if (e instanceof NetworkConfigError) {
      io.err(`knitctl: invalid network config in ${source}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const res = await store.init(cfg);
  if (res === 'exists') {
    io.err('knitctl: a network config is already stored in etcd; nothing written (see "knitctl network show")\n');
    if (io.json) io.out(JSON.stringify({ result: 'exists' }) + '\n');
    return 1;
  }
  if (io.json) io.out(JSON.stringify({ result: 'created', config: cfg }, null, 2) + '\n');
  else io.out(`network config stored: cluster ${cfg.clusterCidr}, /${cfg.subnetLength} per node${cfg.ipv6ClusterCidr !== undefined ? `, IPv6 ${cfg.ipv6ClusterCidr}, /${cfg.ipv6SubnetLength ?? 64} per node` : ''}, backend ${cfg.backend.type}\n`);
  return 0;
}

/** Flags of `network create`, as parsed strings. */
export interface CreateFlags {
  cidr?: string;
  subnetLength?: string;
  ipv6Cidr?: string;
  ipv6SubnetLength?: string;
  ipv6Masquerade?: boolean;
  backend?: string;
  vni?: string;
  mtu?: string;
  internal: boolean;
  noMasquerade: boolean;
}

function intFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new NetworkConfigError(flag, `must be an integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** The config document `network create` writes (validated by parseNetwork). */
export function createDocument(f: CreateFlags, freeVni: number): Record<string, unknown> {
  const vni = intFlag(f.vni, '--vni');
  const subnetLength = intFlag(f.subnetLength, '--subnet-length');
  const mtu = intFlag(f.mtu, '--mtu');
  const ipv6SubnetLength = intFlag(f.ipv6SubnetLength, '--ipv6-subnet-length');
  return networkDocument({
    ...(f.cidr !== undefined ? { cidr: f.cidr } : {}), ...(f.backend !== undefined ? { backend: f.backend } : {}),
    ...(f.ipv6Cidr !== undefined ? { ipv6Cidr: f.ipv6Cidr } : {}), ...(ipv6SubnetLength !== undefined ? { ipv6SubnetLength } : {}),
    ...(f.ipv6Masquerade ? { ipv6Masquerade: true } : {}),
    ...(vni !== undefined ? { vni } : {}), ...(subnetLength !== undefined ? { subnetLength } : {}), ...(mtu !== undefined ? { mtu } : {}),
    internal: f.internal, noMasquerade: f.noMasquerade,
  }, freeVni);
}

export async function networkCreate(store: NetworkConfigStore, name: string, f: CreateFlags, io: NetworkIo): Promise<number> {
  let cfg: NetworkConfig;
  try {
    cfg = parseNetwork(createDocument(f, f.backend === undefined || f.backend === 'vxlan' ? await store.freeVni() : 0));
  } catch (e) {
    if (e instanceof NetworkConfigError) {
      io.err(`knitctl: network ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    // A VNI left to knit is picked again in the store's atomic step: a concurrent create may have taken this one.
    cfg = await store.create(name, cfg, { pickVni: f.vni === undefined });
  } catch (e) {
    if (e instanceof ConflictError || e instanceof NetworkConfigError) {
      io.err(`knitctl: ${errorMessage(e)}\n`);
      return 1;
    }
    throw e;
  }
  if (io.json) io.out(JSON.stringify({ result: 'created', name, config: cfg }, null, 2) + '\n');
  else io.out(`network ${name} created: ${cfg.clusterCidr}, /${cfg.subnetLength} per node${cfg.ipv6ClusterCidr !== undefined ? `, IPv6 ${cfg.ipv6ClusterCidr}, /${cfg.ipv6SubnetLength ?? 64} per node` : ''}, backend ${describeBackend(cfg)}${cfg.internal ? ', internal' : ''}\n`);
  return 0;
}

/** "10.50.0.0/16 (/24 per node), fd00:50::/56 (/64 per node)": every family's CIDR with its node subnet length. */
function describeCidrs(cfg: NetworkConfig): string {
  return [
    `${cfg.clusterCidr} (/${cfg.subnetLength} per node)`,
    ...(cfg.ipv6ClusterCidr !== undefined ? [`${cfg.ipv6ClusterCidr} (/${cfg.ipv6SubnetLength ?? 64} per node)`] : []),
  ].join(', ');
}

/** One cell for both families, as knitctl shows dual-stack values elsewhere ("10.50.0.0/16,fd00:50::/56"). */
function bothFamilies(v4: string, v6: string | undefined): string {
  return v6 === undefined ? v4 : `${v4},${v6}`;
}

/**
 * "yes", "no", or per family when the network has IPv6: IPv4 follows
 * `masquerade`, IPv6 `ipv6Masquerade` ("IPv4 yes, IPv6 no"; IPv6-only: "IPv6 no").
 */
function describeMasquerade(cfg: NetworkConfig): string {
  const yn = (b: boolean | undefined): string => (b === true ? 'yes' : 'no');
  if (cfg.clusterCidr.includes(':')) return `IPv6 ${yn(cfg.ipv6Masquerade)}`;
  if (cfg.ipv6ClusterCidr !== undefined) return `IPv4 ${yn(cfg.masquerade)}, IPv6 ${yn(cfg.ipv6Masquerade)}`;
  return yn(cfg.masquerade);
}

function describeBackend(cfg: NetworkConfig): string {
  return cfg.backend.type === 'vxlan' ? `vxlan (VNI ${cfg.backend.vni})` : cfg.backend.type;
}

export async function networkList(store: NetworkConfigStore, io: NetworkIo): Promise<number> {
  const { networks, invalid } = await store.list();
  if (io.json) {
    io.out(JSON.stringify([
      ...networks.map((n) => ({ name: n.name, ...n.config })),
      ...invalid.map((n) => ({ name: n.name, invalid: n.error })),
    ], null, 2) + '\n');
    return 0;
  }
  io.out(renderTable(['NAME', 'CIDR', 'SUBNET', 'BACKEND', 'MASQUERADE', 'INTERNAL'], [
    ...networks.map((n) => [
      n.name, bothFamilies(n.config.clusterCidr, n.config.ipv6ClusterCidr),
      bothFamilies(`/${n.config.subnetLength}`, n.config.ipv6ClusterCidr !== undefined ? `/${n.config.ipv6SubnetLength ?? 64}` : undefined),
      describeBackend(n.config), describeMasquerade(n.config), n.config.internal ? 'yes' : 'no',
    ]),
    ...invalid.map((n) => [n.name, `invalid: ${n.error}`, '', '', '', '']),
  ]));
  return 0;
}

export async function networkInspect(store: NetworkConfigStore, name: string, io: NetworkIo): Promise<number> {
  const d = await store.inspect(name);
  if (d === undefined) {
    io.err(`knitctl: no network named ${name}\n`);
    return 1;
  }
  if (io.json) {
    io.out(JSON.stringify(d, null, 2) + '\n');
    return 0;
  }
  io.out([
    `Name:        ${d.name}`,
    `CIDR:        ${describeCidrs(d.config)}`,
    `Backend:     ${describeBackend(d.config)}`,
    `Masquerade:  ${describeMasquerade(d.config)}`,
    `Internal:    ${d.config.internal ? 'yes' : 'no'}`,
    ...(d.config.mtu !== undefined ? [`MTU:         ${d.config.mtu}`] : []),
    ...(d.bridge !== undefined ? [`Bridge:      ${d.bridge}`] : []),
    `Endpoints:   ${d.attached.length === 0 ? 'none' : d.attached.map((a) => `${a.node} (${a.endpoints})`).join(', ')}`,
    '',
  ].join('\n'));
  io.out(renderTable(['SUBNET', 'NODE', 'PUBLIC IP'], d.subnets.map((s) => [bothFamilies(s.subnet, s.ipv6Subnet), s.node, bothFamilies(s.publicIp, s.publicIpv6)])));
  return 0;
}

export async function networkRemove(store: NetworkConfigStore, name: string, io: NetworkIo): Promise<number> {
  let removed: boolean;
  try {
    removed = await store.remove(name);
  } catch (e) {
    if (e instanceof ConflictError || e instanceof NetworkConfigError) {
      io.err(`knitctl: ${errorMessage(e)}\n`);
      return 1;
    }
    throw e;
  }
  if (!removed) {
    io.err(`knitctl: no network named ${name}\n`);
    return 1;
  }
  if (io.json) io.out(JSON.stringify({ result: 'removed', name }) + '\n');
  else io.out(`network ${name} removed\n`);
  return 0;
}
