/**
 * One lab node with knit's VXLAN backend set up and a netlink handle on it:
 * the fixture of the reconciler's real-kernel tests (peers are fed by hand,
 * no etcd, no knitd).
 */
import { createBackend, type Backend } from '../../agent/src/backend';
import type { NetworkConfig } from '../../agent/src/store';
import { detectUnderlay } from '../../agent/src/dataplane/underlay';
import { silentLogger } from '../../agent/src/log/logger';
import { openHandle, type Handle } from '../../agent/src/netlink';
import { createLab, type Lab, type LabNode } from './lab';

export interface VxlanNode {
  lab: Lab;
  node: LabNode;
  nl: Handle;
  backend: Backend;
}

/** A one-node lab whose node runs the VXLAN backend of `network` on subnet 10.0.0.0/24; teardown with closeVxlanNode. */
export async function openVxlanNode(network: NetworkConfig): Promise<VxlanNode> {
  const lab = await createLab({ nodes: 1 });
  const node = lab.nodes[0]!;
  const nl = openHandle(node.netnsPath);
  const underlay = await detectUnderlay(nl);
  const backend = createBackend({ nl, logger: silentLogger(), network, node: { name: node.name, publicIp: underlay.ip, underlay: underlay.link, subnet: '10.0.0.0/24' } });
  await backend.setup();
  return { lab, node, nl, backend };
}

export async function closeVxlanNode(v: VxlanNode | undefined): Promise<void> {
  v?.nl.close();
  await v?.lab.teardown();
}
