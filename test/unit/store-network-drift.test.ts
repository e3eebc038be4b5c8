import { expect } from 'chai';
import { checkNetworkBackend, parseNetwork } from '../../agent/src/backend';
import { formatNetworkConfig, networkConfigDrift } from '../../agent/src/store';

describe('networkConfigDrift: the stored network config against the one in use', () => {
  const inUse = parseNetwork({ clusterCidr: '10.244.0.0/16', backend: { type: 'vxlan' } });
  const cases: Array<{ name: string; stored: string | undefined; want: string | RegExp | undefined }> = [
    { name: 'the same document', stored: formatNetworkConfig(inUse), want: undefined },
    { name: 'the same config written with defaults left out', stored: '{"clusterCidr":"10.244.0.0/16","backend":{"type":"vxlan"}}', want: undefined },
    { name: 'deleted', stored: undefined, want: 'was deleted' },
    { name: 'another cluster CIDR', stored: '{"clusterCidr":"10.99.0.0/16","backend":{"type":"vxlan"}}', want: /^was replaced \(clusterCidr 10\.244\.0\.0\/16 -> 10\.99\.0\.0\/16, subnetMin .*, subnetMax .*\)$/ },
    { name: 'another backend', stored: '{"clusterCidr":"10.244.0.0/16","backend":{"type":"host-gw"}}', want: 'was replaced (backend {"type":"vxlan","vni":1,"port":8472,"directRouting":false,"disableTxChecksumOffload":false} -> {"type":"host-gw"})' },
    { name: 'not JSON', stored: 'oops', want: /^was replaced by one that does not validate \(network config: not valid JSON/ },
    { name: 'a hostile CIDR', stored: '{"clusterCidr":"0.0.0.0/0","subnetLength":24,"backend":{"type":"vxlan"}}', want: /does not validate .*whole IPv4 address space/ },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const got = networkConfigDrift(inUse, tc.stored, checkNetworkBackend);
      if (tc.want instanceof RegExp) expect(got).to.match(tc.want);
      else expect(got).to.equal(tc.want);
    });
  }
});
