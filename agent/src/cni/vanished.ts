/**
 * Attachments whose CNI DEL never arrived.
 *
 * A runtime removes a container while knitd is down: podman logs the failed
 * DEL and carries on, and never sends GC. The allocation, the endpoint
 * record and the host-port DNAT would stay forever, and the next container
 * asking for the same host port would fail. At start-up and then
 * periodically, an attachment whose container side is provably gone is
 * released: its host veth is absent (a veth pair dies with its namespace)
 * AND its network namespace path no longer names a namespace. Either one
 * alone is not proof: a namespace path may be briefly unmounted while the
 * pair lives, and an operator may delete a veth of a running container.
 * Attachments with a CNI request in flight are left to that request.
 *
 * Allocations recovered from the kernel without a record (ipam-recovery.ts)
 * know no namespace; their host veth alone decides.
 */
import type { Handle, NetnsInspector } from '../netlink';
import type { Logger } from '../log/logger';
import type { Ipam } from '../ipam';
import { hostVethName, isHostVethName } from '../dataplane/veth-name';
import type { Endpoint, EndpointStore } from './endpoints';
import { attachmentLockKey, type KeyedLocks } from './attachment-locks';
import { recoveredVethName } from './ipam-recovery';

export interface VanishedDeps {
  nl: Handle;
  /** Every pool (each network's, each family's); a function because networks come and go. */
  pools: () => Ipam[];
  endpoints: EndpointStore;
  netns: NetnsInspector;
  locks: KeyedLocks;
  /** Re-renders the node's port mappings from the endpoint records. */
  publishPortMappings: () => Promise<void>;
  log: Logger;
}

/** What one pass released. */
export interface ReapResult {
  /** endpoints released with their allocation and port mappings */
  endpoints: Endpoint[];
  /** recovered allocations (no record) whose host veth is gone, "veth/ifname=ip" */
  recovered: string[];
}

/** One pass: releases every attachment whose container is provably gone. */
export async function reapVanishedAttachments(d: VanishedDeps): Promise<ReapResult> {
  const veths = new Set((await d.nl.linkList()).map((l) => l.name).filter(isHostVethName));
  const gone = (e: Endpoint): boolean =>
    !veths.has(hostVethName(e.containerId, e.ifname)) && d.netns.lookup(e.netns).kind !== 'netns';
  const released: Endpoint[] = [];
  for (const e of d.endpoints.list()) {
    const key = attachmentLockKey(e.containerId, e.ifname);
    // Other front ends' attachments (the Docker driver's, ifname "@docker") follow their own lifecycle.
    if (e.ifname.startsWith('@') || d.locks.busy(key) || !gone(e)) continue;
    await d.locks.run([key], async () => {
      // Re-check under the lock: a DEL or ADD may have run meanwhile.
      const now = d.endpoints.get(e.containerId, e.ifname);
      if (now?.createdAt !== e.createdAt || await d.nl.linkByName(hostVethName(e.containerId, e.ifname))) return;
      for (const pool of d.pools()) await pool.release(e.containerId, e.ifname);
      await d.endpoints.remove(e.containerId, e.ifname);
      released.push(e);
      d.log.warn('released an attachment whose container is gone (its CNI DEL never arrived)', {
        containerId: e.containerId, ifname: e.ifname, address: e.address, netns: e.netns, hostVeth: e.hostVeth,
        portMappings: e.portMappings.map((m) => `${m.hostIp ?? '0.0.0.0'}:${m.hostPort}/${m.protocol}`),
      });
    });
  }
  const recovered: string[] = [];
  for (const pool of d.pools()) for (const a of pool.list()) {
    const veth = recoveredVethName(a.containerId);
    if (veth === undefined || veths.has(veth) || d.locks.busy(attachmentLockKey(a.containerId, a.ifname))) continue;
    await pool.release(a.containerId, a.ifname, a.ip);
    recovered.push(`${veth}/${a.ifname}=${a.ip}`);
    d.log.warn('released a recovered address whose host veth is gone', { hostVeth: veth, ifname: a.ifname, ip: a.ip });
  }
  if (released.some((e) => e.portMappings.length > 0)) await d.publishPortMappings();
  return { endpoints: released, recovered };
}

/**
 * Runs a pass now and then every `intervalMs` (0 = only now); `onReaped`
 * gets the number released by each pass (metrics). A failed pass is logged
 * and retried at the next tick. Passes never overlap.
 */
export async function startVanishedReaper(d: VanishedDeps, intervalMs: number, onReaped: (count: number) => void): Promise<{ stop(): Promise<void> }> {
  let running: Promise<void> | undefined;
  const pass = (): Promise<void> => {
    if (running) return running;
    const p = reapVanishedAttachments(d).then(
      (r) => onReaped(r.endpoints.length + r.recovered.length),
      (err: unknown) => { d.log.error('releasing vanished attachments failed; retrying at the next interval', { error: String(err) }); },
    ).finally(() => { running = undefined; });
    running = p;
    return p;
  };
  await pass();
  const timer = intervalMs > 0 ? setInterval(() => void pass(), intervalMs) : undefined;
  timer?.unref();
  return {
    stop: async () => {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
