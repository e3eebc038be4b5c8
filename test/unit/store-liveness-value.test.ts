/** Liveness values from etcd: untrusted, validated field by field (store/liveness-registry.ts). */
import { expect } from 'chai';
import { parseAliveValue } from '../../agent/src/store';

const value = (publicIp: unknown): string => JSON.stringify({ nodeName: 'node1', publicIp, startedAt: '2026-12-04T06:00:00.000Z', version: '0.1.0' });

describe('store: liveness values', () => {
  it('takes an IPv4, an IPv6 (IPv6-only cluster) or no public address', () => {
    expect(parseAliveValue('node1', value('192.168.77.11')).publicIp).to.equal('192.168.77.11');
    expect(parseAliveValue('node1', value('fd77::b')).publicIp).to.equal('fd77::b');
    expect(parseAliveValue('node1', value('')).publicIp).to.equal('');
  });
  it('refuses an address that is not one, or not in canonical form, and a name that disagrees with the key', () => {
    for (const bad of ['10.0.0.300', 'fd77:0::b', 'FD77::B', 'host', 7]) {
      expect(() => parseAliveValue('node1', value(bad)), String(bad)).to.throw(/publicIp/);
    }
    expect(() => parseAliveValue('node2', value('fd77::b'))).to.throw(/disagrees with its key/);
  });
});
