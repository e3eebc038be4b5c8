/**
 * Which family's nft maps a published port goes into (agent/src/cni/port-targets.ts):
 * Docker's and the CNI portmap plugin's meaning of the host address.
 */
import { expect } from 'chai';
import { portTargets } from '../../agent/src/cni/port-targets';
import type { Endpoint, PortMapping } from '../../agent/src/records';

function endpoint(address: string, ipv6Address: string | undefined, portMappings: PortMapping[]): Endpoint {
  return {
    containerId: 'c1', ifname: '@docker', netns: '/run/netns/x', address, ...(ipv6Address !== undefined ? { ipv6Address } : {}),
    mac: '', hostVeth: 'knv1', portMappings, createdAt: '2026-01-01T00:00:00Z',
  };
}

const tcp = (hostIp?: string): PortMapping => ({ protocol: 'tcp', hostPort: 8080, containerPort: 80, ...(hostIp !== undefined ? { hostIp } : {}) });

describe('port targets: published ports by family', () => {
  const cases: Array<{ name: string; e: Endpoint; v4: Array<string | undefined>; v6: Array<string | undefined> }> = [
    { name: 'no host IP on a dual-stack container: both families', e: endpoint('10.90.3.3/24', 'fd00:90:0:3::3/64', [tcp()]), v4: [undefined], v6: [undefined] },
    { name: '0.0.0.0 (docker -p 0.0.0.0:P:P): IPv4 only', e: endpoint('10.90.3.3/24', 'fd00:90:0:3::3/64', [tcp('0.0.0.0')]), v4: ['0.0.0.0'], v6: [] },
    { name: ':: (docker -p [::]:P:P): IPv6 only', e: endpoint('10.90.3.3/24', 'fd00:90:0:3::3/64', [tcp('::')]), v4: [], v6: ['::'] },
    { name: 'a node IPv6 address: IPv6 only', e: endpoint('10.90.3.3/24', 'fd00:90:0:3::3/64', [tcp('fd77::b')]), v4: [], v6: ['fd77::b'] },
    { name: 'a node IPv4 address: IPv4 only', e: endpoint('10.90.3.3/24', 'fd00:90:0:3::3/64', [tcp('192.168.77.11')]), v4: ['192.168.77.11'], v6: [] },
    { name: 'IPv4-only container: no IPv6 mapping even for ::', e: endpoint('10.90.3.3/24', undefined, [tcp(), tcp('::')]), v4: [undefined], v6: [] },
    { name: 'IPv6-only container (address is IPv6)', e: endpoint('fd00:90:0:3::3/64', undefined, [tcp(), tcp('0.0.0.0')]), v4: [], v6: [undefined] },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const { v4, v6 } = portTargets([tc.e]);
      expect(v4.map((m) => m.hostIp)).to.deep.equal(tc.v4);
      expect(v6.map((m) => m.hostIp)).to.deep.equal(tc.v6);
      for (const m of v4) expect(m).to.deep.include({ containerIp: '10.90.3.3', id: 'c1/@docker' });
      for (const m of v6) expect(m).to.deep.include({ containerIp: 'fd00:90:0:3::3', id: 'c1/@docker' });
    });
  }
});
