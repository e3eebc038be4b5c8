/**
 * Agent liveness in etcd: one key per node, `<prefix>/alive/<nodeName>`,
 * bound to its OWN short etcd lease (default TTL 10 s), apart from the subnet
 * lease. The subnet lease lives for a day so that routes survive an agent
 * restart; this key lives only while the agent keeps it alive, so every node
 * learns within one TTL that a peer's knitd stopped (its key expires, or is
 * revoked on a clean stop) and when it came back.
 *
 * Liveness is information, never a trigger: nothing removes routes because
 * an agent is down (its containers may still run).
 *
 * Values from etcd are untrusted: a value that does not parse, or whose node
 * name disagrees with its key, is skipped (and logged once per revision).
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Logger } from '../log/logger';
import { silentLogger } from '../log/logger';
import { canonicalIp } from '../net/ip';
import { wrapEtcdError } from './errors';
import { keepAliveOnce } from './keep-alive';
import { prefixEnd } from './registry';
import { errorMessage } from '../base';

/** What a node publishes under its liveness key. */
export interface AliveValue {
  nodeName: string;
  /** Underlay address, informational. */
  publicIp: string;
  /** When this knitd process started (RFC 3339). */
  startedAt: string;
  /** knitd's version. */
  version: string;
}

/** One liveness key as read. */
export interface AliveRecord {
  value: AliveValue;
  /** Revision at which the key was (re)created: the moment the agent came (back) up. */
  createRevision: number;
}

/** All liveness keys in one consistent read. */
export interface AliveList {
  alive: AliveRecord[];
  revision: number;
}

/** What a liveness watch reports. */
export interface AliveWatchHandlers {
  /** A node's key was written (agent up). */
  onAlive(record: AliveRecord): void;
  /** A node's key is gone (expired or revoked: agent down). */
  onGone(nodeName: string): void;
  /** The watch lost or regained etcd; while lost, liveness is unknown. */
  onConnection(connected: boolean): void;
  /** The watch failed for good (e.g. compacted history): re-list and watch again. */
  onFailed(err: Error): void;
}

/** A running watch; `close` stops it. */
export interface AliveWatch {
  close(): Promise<void>;
}

export interface LivenessRegistryOptions {
  /** Key prefix, default "/knit/v1". */
  prefix?: string;
  /** Deadline of each unary call, default 5000 ms. */
  callTimeoutMs?: number;
  logger?: Logger;
}

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const MAX_VERSION = 64;

