/**
 * Publishes this node's endpoints for network policy: one etcd record per
 * attachment at `<prefix>/policy-endpoints/<network>/<node>:<container>:<ifname>`
 * holding `{labels, addresses}` (docs/policy.md), so every node can resolve a
 * selector to the addresses of matching endpoints anywhere in the cluster.
 *
 * Level-triggered: a sync lists every record, puts those of this node's
 * endpoints that are missing or differ, and deletes this node's records
 * whose endpoint is gone (a DEL while knitd was down, a record left by a
 * crash). Runs at start-up and after every attachment change, coalesced;
 * a failed sync (etcd away) is retried with the shared back-off.
 */
import type { Etcd3 } from 'etcd3';
import { Backoff, describeError, realClock, SerialRunner, Timer } from '../base';
import type { Logger } from '../log/logger';
import type { Endpoint } from '../records';

export interface PolicyEndpointsOptions {
  client: Etcd3;
  /** "/knit/v1" */
  prefix: string;
  nodeName: string;
  /** This node's endpoints, as the endpoint store holds them now. */
  endpoints: () => readonly Endpoint[];
  logger: Logger;
}

/** The record key's last segment: this node's name, the container and the interface. */
export function policyEndpointId(nodeName: string, e: Pick<Endpoint, 'containerId' | 'ifname'>): string {
  return `${nodeName}:${e.containerId}:${e.ifname}`;
}

/** The record of one endpoint: its labels and its addresses without prefix lengths. */
export function policyEndpointRecord(e: Endpoint): string {
  const addresses = [e.address, ...(e.ipv6Address !== undefined ? [e.ipv6Address] : [])].map((a) => a.split('/')[0]!);
  return JSON.stringify({ labels: e.labels ?? {}, addresses });
}

export class PolicyEndpointPublisher {
  private readonly runner: SerialRunner;
  private readonly backoff = new Backoff({ minMs: 200, maxMs: 10_000, jitter: 0.2 });
  private readonly retry: Timer;
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly o: PolicyEndpointsOptions) {
    this.log = o.logger.child({ module: 'policy-endpoints' });
    this.runner = new SerialRunner(() => this.sync());
    this.retry = new Timer(realClock, () => this.runner.request());
  }

  /** The first sync; never throws (a failure is retried in the background). */
  async start(): Promise<void> {
    await this.runner.join();
  }

  /** An attachment was added or removed: publish the change. */
  changed(): void {
    if (!this.stopped) this.runner.request();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.retry.cancel();
    await this.runner.idle();
  }

  private head(): string {
    return `${this.o.prefix.replace(/\/+$/, '')}/policy-endpoints/`;
  }

  private async sync(): Promise<void> {
    if (this.stopped) return;
    try {
      const wanted = new Map<string, string>();
      for (const e of this.o.endpoints()) {
        wanted.set(`${this.head()}${e.network ?? 'default'}/${policyEndpointId(this.o.nodeName, e)}`, policyEndpointRecord(e));
      }
      const have = await this.o.client.getAll().prefix(this.head()).strings();
      let puts = 0;
      let dels = 0;
      for (const [key, value] of wanted) {
        if (have[key] === value) continue;
        await this.o.client.put(key).value(value);
        puts++;
      }
      for (const key of Object.keys(have)) {
        const id = key.slice(key.lastIndexOf('/') + 1);
        if (!id.startsWith(`${this.o.nodeName}:`) || wanted.has(key)) continue;
        await this.o.client.delete().key(key);
        dels++;
      }
      this.backoff.reset();
      if (puts + dels > 0) this.log.info('policy endpoint records synced', { written: puts, deleted: dels, endpoints: wanted.size });
    } catch (err) {
      const ms = this.backoff.next();
      this.log.warn('could not sync policy endpoint records; retrying', { error: describeError(err), retryInMs: ms });
      this.retry.arm(ms);
    }
  }
}
