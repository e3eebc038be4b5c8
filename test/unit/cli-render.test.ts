import { expect } from 'chai';
import { bgpRouteToWire, bgpSessionToWire, endpointToWire, leaseToWire, nodeToWire, peerToWire } from '../../agent/src/api/convert';
import type { Node__Output } from '../../agent/src/api/gen/knit/v1/Node';
import type { ListSubnetsResponse__Output } from '../../agent/src/api/gen/knit/v1/ListSubnetsResponse';
import type { ListPeersResponse__Output } from '../../agent/src/api/gen/knit/v1/ListPeersResponse';
import type { ListEndpointsResponse__Output } from '../../agent/src/api/gen/knit/v1/ListEndpointsResponse';
import type { ListBgpSessionsResponse__Output } from '../../agent/src/api/gen/knit/v1/ListBgpSessionsResponse';
import type { ListBgpRoutesResponse__Output } from '../../agent/src/api/gen/knit/v1/ListBgpRoutesResponse';
import type { WatchEvent__Output } from '../../agent/src/api/gen/knit/v1/WatchEvent';
import {
  nodeIsHealthy, renderTop, renderBgpRoutes, renderBgpSessions, renderEndpoints, renderPeers, renderRoutes, renderStatus, renderSubnets, renderWatchEvent,
} from '../../agent/src/cli/render';
import { FakeSource } from '../support/api-fake-source';
import { viaWire } from './api-wire';

const now = new Date('2026-11-22T07:00:00.000Z');