/** Parses an untrusted liveness value for the key name `keyName`; throws with the reason. */
export function parseAliveValue(keyName: string, raw: Buffer | string): AliveValue {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString());
  } catch {
    throw new Error('not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o.nodeName !== 'string' || !NAME.test(o.nodeName)) throw new Error('nodeName is not a DNS-1123 name');
  if (o.nodeName !== keyName) throw new Error(`nodeName ${o.nodeName} disagrees with its key ${keyName}`);
  // IPv6 in an IPv6-only cluster (the node's underlay address is its lease's publicIp); canonical, as knitd writes it.
  if (typeof o.publicIp !== 'string' || (o.publicIp !== '' && canonicalIp(o.publicIp) !== o.publicIp)) throw new Error('publicIp is not an IP address in canonical form');
  if (typeof o.startedAt !== 'string' || Number.isNaN(Date.parse(o.startedAt))) throw new Error('startedAt is not a time');
  if (typeof o.version !== 'string' || o.version.length > MAX_VERSION) throw new Error('version is not a short string');
  return { nodeName: o.nodeName, publicIp: o.publicIp, startedAt: new Date(o.startedAt).toISOString(), version: o.version };
}

/** Liveness keys on etcd. */
export class EtcdLivenessRegistry {
  /** e.g. "/knit/v1/alive/" */
  readonly alivePrefix: string;
  private readonly callTimeoutMs: number;
  private readonly log: Logger;
  private readonly skipped = new Set<string>();

  constructor(private readonly client: Etcd3, opts: LivenessRegistryOptions = {}) {
    this.alivePrefix = `${(opts.prefix ?? '/knit/v1').replace(/\/+$/, '')}/alive/`;
    this.callTimeoutMs = opts.callTimeoutMs ?? 5000;
    this.log = opts.logger ?? silentLogger();
  }

  private callOpts(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.callTimeoutMs) };
  }

  /**
   * Grants a fresh etcd lease of `ttlSeconds` and puts this node's key bound
   * to it (unconditionally: the key is named after the node, nobody else
   * writes it). Returns the etcd lease ID to keep alive.
   */
  async publish(value: AliveValue, ttlSeconds: number): Promise<string> {
    const context = `publish liveness of ${value.nodeName}`;
    let id: string;
    try {
      const res = await this.client.leaseClient.leaseGrant({ TTL: ttlSeconds }, this.callOpts());
      id = res.ID;
    } catch (err) {
      throw wrapEtcdError(`${context}: grant etcd lease (TTL ${ttlSeconds}s)`, err);
    }
    try {
      await this.client.kv.put({ key: Buffer.from(this.alivePrefix + value.nodeName), value: Buffer.from(JSON.stringify(value)), lease: id }, this.callOpts());
    } catch (err) {
      await this.revoke(id);
      throw wrapEtcdError(context, err);
    }
    return id;
  }

  /** One keep-alive; the TTL etcd granted (0 or less: the lease, and so the key, is gone). */
  keepAlive(id: string): Promise<number> {
    return keepAliveOnce(this.client, id, this.callTimeoutMs, this.log).catch((err: unknown) => {
      throw wrapEtcdError(`keep liveness lease ${id} alive`, err);
    });
  }

  /**
   * Revokes the etcd lease (its key goes with it): a clean stop. Best effort,
   * and at most a second: a stop must not wait on an unreachable etcd (the
   * key then expires by its TTL).
   */
  async revoke(id: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: id }, { deadline: new Date(Date.now() + Math.min(this.callTimeoutMs, 1000)) });
    } catch (err) {
      this.log.debug('revoke liveness lease failed (it expires by its TTL)', { leaseId: id, error: errorMessage(err) });
    }
  }

  /** Every valid liveness key now. */
  async list(): Promise<AliveList> {
    const prefix = Buffer.from(this.alivePrefix);
    try {
      const res = await this.client.kv.range({ key: prefix, range_end: prefixEnd(prefix) }, this.callOpts());
      const alive: AliveRecord[] = [];
      for (const kv of res.kvs) {
        const r = this.parseKv(kv);
        if (r) alive.push(r);
      }
      return { alive, revision: Number(res.header.revision) };
    } catch (err) {
      throw wrapEtcdError(`list liveness keys under ${this.alivePrefix}`, err);
    }
  }

  /** Watches the liveness keys from `fromRevision` (list().revision + 1). */
  async watch(fromRevision: number, h: AliveWatchHandlers): Promise<AliveWatch> {
    let watcher: Watcher;
    try {
      watcher = await this.client.watch().prefix(this.alivePrefix).startRevision(String(fromRevision)).create();
    } catch (err) {
      throw wrapEtcdError(`watch liveness keys under ${this.alivePrefix}`, err);
    }
    watcher.on('put', (kv) => {
      const r = this.parseKv(kv);
      // a bad value replaces whatever was there: the agent is not provably alive
      if (r) h.onAlive(r);
      else h.onGone(this.keyName(kv));
    });
    watcher.on('delete', (kv) => h.onGone(this.keyName(kv)));
    watcher.on('disconnected', () => h.onConnection(false));
    watcher.on('connected', () => h.onConnection(true));
    watcher.on('error', (err) => h.onFailed(err));
    return { close: async () => { await watcher.cancel(); } };
  }

  private keyName(kv: IKeyValue): string {
    return kv.key.toString('utf8').slice(this.alivePrefix.length);
  }

  private parseKv(kv: IKeyValue): AliveRecord | undefined {
    const name = this.keyName(kv);
    try {
      return { value: parseAliveValue(name, kv.value), createRevision: Number(kv.create_revision) };
    } catch (err) {
      const tag = `${name}@${String(kv.mod_revision)}`;
      if (!this.skipped.has(tag)) {
        if (this.skipped.size >= 1024) this.skipped.clear(); // bounded: a flood of garbage is logged again, never held forever
        this.skipped.add(tag);
        this.log.warn('skipping an invalid liveness key', { key: this.alivePrefix + name, reason: errorMessage(err) });
      }
      return undefined;
    }
  }
}
