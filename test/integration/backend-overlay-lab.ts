/**
 * Shared set-up of the backend integration tests, WITHOUT knitd: a lab of N
 * node namespaces on one underlay bridge; in each node a backend and a
 * reconciler on a netlink handle bound to that namespace, fed the other
 * nodes' leases by hand; and one "container" namespace per node attached by
 * a veth with `ip` (gateway 10.244.<n>.1 on the node, container .2), so a
 * ping between containers crosses the backend's dataplane for real.
 */
import { createBackend, backendLeaseData, type Backend, parseNetwork } from '../../agent/src/backend';
import { Reconciler } from '../../agent/src/dataplane/reconcile';
import { detectUnderlay } from '../../agent/src/dataplane/underlay';
import { silentLogger } from '../../agent/src/log/logger';
import { openHandle, type Handle } from '../../agent/src/netlink';
import type { Lease } from '../../agent/src/store/lease-codec';
import { type NetworkConfig } from '../../agent/src/store/network-config';
import { createLab, type Lab, type LabContainer, type LabNode } from '../lab/lab';
import { nsRun } from '../lab/netns';

export interface OverlayNode {
  node: LabNode;
  nl: Handle;
  backend: Backend;
  reconciler: Reconciler;
  lease: Lease;
  /** the container's address, 10.244.<n>.2 */
  containerIp: string;
  container: LabContainer;
  mtu: number;
}

export interface OverlayLab {
  lab: Lab;
  network: NetworkConfig;
  nodes: OverlayNode[];
  /** Feed every reconciler the leases of all other nodes (plus `extra`) and wait for a run each. */
  converge(extra?: Lease[]): Promise<void>;
  teardown(): Promise<void>;
}

/** The lease node `n` (1-based) would hold. */
export function labLease(network: NetworkConfig, node: LabNode, n: number): Lease {
  return {
    subnet: `10.244.${n}.0/24`,
    nodeName: node.name,
    publicIp: node.underlayIp,
    backend: { type: network.backend.type, data: backendLeaseData(network, node.name) },
    renewedAt: new Date(0).toISOString(),
  };
}

/** Attach a container namespace to node `n` with a veth (node side `cv0`, container side `eth0`). */
function attachContainer(lab: Lab, node: LabNode, n: number, mtu: number): LabContainer {
  const c = lab.addContainer(node);
  nsRun(node.ns, 'ip', ['-batch', '-'], [
    `link add cv0 mtu ${mtu} type veth peer name eth0 netns ${c.ns}`,
    `addr add 10.244.${n}.1/24 dev cv0`,
    'link set cv0 up',
  ].join('\n') + '\n');
  nsRun(node.ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  nsRun(c.ns, 'ip', ['-batch', '-'], [
    `link set eth0 mtu ${mtu}`,
    `addr add 10.244.${n}.2/24 dev eth0`,
    'link set eth0 up',
    `route add default via 10.244.${n}.1`,
  ].join('\n') + '\n');
  return c;
}

/** Build the lab, set every backend up (no peers yet), attach containers, start the reconcilers. */
export async function createOverlayLab(opts: { nodes: number; backend: Record<string, unknown>; resyncIntervalMs?: number }): Promise<OverlayLab> {
  const network = parseNetwork({ clusterCidr: '10.244.0.0/16', subnetLength: 24, backend: opts.backend });
  const lab = await createLab({ nodes: opts.nodes });
  const nodes: OverlayNode[] = [];
  const teardown = async (): Promise<void> => {
    for (const o of nodes) {
      await o.reconciler.stop();
      o.nl.close();
    }
    await lab.teardown();
  };
  try {
    for (const [i, node] of lab.nodes.entries()) {
      const n = i + 1;
      const nl = openHandle(node.netnsPath);
      const underlay = await detectUnderlay(nl);
      const lease = labLease(network, node, n);
      const backend = createBackend({ nl, logger: silentLogger(), network, node: { name: node.name, publicIp: underlay.ip, underlay: underlay.link, subnet: lease.subnet } });
      const { mtu } = await backend.setup();
      const container = attachContainer(lab, node, n, mtu);
      const reconciler = new Reconciler({ nl, logger: silentLogger(), backend, resyncIntervalMs: opts.resyncIntervalMs ?? 10_000 });
      nodes.push({ node, nl, backend, reconciler, lease, containerIp: `10.244.${n}.2`, container, mtu });
    }
    for (const o of nodes) o.reconciler.start();
  } catch (err) {
    await teardown();
    throw err;
  }
  return {
    lab, network, nodes, teardown,
    async converge(extra: Lease[] = []): Promise<void> {
      for (const o of nodes) o.reconciler.setPeers([...nodes.filter((p) => p !== o).map((p) => p.lease), ...extra]);
      await Promise.all(nodes.map((o) => o.reconciler.reconcileNow()));
    },
  };
}

/** Poll `check` every 10 ms until it returns true or `ms` pass; resolves with the elapsed ms or rejects with `what`. */
export async function within(ms: number, what: string, check: () => Promise<boolean> | boolean): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
