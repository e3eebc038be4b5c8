/**
 * Start-up audit of the node's attachments: compares the IPAM allocations,
 * the endpoint records and the host veths in the kernel, and reports what
 * disagrees. It changes nothing: a half-finished ADD from before a crash is
 * cleaned by the runtime's DEL (runtimes DEL after a failed ADD) or by GC,
 * and guessing here could cut a running container off.
 */
import type { Handle } from '../netlink';
import type { Logger } from '../log/logger';
import type { Ipam } from '../ipam';
import type { EndpointStore } from './endpoints';
import { hostVethName, isHostVethName } from '../dataplane/veth-name';

export interface AuditReport {
  endpoints: number;
  allocations: number;
  hostVeths: number;
  /** endpoints whose host veth is gone */
  missingVeths: string[];
  /** host veths no endpoint claims */
  orphanVeths: string[];
  /** allocations no endpoint claims */
  orphanAllocations: string[];
}

export async function auditAttachments(nl: Handle, ipam: Ipam, endpoints: EndpointStore, log: Logger): Promise<AuditReport> {
  const veths = new Set((await nl.linkList()).map((l) => l.name).filter(isHostVethName));
  const claimed = new Set<string>();
  const missingVeths: string[] = [];
  for (const e of endpoints.list()) {
    const name = hostVethName(e.containerId, e.ifname);
    claimed.add(name);
    if (!veths.has(name)) missingVeths.push(`${e.containerId}/${e.ifname}`);
  }
  const orphanVeths = [...veths].filter((v) => !claimed.has(v));
  const orphanAllocations = ipam.list()
    .filter((a) => !endpoints.get(a.containerId, a.ifname))
    .map((a) => `${a.containerId}/${a.ifname}=${a.ip}`);
  const report: AuditReport = {
    endpoints: endpoints.list().length, allocations: ipam.list().length, hostVeths: veths.size,
    missingVeths, orphanVeths, orphanAllocations,
  };
  if (missingVeths.length + orphanVeths.length + orphanAllocations.length > 0) {
    log.warn('attachments disagree with the kernel; a CNI DEL or GC will clean them', { ...report });
  } else {
    log.info('attachments match the kernel', { endpoints: report.endpoints, hostVeths: report.hostVeths });
  }
  return report;
}
