import { expect } from 'chai';
import { decodeState, encodeState, IpamState, IpamStateError } from '../../agent/src/ipam/state-codec';

const FILE = '/var/lib/knit/ipam.json';
const SUBNET = '10.244.1.0/24';

function doc(allocations: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, subnet: SUBNET, allocations, ...extra });
}
const a = (containerId: string, ip: string, ifname = 'eth0') => ({ containerId, ifname, ip, createdAt: '2026-01-01T00:00:00.000Z' });

describe('ipam/state-codec', () => {
  it('round-trips a state exactly', () => {
    const state: IpamState = { subnet: SUBNET, lastAllocated: '10.244.1.9', allocations: [a('c2', '10.244.1.9'), a('c1', '10.244.1.2', 'net1')] };
    const { state: back, warnings } = decodeState(encodeState(state), FILE, SUBNET);
    expect(warnings).to.deep.equal([]);
    expect(back.subnet).to.equal(SUBNET);
    expect(back.lastAllocated).to.equal('10.244.1.9');
    // encodeState orders by address.
    expect(back.allocations).to.deep.equal([a('c1', '10.244.1.2', 'net1'), a('c2', '10.244.1.9')]);
  });

  describe('whole-file errors name the file and leave the decision to the caller', () => {
    const cases: Array<{ name: string; text: string; fragment: string }> = [
      { name: 'corrupt JSON', text: '{"version": 1, "subnet": ', fragment: 'not valid JSON' },
      { name: 'not an object', text: '[]', fragment: 'expected a JSON object' },
      { name: 'unknown version', text: JSON.stringify({ version: 2, subnet: SUBNET, allocations: [] }), fragment: 'unsupported version 2' },
      { name: 'bad subnet', text: JSON.stringify({ version: 1, subnet: '10.244.1.0', allocations: [] }), fragment: 'is not an IPv4 CIDR' },
      { name: 'allocations not an array', text: JSON.stringify({ version: 1, subnet: SUBNET, allocations: {} }), fragment: '"allocations" must be an array' },
    ];
    for (const tc of cases) {
      it(tc.name, () => {
        let error: unknown;
        try {
          decodeState(tc.text, FILE, SUBNET);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(IpamStateError);
        expect((error as IpamStateError).file).to.equal(FILE);
        expect((error as Error).message).to.contain(FILE).and.to.contain(tc.fragment);
      });
    }

    it('a different subnet names both subnets', () => {
      const text = JSON.stringify({ version: 1, subnet: '10.244.7.0/24', allocations: [] });
      expect(() => decodeState(text, FILE, SUBNET)).to.throw(IpamStateError, /10\.244\.7\.0\/24.*10\.244\.1\.0\/24/);
    });
  });

  describe('bad entries are dropped with a warning', () => {
    const cases: Array<{ name: string; entry: unknown; fragment: string }> = [
      { name: 'outside the subnet', entry: a('x', '10.244.2.5'), fragment: 'outside 10.244.1.0/24' },
      { name: 'network address', entry: a('x', '10.244.1.0'), fragment: 'reserved' },
      { name: 'gateway', entry: a('x', '10.244.1.1'), fragment: 'reserved' },
      { name: 'broadcast', entry: a('x', '10.244.1.255'), fragment: 'reserved' },
      { name: 'not an IP', entry: a('x', '10.244.1.300'), fragment: 'not an IPv4 address' },
      { name: 'malformed', entry: { containerId: 'x', ip: '10.244.1.5' }, fragment: 'malformed' },
      { name: 'duplicate IP', entry: a('other', '10.244.1.2'), fragment: 'already held' },
      { name: 'duplicate key', entry: a('c1', '10.244.1.3'), fragment: 'already has an earlier entry' },
    ];
    for (const tc of cases) {
      it(tc.name, () => {
        const { state, warnings } = decodeState(doc([a('c1', '10.244.1.2'), tc.entry]), FILE, SUBNET);
        expect(state.allocations).to.deep.equal([a('c1', '10.244.1.2')]);
        expect(warnings).to.have.length(1);
        expect(warnings[0]).to.contain('allocations[1]').and.to.contain(tc.fragment);
      });
    }
  });

  it('ignores a lastAllocated outside the subnet with a warning', () => {
    const { state, warnings } = decodeState(doc([], { lastAllocated: '10.0.0.1' }), FILE, SUBNET);
    expect(state.lastAllocated).to.equal(undefined);
    expect(warnings).to.have.length(1);
  });
});
