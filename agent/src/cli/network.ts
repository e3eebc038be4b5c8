/**
 * `knitctl network show|init`: the cluster network config lives in etcd, not
 * in any knitd, so these talk to etcd through `NetworkConfigStore` (the real
 * one is etcd-network-store.ts; tests pass a fake). `init` validates with the
 * store's own parser before writing, so a bad config never reaches etcd.
 */
import { NetworkConfigError, parseNetworkConfig } from '../store';

/** The two etcd operations knitctl needs. */
export interface NetworkConfigStore {
  /** The stored config (validated), or undefined when none is stored. */
  get(): Promise<unknown | undefined>;
  /** Writes `cfg` only if no config exists. */
  init(cfg: unknown): Promise<'created' | 'exists'>;
  close?(): Promise<void> | void;
}

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
  io.out(JSON.stringify(cfg, null, 2) + '\n');
  return 0;
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
    io.err(`knitctl: ${source} is not JSON: ${(e as Error).message}\n`);
    return 1;
  }
  let cfg;
  try {
    cfg = parseNetworkConfig(doc);
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
