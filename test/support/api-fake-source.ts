/**
 * A fake KnitStateSource for the API and knitctl tests: plain data the test
 * mutates, `emit` to announce a change, `unavailable` to simulate etcd down.
 */
import {
  StateUnavailableError,
  type BgpStateSource, type EndpointInfo, type KnitStateSource, type NodeInfo, type PeerInfo, type StateChange,
  type SubnetLeaseInfo, type SubnetList,
} from '../../agent/src/api';

export const T0 = new Date('2026-11-22T06:00:00.000Z');

export function sampleNode(): NodeInfo {
  return {
    name: 'node-a',
    publicIp: '192.168.50.1',
    subnet: '10.244.1.0/24',
    leaseExpiresAt: new Date('2026-11-23T06:00:00.000Z'),
    leaseRenewedAt: T0,
    clusterCidr: '10.244.0.0/16',
    backend: { type: 'vxlan', device: 'knit.1', vni: 1, port: 8472, vtepMac: '0a:58:0a:f4:01:00', underlayDevice: 'eth0' },
    mtu: 1450,
    bridge: 'knit0',
    mode: 'cluster',
    health: { ok: true, reasons: [] },
    readiness: { ok: true, reasons: [] },
    versions: { knitd: '0.1.0' },
    startedAt: T0,
    peers: { total: 2, alive: 1 },
    leaseRemainingSeconds: 82800,
    uptimeSeconds: 3600,
    masquerade: true,
    metricsAddress: '127.0.0.1:9654',
    ipam: { used: 2, total: 253 },
    netlinkErrors: { EEXIST: 2, ENOENT: 1 },
  };
}

export function sampleLeases(): SubnetLeaseInfo[] {
  return [
    {
      subnet: '10.244.1.0/24', nodeName: 'node-a', publicIp: '192.168.50.1', backendType: 'vxlan',
      backendData: { vtepMac: '0a:58:0a:f4:01:00' }, renewedAt: T0, expiresAt: new Date('2026-11-23T06:00:00.000Z'), own: true,
    },
    {
      subnet: '10.244.2.0/24', nodeName: 'node-b', publicIp: '192.168.50.2', backendType: 'vxlan',
      backendData: { vtepMac: '0a:58:0a:f4:02:00' }, renewedAt: T0, own: false,
    },
  ];
}

export function samplePeers(): PeerInfo[] {
  return [{
    nodeName: 'node-b',
    subnet: '10.244.2.0/24',
    publicIp: '192.168.50.2',
    backendType: 'vxlan',
    routes: [{ destination: '10.244.2.0/24', nhid: 183763456, state: 'in-sync' }],
    neighbours: [{ ip: '10.244.2.0', mac: '0a:58:0a:f4:02:00', device: 'knit.1', state: 'in-sync' }],
    fdbEntries: [{ mac: '0a:58:0a:f4:02:00', destination: '192.168.50.2', device: 'knit.1', state: 'missing', detail: 'not in the FDB' }],
    nexthops: [{ id: 183763456, gateway: '10.244.2.0', device: 'knit.1', onlink: true, state: 'in-sync' }],
    lastReconciledAt: T0,
    agent: { state: 'down', since: new Date('2026-11-22T06:59:48.000Z') },
    lastChangeAt: new Date('2026-11-22T06:59:48.000Z'),
  }];
}

export function sampleEndpoints(): EndpointInfo[] {
  return [
    {
      containerId: 'c0ffee01', ifname: 'eth0', netns: '/var/run/netns/c1', address: '10.244.1.2/24', mac: '0a:58:0a:f4:01:02',
      hostVeth: 'veth1a2b3c4d', portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], createdAt: T0.toISOString(),
    },
    {
      containerId: 'c0ffee02', ifname: 'eth0', netns: '/var/run/netns/c2', address: '10.244.1.3/24', mac: '0a:58:0a:f4:01:03',
      hostVeth: 'veth5e6f7a8b', portMappings: [], createdAt: T0.toISOString(),
    },
  ];
}

export class FakeSource implements KnitStateSource {
  node = sampleNode();
  leases = sampleLeases();
  peers = samplePeers();
  endpoints = sampleEndpoints();
  invalidSkipped = 1;
  bgp: BgpStateSource | undefined;
  /** When set, listSubnets throws StateUnavailableError with this message. */
  unavailable: string | undefined;
  /** Delay of listPeers in ms (a slow kernel dump). */
  peersDelayMs = 0;
  /** When set, listEndpoints throws a plain Error (a bug in the source). */
  brokenEndpoints = false;
  /** Endpoint-set version for the server's ListEndpoints snapshot; undefined (default): no snapshot, every call reads `endpoints`. */
  epVersion: number | undefined;
  /** How often listEndpoints was called. */
  listEndpointsCalls = 0;
  private readonly listeners = new Set<(c: StateChange) => void>();

  getNode(): NodeInfo {
    return this.node;
  }

  listSubnets(): SubnetList {
    if (this.unavailable !== undefined) throw new StateUnavailableError(this.unavailable);
    return { leases: this.leases, invalidSkipped: this.invalidSkipped };
  }

  async listPeers(): Promise<PeerInfo[]> {
    if (this.peersDelayMs > 0) await new Promise((r) => setTimeout(r, this.peersDelayMs));
    return this.peers;
  }

  endpointsVersion(): number | undefined {
    return this.epVersion;
  }

  listEndpoints(): EndpointInfo[] {
    this.listEndpointsCalls += 1;
    if (this.brokenEndpoints) throw new Error('endpoint store exploded');
    return this.endpoints;
  }

  subscribe(listener: (c: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Number of current subscriptions (the hub should hold at most one). */
  get subscribers(): number {
    return this.listeners.size;
  }

  emit(change: StateChange): void {
    for (const l of this.listeners) l(change);
  }
}
