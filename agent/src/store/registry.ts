/**
 * Raw etcd access for subnet leases (the `Registry` half of flannel's split:
 * no allocation rules here, only compare-and-swap transactions, etcd leases
 * and the watch). Every write is conditional:
 *   create  — only if the key does not exist (create_revision == 0);
 *   update  — only if the key's mod revision is still the one we hold;
 *   delete  — likewise;
 * so a node can never overwrite a lease it does not hold (flannel #1343).
 * Every unary call carries a deadline, so a frozen etcd surfaces as
 * EtcdUnavailableError instead of a hang.
 */
import type { Etcd3, IKeyValue, ITxnResponse } from 'etcd3';

type TxnCompare = NonNullable<Parameters<Etcd3['kv']['txn']>[0]['compare']>[number];
import type { Logger } from '../log/logger';
import { silentLogger } from '../log/logger';
import { ConflictError, LeaseExpiredError, wrapEtcdError } from './errors';
import { keepAliveOnce } from './keep-alive';
import { encodeLeaseValue, InvalidLeaseError, parseLease, parseSubnetKeyName, subnetKeyName, type LeaseScope, type LeaseValue } from './lease-codec';
import type { LeaseList, LeaseRecord, LeaseWatch, LeaseWatchHandlers, ParsedKv } from './lease-record';
import { cidrCoversAny, formatCidrAny, mustParseCidrAny } from '../net/ip';
import { watchLeasePrefix } from './lease-watch';
import { errorMessage } from '../base';


/** Options of an EtcdRegistry. */
export interface RegistryOptions {
  /** Key prefix, default "/knit/v1" (tests use a unique one). */
  prefix?: string;
  /** The cluster CIDR and subnet length every lease must fit. */
  scope: LeaseScope;
  /** Deadline of each unary etcd call, default 5000 ms. */
  callTimeoutMs?: number;
  /**
   * Watch: a lone event is delivered at once; events that follow within this
   * window are collected and delivered together when it ends (default 5 ms).
   */
  batchWindowMs?: number;
  logger?: Logger;
  /** Sees failed etcd calls and watch re-opens (metrics); must not throw. */
  observer?: RegistryObserver;
}

/**
 * What the registry reports for metrics. `op` of a failed call: 'grant',
 * 'create', 'update', 'delete', 'renew', 'list' or 'watch'.
 */
export interface RegistryObserver {
  onError?(op: string, err: Error): void;
  /** The lease watch is re-opened (after a stream error or a re-list). */
  onWatchRestart?(): void;
}

/** Lease storage on etcd. Owns no timers except those of running watches. */
export class EtcdRegistry {
  /** e.g. "/knit/v1/subnets/" */
  readonly subnetsPrefix: string;
  private readonly scope: LeaseScope;
  private readonly callTimeoutMs: number;
  private readonly batchWindowMs: number;
  private readonly log: Logger;
  private readonly observer: RegistryObserver;

  constructor(
    private readonly client: Etcd3,
    opts: RegistryOptions,
  ) {
    this.subnetsPrefix = `${(opts.prefix ?? '/knit/v1').replace(/\/+$/, '')}/subnets/`;
    this.scope = opts.scope;
    this.callTimeoutMs = opts.callTimeoutMs ?? 5000;
    this.batchWindowMs = opts.batchWindowMs ?? 5;
    this.log = opts.logger ?? silentLogger();
    this.observer = opts.observer ?? {};
  }

  /** Reports a failed call to the observer and hands the error back for throwing. */
  private failed<E extends Error>(op: string, err: E): E {
    try {
      this.observer.onError?.(op, err);
    } catch {
      // a broken metrics hook must not change what the caller sees
    }
    return err;
  }

  /** The full key of a subnet's lease. */
  keyOf(subnet: string): string {
    return this.subnetsPrefix + subnetKeyName(subnet);
  }