describe('knitctl rendering of wire messages', () => {
  const src = new FakeSource();
  const node = (): Node__Output => viaWire<Node__Output>('GetNode', nodeToWire(src.getNode(), '1.14.7'));

  it('status lists the node, lease, backend and verdicts', () => {
    expect(renderStatus(node(), now)).to.equal([
      'Node:          node-a',
      'Mode:          cluster',
      'Health:        healthy',
      'Ready:         ready',
      'Public IP:     192.168.50.1',
      'Subnet:        10.244.1.0/24',
      'Lease expires: 2026-11-23T06:00:00.000Z (in 23h0m)',
      'Lease renewed: 2026-11-22T06:00:00.000Z (1h0m ago)',
      'Cluster CIDR:  10.244.0.0/16',
      'Backend:       vxlan (device knit.1, VNI 1, port 8472, VTEP 0a:58:0a:f4:01:00, via eth0)',
      'MTU:           1450',
      'Bridge:        knit0',
      'Masquerade:    on',
      'Peers:         1/2 agents alive',
      'IPAM:          2/253 addresses used',
      'Errors:        netlink 3 (EEXIST 2, ENOENT 1)',
      'Metrics:       http://127.0.0.1:9654/metrics',
      'Started:       2026-11-22T06:00:00.000Z (1h0m ago)',
      'Uptime:        1h0m',
      `Versions:      knitd 0.1.0, node ${process.versions.node}, grpc-js 1.14.7, api knit.v1`,
      '',
    ].join('\n'));
    expect(nodeIsHealthy(node())).to.equal(true);
  });

  it('status shows why a node is not ready, and it counts as unhealthy', () => {
    const n = viaWire<Node__Output>('GetNode', nodeToWire({ ...src.getNode(), readiness: { ok: false, reasons: ['etcd unreachable', 'no lease'] } }, '1'));
    expect(renderStatus(n, now)).to.include('Ready:         NOT READY: etcd unreachable; no lease\n');
    expect(nodeIsHealthy(n)).to.equal(false);
    const sick = viaWire<Node__Output>('GetNode', nodeToWire({ ...src.getNode(), health: { ok: false, reasons: [] } }, '1'));
    expect(renderStatus(sick, now)).to.include('Health:        UNHEALTHY: no reason given\n');
    expect(nodeIsHealthy(sick)).to.equal(false);
  });

  it('subnets: one row per lease, own marked, and the skipped count', () => {
    const r = viaWire<ListSubnetsResponse__Output>('ListSubnets', { leases: src.leases.map(leaseToWire), invalidSkipped: 2 });
    expect(renderSubnets(r, now)).to.equal([
      'SUBNET          NODE                 PUBLIC-IP      BACKEND   BACKEND-DATA                EXPIRES    RENEWED',
      '10.244.1.0/24   node-a (this node)   192.168.50.1   vxlan     vtepMac=0a:58:0a:f4:01:00   in 23h0m   1h0m ago',
      '10.244.2.0/24   node-b               192.168.50.2   vxlan     vtepMac=0a:58:0a:f4:02:00   <none>     1h0m ago',
      '',
      '2 invalid lease entries in etcd skipped (see knitd\'s log)',
      '',
    ].join('\n'));
  });

  it('peers: in-sync ratios per object kind; routes: one line per kernel object', () => {
    const r = viaWire<ListPeersResponse__Output>('ListPeers', { peers: src.peers.map(peerToWire) });
    expect(renderPeers(r.peers, now)).to.equal(
      'NODE     SUBNET          PUBLIC-IP      BACKEND   AGENT      CHANGED   ROUTES   NEXTHOPS   NEIGHBOURS   FDB   IN-SYNC\n' +
      'node-b   10.244.2.0/24   192.168.50.2   vxlan     DOWN 12s   12s ago   1/1      1/1        1/1          0/1   NO\n',
    );
    expect(renderRoutes(r.peers)).to.equal(
      'PEER     KIND        DESTINATION         VIA                        DEVICE   STATE     DETAIL\n' +
      'node-b   route       10.244.2.0/24       nhid 183763456             -        in-sync   -\n' +
      'node-b   nexthop     id 183763456        via 10.244.2.0 onlink      knit.1   in-sync   -\n' +
      'node-b   neighbour   10.244.2.0          lladdr 0a:58:0a:f4:02:00   knit.1   in-sync   -\n' +
      'node-b   fdb         0a:58:0a:f4:02:00   dst 192.168.50.2           knit.1   MISSING   not in the FDB\n',
    );
  });

  it('top: node line, a verdict over all peers, peers that need a look first', () => {
    const healthy = { ...src.peers[0]!, nodeName: 'node-a2', subnet: '10.244.3.0/24', agent: { state: 'alive' as const, since: new Date('2026-11-22T06:00:00.000Z') }, inSync: true };
    const r = viaWire<ListPeersResponse__Output>('ListPeers', { peers: [healthy, ...src.peers].map(peerToWire) });
    const out = renderTop(node(), r.peers, 2, now).split('\n');
    expect(out[0]).to.equal('knit top — node-a (cluster, vxlan), 07:00:00 UTC');
    expect(out[1]).to.equal('healthy, ready; lease 10.244.1.0/24 expires in 23h0m, renewed 1h0m ago; 2 endpoints; IPAM 2/253; netlink errors 3 (EEXIST 2, ENOENT 1)');
    expect(out[2]).to.equal('2 peers: 1 alive, 1 DOWN, 1 NOT in sync');
    expect(out[4]).to.match(/^NODE +SUBNET .* AGENT .* IN-SYNC$/);
    // node-b (DOWN, not in sync) before node-a2 (fine), although it sorts after it by name
    expect(out[5]).to.match(/^node-b .* DOWN 12s .* NO$/);
    expect(out[6]).to.match(/^node-a2 .* alive 1h0m .* yes$/);
  });

  it('endpoints: short container IDs, port mappings, age', () => {
    const eps = [...src.endpoints, { ...src.endpoints[1], containerId: '0123456789abcdef0123', portMappings: [{ hostPort: 53, containerPort: 5353, protocol: 'udp' as const, hostIp: '127.0.0.1' }] }];
    const r = viaWire<ListEndpointsResponse__Output>('ListEndpoints', { endpoints: eps.map(endpointToWire) });
    expect(renderEndpoints(r.endpoints, now)).to.equal(
      'CONTAINER      IFNAME   ADDRESS         MAC                 HOST-VETH      PORTS                    NETNS               AGE\n' +
      'c0ffee01       eth0     10.244.1.2/24   0a:58:0a:f4:01:02   veth1a2b3c4d   8080->80/tcp             /var/run/netns/c1   1h0m\n' +
      'c0ffee02       eth0     10.244.1.3/24   0a:58:0a:f4:01:03   veth5e6f7a8b   -                        /var/run/netns/c2   1h0m\n' +
      '0123456789ab   eth0     10.244.1.3/24   0a:58:0a:f4:01:03   veth5e6f7a8b   127.0.0.1:53->5353/udp   /var/run/netns/c2   1h0m\n',
    );
  });

  it('BGP sessions and routes', () => {
    const s = viaWire<ListBgpSessionsResponse__Output>('ListBgpSessions', {
      sessions: [bgpSessionToWire({
        peerAddress: '192.168.50.254', peerAsn: 65000, localAsn: 65001, state: 'Established', uptimeSeconds: 3700, prefixesSent: 1, prefixesReceived: 12,
        prefixesAccepted: 9, prefixesRejected: { filter: 1, 'next-hop': 2, 'own-subnet': 0 }, maxPrefixHits: 1,
      }),
        bgpSessionToWire({ peerAddress: '192.168.50.253', peerAsn: 65000, localAsn: 65001, state: 'Active', uptimeSeconds: 0, prefixesSent: 0, prefixesReceived: 0, lastError: 'connection refused' })],
    });
    expect(renderBgpSessions(s.sessions)).to.equal(
      'PEER             PEER-ASN   LOCAL-ASN   STATE         SINCE   SENT   RECEIVED   ACCEPTED   REJECTED                   MAX-PREFIX-HITS   LAST-ERROR\n' +
      '192.168.50.254   65000      65001       Established   1h1m    1      12         9          3 (next-hop 2, filter 1)   1                 -\n' +
      '192.168.50.253   65000      65001       Active        0s      0      0          0          0                          0                 connection refused\n',
    );
    const r = viaWire<ListBgpRoutesResponse__Output>('ListBgpRoutes', {
      routes: [bgpRouteToWire({ prefix: '10.244.7.0/24', nextHop: '192.168.50.7', peerAddress: '192.168.50.254', asPath: [65000, 65007], installed: true })],
    });
    expect(renderBgpRoutes(r.routes)).to.equal(
      'PREFIX          NEXT-HOP       PEER             AS-PATH       INSTALLED\n' +
      '10.244.7.0/24   192.168.50.7   192.168.50.254   65000 65007   yes\n',
    );
  });

  it('watch: one line per event kind', () => {
    const time = '2026-11-22T07:00:01.234Z';
    const lines = [
      { snapshot: { node: nodeToWire(src.getNode(), '1'), leases: src.leases.map(leaseToWire), peers: [], endpoints: [], bgpSessions: [] } },
      { subnet: { change: 'CHANGE_TYPE_ADDED', lease: leaseToWire(src.leases[1]) } },
      { peer: { change: 'CHANGE_TYPE_REMOVED', peer: { nodeName: 'node-b', subnet: '10.244.2.0/24' } } },
      { endpoint: { change: 'CHANGE_TYPE_ADDED', endpoint: endpointToWire(src.endpoints[0]) } },
      { peerLiveness: { nodeName: 'node-b', subnet: '10.244.2.0/24', agent: 'AGENT_STATE_DOWN', since: time } },
      { peerLiveness: { nodeName: 'node-b', subnet: '10.244.2.0/24', agent: 'AGENT_STATE_ALIVE', since: time } },
    ].map((e) => renderWatchEvent(viaWire<WatchEvent__Output>('Watch', { ...e, sequence: 1, time })));
    expect(lines).to.deep.equal([
      '07:00:01.234  snapshot   node node-a subnet 10.244.1.0/24: 2 leases, 0 peers, 0 endpoints, 0 BGP sessions\n',
      '07:00:01.234  subnet     added 10.244.2.0/24 node node-b 192.168.50.2\n',
      '07:00:01.234  peer       removed node-b 10.244.2.0/24\n',
      '07:00:01.234  endpoint   added c0ffee01 eth0 10.244.1.2/24\n',
      '07:00:01.234  peer-down  node-b 10.244.2.0/24\n',
      '07:00:01.234  peer-alive node-b 10.244.2.0/24\n',
    ]);
  });
});
