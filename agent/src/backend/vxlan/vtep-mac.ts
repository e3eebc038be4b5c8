/**
 * The VTEP MAC of a node's VXLAN device, DERIVED (not persisted): the first
 * six bytes of SHA-256("knit-vtep\0<node name>\0<VNI>"), with the
 * locally-administered bit set and the multicast bit cleared.
 *
 * Why derived: the MAC must survive knitd restarts and reboots (peers hold it
 * in their FDB and neighbour tables; a change would black-hole traffic until
 * every peer re-reads the lease), and it must be known before the lease is
 * acquired, because the lease carries it. A pure function of the node name
 * and VNI needs no state file, gives the same answer after a wiped disk, and
 * cannot disagree with what the lease says. Node names are unique per
 * cluster, so two nodes collide only with probability ~n²/2^47.
 */
import { createHash } from 'node:crypto';

/** Deterministic locally administered unicast MAC for (node name, VNI), "xx:xx:xx:xx:xx:xx". */
export function vtepMac(nodeName: string, vni: number): string {
  const digest = createHash('sha256').update(`knit-vtep\0${nodeName}\0${vni}`).digest();
  const b = [...digest.subarray(0, 6)];
  b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
