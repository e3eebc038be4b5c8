import { expect } from 'chai';
import { changeToWire, endpointToWire, leaseToWire, nodeToWire, peerInSync, peerToWire } from '../../agent/src/api/convert';
import type { Node__Output } from '../../agent/src/api/gen/knit/v1/Node';
import type { Peer__Output } from '../../agent/src/api/gen/knit/v1/Peer';
import type { WatchEvent__Output } from '../../agent/src/api/gen/knit/v1/WatchEvent';
import type { ListSubnetsResponse__Output } from '../../agent/src/api/gen/knit/v1/ListSubnetsResponse';
import type { Endpoint__Output } from '../../agent/src/api/gen/knit/v1/Endpoint';
import { FakeSource, T0 } from '../support/api-fake-source';
import { viaWire } from './api-wire';

describe('api: domain objects to wire messages (through the protobuf codec)', () => {
  const src = new FakeSource();

  it('Node keeps every field, times as RFC 3339, the API version and runtime versions filled', () => {
    const n = viaWire<Node__Output>('GetNode', nodeToWire(src.getNode(), '9.9.9'));
    expect(n).to.deep.include({
      name: 'node-a', publicIp: '192.168.50.1', subnet: '10.244.1.0/24', leaseExpiresAt: '2026-11-23T06:00:00.000Z',
      leaseRenewedAt: '2026-11-22T06:00:00.000Z', clusterCidr: '10.244.0.0/16', mtu: 1450, bridge: 'knit0', mode: 'cluster',
      startedAt: T0.toISOString(),
    });
    expect(n.backend).to.deep.equal({ type: 'vxlan', device: 'knit.1', vni: 1, port: 8472, vtepMac: '0a:58:0a:f4:01:00', underlayDevice: 'eth0', details: {} });
    expect(n.versions).to.deep.equal({ knitd: '0.1.0', node: process.versions.node, grpcJs: '9.9.9', api: 'knit.v1' });
    expect(n.health).to.deep.equal({ ok: true, reasons: [] });
  });

  it('a node without a lease sends empty strings, not "Invalid Date"', () => {
    const node = { ...src.getNode(), subnet: undefined, leaseExpiresAt: undefined, leaseRenewedAt: new Date(NaN) };
    const n = viaWire<Node__Output>('GetNode', nodeToWire(node, '1'));
    expect([n.subnet, n.leaseExpiresAt, n.leaseRenewedAt]).to.deep.equal(['', '', '']);
  });

  it('lease backend data values become strings; unknown expiry is empty', () => {
    const lease = { ...src.leases[1], backendData: { vtepMac: '0a:58:0a:f4:02:00', vni: 1, direct: true } };
    const r = viaWire<ListSubnetsResponse__Output>('ListSubnets', { leases: [leaseToWire(lease)], invalidSkipped: 3 });
    expect(r.invalidSkipped).to.equal(3);
    expect(r.leases[0]).to.deep.equal({
      subnet: '10.244.2.0/24', nodeName: 'node-b', publicIp: '192.168.50.2', backendType: 'vxlan',
      backendData: { vtepMac: '0a:58:0a:f4:02:00', vni: '1', direct: 'true' }, renewedAt: T0.toISOString(), expiresAt: '', own: false, ipv6Subnet: '', publicIpv6: '',
    });
  });

  it('dual-stack lease, peer and endpoint fields survive the wire', () => {
    const lease = { ...src.leases[1], ipv6Subnet: 'fd00:10:244:2::/64', publicIpv6: 'fd30::2' };
    const r = viaWire<ListSubnetsResponse__Output>('ListSubnets', { leases: [leaseToWire(lease)], invalidSkipped: 0 });
    expect(r.leases[0]).to.deep.include({ ipv6Subnet: 'fd00:10:244:2::/64', publicIpv6: 'fd30::2' });
    const p = viaWire<{ peers: Peer__Output[] }>('ListPeers', { peers: [peerToWire({ ...src.peers[0], ipv6Subnet: 'fd00:10:244:2::/64', publicIpv6: 'fd30::2' })] }).peers[0];
    expect(p).to.deep.include({ ipv6Subnet: 'fd00:10:244:2::/64', publicIpv6: 'fd30::2' });
    const e = viaWire<Endpoint__Output>('GetEndpoint', endpointToWire({ ...src.endpoints[0], ipv6Address: 'fd00:10:244:1::2/64' }));
    expect(e.ipv6Address).to.equal('fd00:10:244:1::2/64');
  });

  it('peer objects carry their sync state; in_sync is false when any object is not in sync', () => {
    const p = viaWire<{ peers: Peer__Output[] }>('ListPeers', { peers: [peerToWire(src.peers[0])] }).peers[0];
    expect(p.inSync).to.equal(false);
    expect(p.fdbEntries[0]).to.deep.include({ state: 'SYNC_STATE_MISSING', detail: 'not in the FDB' });
    expect(p.routes[0]).to.deep.include({ state: 'SYNC_STATE_IN_SYNC', nhid: 183763456, gateway: '' });
    expect(p.nexthops[0]).to.deep.include({ state: 'SYNC_STATE_IN_SYNC', id: 183763456, gateway: '10.244.2.0', device: 'knit.1', onlink: true });
    const fixed = { ...src.peers[0], fdbEntries: src.peers[0].fdbEntries.map((f) => ({ ...f, state: 'in-sync' as const })) };
    expect(peerInSync(fixed)).to.equal(true);
    const states = ['in-sync', 'missing', 'differs', 'stale'] as const;
    expect(states.map((s) => peerToWire({ ...fixed, routes: [{ destination: '10.244.2.0/24', state: s }] }).routes?.[0].state))
      .to.deep.equal(['SYNC_STATE_IN_SYNC', 'SYNC_STATE_MISSING', 'SYNC_STATE_DIFFERS', 'SYNC_STATE_STALE']);
  });

  it('endpoints keep port mappings, with an empty host IP when none', () => {
    const e = viaWire<Endpoint__Output>('GetEndpoint', endpointToWire(src.endpoints[0]));
    expect(e).to.deep.equal({
      containerId: 'c0ffee01', ifname: 'eth0', netns: '/var/run/netns/c1', address: '10.244.1.2/24', mac: '0a:58:0a:f4:01:02',
      hostVeth: 'veth1a2b3c4d', portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIp: '' }], createdAt: T0.toISOString(), ipv6Address: '',
    });
  });

  it('each change kind becomes the matching oneof member with its change type', () => {
    const cases = [
      { c: { kind: 'subnet' as const, change: 'added' as const, lease: src.leases[1] }, event: 'subnet', change: 'CHANGE_TYPE_ADDED' },
      { c: { kind: 'peer' as const, change: 'removed' as const, peer: src.peers[0] }, event: 'peer', change: 'CHANGE_TYPE_REMOVED' },
      { c: { kind: 'endpoint' as const, change: 'updated' as const, endpoint: src.endpoints[0] }, event: 'endpoint', change: 'CHANGE_TYPE_UPDATED' },
      {
        c: { kind: 'bgpSession' as const, change: 'updated' as const, session: { peerAddress: '10.0.0.1', peerAsn: 65000, localAsn: 65001, state: 'Established', uptimeSeconds: 5, prefixesSent: 1, prefixesReceived: 2 } },
        event: 'bgpSession', change: 'CHANGE_TYPE_UPDATED',
      },
    ];
    for (const tc of cases) {
      const ev = viaWire<WatchEvent__Output>('Watch', { ...changeToWire(tc.c, '1'), sequence: 7, time: T0.toISOString() });
      expect(ev.event, tc.event).to.equal(tc.event);
      expect(ev.sequence).to.equal(7);
      expect((ev as unknown as Record<string, { change: string }>)[tc.event].change).to.equal(tc.change);
    }
    const nodeEv = viaWire<WatchEvent__Output>('Watch', changeToWire({ kind: 'node', node: src.getNode() }, '1'));
    expect(nodeEv.event).to.equal('node');
    expect(nodeEv.node?.node?.name).to.equal('node-a');
  });
});