  private callOpts(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.callTimeoutMs) };
  }

  private async grant(ttlSeconds: number, context: string): Promise<string> {
    try {
      const res = await this.client.leaseClient.leaseGrant({ TTL: ttlSeconds }, this.callOpts());
      if (res.error) throw new Error(res.error);
      return res.ID;
    } catch (err) {
      throw this.failed('grant', wrapEtcdError(`${context}: grant etcd lease (TTL ${ttlSeconds}s)`, err));
    }
  }

  /** Best effort: an orphaned etcd lease only costs etcd a timer until its TTL. */
  private async revokeQuietly(id: string): Promise<void> {
    if (id === '0') return;
    try {
      await this.client.leaseClient.leaseRevoke({ ID: id }, this.callOpts());
    } catch (err) {
      this.log.debug('revoke etcd lease failed (it will expire by itself)', { leaseId: id, error: errorMessage(err) });
    }
  }

  private async txn(op: string, context: string, req: Parameters<Etcd3['kv']['txn']>[0]): Promise<ITxnResponse> {
    try {
      return await this.client.kv.txn(req, this.callOpts());
    } catch (err) {
      throw this.failed(op, wrapEtcdError(context, err));
    }
  }

  private currentOf(res: ITxnResponse): IKeyValue | undefined {
    return res.responses[0]?.response_range?.kvs?.[0];
  }

  private record(subnet: string, value: LeaseValue, modRevision: number, etcdLeaseId: string): LeaseRecord {
    return { lease: { subnet: formatCidrAny(parseSubnetKeyName(subnetKeyName(subnet))), ...value }, modRevision, etcdLeaseId };
  }

  /**
   * Creates the lease for `subnet` if nobody holds it, bound to a fresh etcd
   * lease of `ttlSeconds`. Throws ConflictError (with the holder's value) when
   * the key exists, EtcdUnavailableError when etcd cannot be reached.
   */
  async createLease(subnet: string, value: LeaseValue, ttlSeconds: number): Promise<LeaseRecord> {
    const key = Buffer.from(this.keyOf(subnet));
    const context = `create lease ${subnet} for ${value.nodeName}`;
    const { id, revision } = await this.putOnNewEtcdLease('create', context, key, value, ttlSeconds,
      { key, target: 'Create', result: 'Equal', create_revision: 0 },
      () => `${context}: subnet already leased`);
    return this.record(subnet, value, revision, id);
  }

  /**
   * Rewrites a lease we hold with a new value and a fresh etcd lease, only if
   * the key's mod revision is still `held.modRevision`; the old etcd lease is
   * revoked afterwards. Throws ConflictError when the key changed or vanished.
   */
  async updateLease(held: LeaseRecord, value: LeaseValue, ttlSeconds: number): Promise<LeaseRecord> {
    const subnet = held.lease.subnet;
    const key = Buffer.from(this.keyOf(subnet));
    const context = `update lease ${subnet} for ${value.nodeName}`;
    const { id, revision } = await this.putOnNewEtcdLease('update', context, key, value, ttlSeconds,
      { key, target: 'Mod', result: 'Equal', mod_revision: held.modRevision },
      (cur) => `${context}: lease changed since revision ${held.modRevision}${cur ? '' : ' (key gone)'}`);
    if (held.etcdLeaseId !== id) await this.revokeQuietly(held.etcdLeaseId);
    return this.record(subnet, value, revision, id);
  }

  /**
   * Grants a fresh etcd lease and puts `value` at `key` bound to it, if
   * `compare` holds, in one transaction; on any failure the new etcd lease is
   * revoked, and a failed compare is a ConflictError carrying the key's value.
   */
  private async putOnNewEtcdLease(
    op: string, context: string, key: Buffer, value: LeaseValue, ttlSeconds: number,
    compare: TxnCompare, conflict: (current: IKeyValue | undefined) => string,
  ): Promise<{ id: string; revision: number }> {
    const id = await this.grant(ttlSeconds, context);
    let res: ITxnResponse;
    try {
      res = await this.txn(op, context, {
        compare: [compare],
        success: [{ request_put: { key, value: Buffer.from(encodeLeaseValue(value)), lease: id } }],
        failure: [{ request_range: { key } }],
      });
    } catch (err) {
      await this.revokeQuietly(id);
      throw err;
    }
    if (!res.succeeded) {
      await this.revokeQuietly(id);
      const cur = this.currentOf(res);
      throw new ConflictError(conflict(cur), cur?.value.toString('utf8'));
    }
    return { id, revision: Number(res.header.revision) };
  }

  /**
   * Keeps the etcd lease alive and checks the key is still ours. Returns the
   * TTL etcd granted. Throws LeaseExpiredError when the etcd lease or the key
   * is gone, ConflictError when the key now holds someone else's write.
   */
  async renewLease(held: LeaseRecord): Promise<{ ttlSeconds: number }> {
    const subnet = held.lease.subnet;
    const context = `renew lease ${subnet}`;
    let ttl: number;
    try {
      ttl = await keepAliveOnce(this.client, held.etcdLeaseId, this.callTimeoutMs, this.log);
    } catch (err) {
      throw this.failed('renew', wrapEtcdError(context, err));
    }
    if (ttl <= 0) throw new LeaseExpiredError(`${context}: etcd lease ${held.etcdLeaseId} expired`);
    let kv: IKeyValue | undefined;
    try {
      const res = await this.client.kv.range({ key: Buffer.from(this.keyOf(subnet)) }, this.callOpts());
      kv = res.kvs[0];
    } catch (err) {
      throw this.failed('renew', wrapEtcdError(context, err));
    }
    if (!kv) throw new LeaseExpiredError(`${context}: key was deleted`);
    if (Number(kv.mod_revision) !== held.modRevision) {
      throw new ConflictError(`${context}: key rewritten at revision ${kv.mod_revision} (ours was ${held.modRevision})`, kv.value.toString('utf8'));
    }
    return { ttlSeconds: ttl };
  }

  /** Deletes a lease we hold (compare on mod revision) and revokes its etcd lease. Throws ConflictError if not ours. */
  async deleteLease(held: LeaseRecord): Promise<void> {
    const subnet = held.lease.subnet;
    const key = Buffer.from(this.keyOf(subnet));
    const context = `delete lease ${subnet} of ${held.lease.nodeName}`;
    const res = await this.txn('delete', context, {
      compare: [{ key, target: 'Mod', result: 'Equal', mod_revision: held.modRevision }],
      success: [{ request_delete_range: { key } }],
      failure: [{ request_range: { key } }],
    });
    if (!res.succeeded) {
      const cur = this.currentOf(res);
      throw new ConflictError(`${context}: not ours any more${cur ? '' : ' (key gone)'}`, cur?.value.toString('utf8'));
    }
    await this.revokeQuietly(held.etcdLeaseId);
  }

  /** Parses one key/value from etcd into a record or the reason it is refused. */
  parseKv(kv: IKeyValue): ParsedKv {
    const keyName = kv.key.toString('utf8').slice(this.subnetsPrefix.length);
    try {
      const lease = parseLease(keyName, kv.value, this.scope);
      return { ok: true, record: { lease, modRevision: Number(kv.mod_revision), etcdLeaseId: kv.lease } };
    } catch (err) {
      if (!(err instanceof InvalidLeaseError)) throw err;
      let subnet: string | undefined;
      try {
        const net = parseSubnetKeyName(keyName);
        const inScope = net.prefixLength === this.scope.subnetLength && cidrCoversAny(mustParseCidrAny(this.scope.clusterCidr), net);
        subnet = inScope ? formatCidrAny(net) : undefined;
      } catch {
        subnet = undefined;
      }
      const modRevision = Number(kv.mod_revision);
      return { ok: false, entry: subnet === undefined ? { keyName, reason: err.message, modRevision } : { keyName, subnet, reason: err.message, modRevision } };
    }
  }

  /** All leases under the prefix, in one consistent read. */
  async listLeases(): Promise<LeaseList> {
    const prefix = Buffer.from(this.subnetsPrefix);
    try {
      const res = await this.client.kv.range({ key: prefix, range_end: prefixEnd(prefix) }, this.callOpts());
      const out: LeaseList = { leases: [], invalid: [], revision: Number(res.header.revision) };
      for (const kv of res.kvs) {
        const p = this.parseKv(kv);
        if (p.ok) out.leases.push(p.record);
        else out.invalid.push(p.entry);
      }
      return out;
    } catch (err) {
      throw this.failed('list', wrapEtcdError(`list leases under ${this.subnetsPrefix}`, err));
    }
  }

  /**
   * Watches every lease from `fromRevision` (use list.revision + 1). Bursts of
   * events are delivered as one batch; after a compaction the watch re-lists
   * and calls onReset; stream errors are retried with back-off.
   */
  watchLeases(fromRevision: number, handlers: LeaseWatchHandlers): LeaseWatch {
    const restarted = (): void => {
      try {
        this.observer.onWatchRestart?.();
      } catch {
        // metrics only
      }
    };
    const observed: LeaseWatchHandlers = {
      onEvents: (batch) => handlers.onEvents(batch),
      onReset: (list) => {
        restarted();
        handlers.onReset(list);
      },
      onError: (err) => {
        this.failed('watch', err);
        restarted();
        handlers.onError?.(err);
      },
    };
    return watchLeasePrefix({
      client: this.client,
      prefix: Buffer.from(this.subnetsPrefix),
      rangeEnd: prefixEnd(Buffer.from(this.subnetsPrefix)),
      fromRevision,
      batchWindowMs: this.batchWindowMs,
      parse: (kv) => this.parseKv(kv),
      subnetOfKey: (key) => {
        try {
          return formatCidrAny(parseSubnetKeyName(key.toString('utf8').slice(this.subnetsPrefix.length)));
        } catch {
          return undefined;
        }
      },
      relist: () => this.listLeases(),
      handlers: observed,
      log: this.log,
    });
  }
}

/** The end of a prefix range: the prefix with its last byte incremented. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i] += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
