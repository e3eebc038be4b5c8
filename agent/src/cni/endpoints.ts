/**
 * The container attachments of this node (endpoints), persisted next to the
 * IPAM state so that a knitd restart knows each container's namespace, MAC
 * and port mappings: port mappings must be re-rendered into nftables exactly
 * as they were, GC must know what exists, and the operator API lists them.
 *
 * The IPAM file stays the authority for addresses; this file adds what IPAM
 * does not need. Writes are coalesced like IPAM's.
 */
import { CoalescingWriter } from '../persist/coalescing-writer';
import { nodeStateFs, readIfExists, removeLeftoverTempFiles, writeFileAtomic } from '../persist/atomic-file';
import type { StateFs } from '../persist/atomic-file';
import type { Logger } from '../log/logger';
import type { Endpoint } from '../records';

export type { Endpoint } from '../records';

const FILE_VERSION = 1;

function key(containerId: string, ifname: string): string {
  return `${containerId}/${ifname}`;
}

function isEndpoint(v: unknown): v is Endpoint {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.containerId === 'string' && typeof e.ifname === 'string' && typeof e.netns === 'string'
    && typeof e.address === 'string' && typeof e.mac === 'string' && typeof e.hostVeth === 'string'
    && Array.isArray(e.portMappings) && typeof e.createdAt === 'string'
    && (e.ipv6Address === undefined || typeof e.ipv6Address === 'string')
    && (e.network === undefined || typeof e.network === 'string')
    && (e.labels === undefined || (typeof e.labels === 'object' && e.labels !== null && !Array.isArray(e.labels)
      && Object.values(e.labels).every((x) => typeof x === 'string')));
}

/** The endpoint's addresses by family: `address` is IPv6 in an IPv6-only cluster, `ipv6Address` dual-stack's second one. */
export function endpointIps(e: Endpoint): { ipv4?: string; ipv6?: string } {
  const first = e.address.split('/')[0]!;
  if (first.includes(':')) return { ipv6: first };
  return { ipv4: first, ...(e.ipv6Address !== undefined ? { ipv6: e.ipv6Address.split('/')[0]! } : {}) };
}

export class EndpointStore {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly writer: CoalescingWriter;

  private constructor(private readonly file: string, fs: StateFs) {
    this.writer = new CoalescingWriter(
      () => JSON.stringify({ version: FILE_VERSION, endpoints: [...this.endpoints.values()] }),
      (data) => writeFileAtomic(fs, this.file, data),
    );
  }

  /** Loads the file (absent = no endpoints); entries that do not parse are dropped with a warning. */
  static async open(file: string, logger: Logger, fs: StateFs = nodeStateFs): Promise<EndpointStore> {
    const store = new EndpointStore(file, fs);
    for (const t of await removeLeftoverTempFiles(file)) logger.warn('removed a temporary endpoint file left by a crash', { file: t });
    const text = await readIfExists(fs, file);
    if (text === undefined) return store;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (cause) {
      throw new Error(`endpoint state file ${file} is not JSON; move it away to start without endpoint records`, { cause });
    }
    const list = (doc as { endpoints?: unknown }).endpoints;
    if (!Array.isArray(list)) throw new Error(`endpoint state file ${file} has no endpoints list`);
    for (const e of list) {
      if (isEndpoint(e)) store.endpoints.set(key(e.containerId, e.ifname), e);
      else logger.warn('dropping unparsable endpoint record', { file, record: JSON.stringify(e).slice(0, 200) });
    }
    return store;
  }

  get(containerId: string, ifname: string): Endpoint | undefined {
    return this.endpoints.get(key(containerId, ifname));
  }

  list(): Endpoint[] {
    return [...this.endpoints.values()];
  }

  /** Bumped by every put and remove: readers keep a snapshot until it moves (the API's ListEndpoints). */
  get version(): number {
    return this.changes;
  }

  private changes = 0;

  /** Records an endpoint; resolves once durable. */
  put(e: Endpoint): Promise<void> {
    this.endpoints.set(key(e.containerId, e.ifname), e);
    this.changes++;
    return this.writer.changed();
  }

  /** Forgets an endpoint (idempotent); resolves once durable. */
  remove(containerId: string, ifname: string): Promise<Endpoint | undefined> {
    this.changes++;
    const k = key(containerId, ifname);
    const e = this.endpoints.get(k);
    if (!e) return Promise.resolve(undefined);
    this.endpoints.delete(k);
    return this.writer.changed().then(() => e);
  }
}
