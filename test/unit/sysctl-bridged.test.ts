/**
 * bridgedTrafficFiltered (pure, fake /proc/sys): bridged traffic is turned
 * through the ip hooks when it is not, and a missing br_netfilter is named.
 */
import { expect } from 'chai';
import { bridgedTrafficFiltered, type SysctlAccess } from '../../agent/src/dataplane/sysctl';

function fakeSys(values: Record<string, string>): SysctlAccess & { writes: string[] } {
  const writes: string[] = [];
  return {
    writes,
    read: (key) => {
      const v = values[key];
      if (v === undefined) throw Object.assign(new Error(`ENOENT: ${key}`), { code: 'ENOENT' });
      return v;
    },
    write: (key, value) => { writes.push(`${key}=${value}`); values[key] = value; },
  };
}

describe('sysctl: bridged traffic through the forward hook (network policy on one node)', () => {
  it('sets bridge-nf-call-iptables to 1 when it is 0, and leaves it when it is 1', () => {
    const sys = fakeSys({ 'net.bridge.bridge-nf-call-iptables': '0', 'net.bridge.bridge-nf-call-ip6tables': '0' });
    expect(bridgedTrafficFiltered(sys, false)).to.equal(undefined);
    expect(sys.writes).to.deep.equal(['net.bridge.bridge-nf-call-iptables=1']);
    expect(bridgedTrafficFiltered(sys, false)).to.equal(undefined);
    expect(sys.writes).to.have.length(1);
  });

  it('with IPv6 in use, bridge-nf-call-ip6tables too', () => {
    const sys = fakeSys({ 'net.bridge.bridge-nf-call-iptables': '1', 'net.bridge.bridge-nf-call-ip6tables': '0' });
    expect(bridgedTrafficFiltered(sys, true)).to.equal(undefined);
    expect(sys.writes).to.deep.equal(['net.bridge.bridge-nf-call-ip6tables=1']);
  });

  it('without br_netfilter (no such sysctl) says so and how to fix it', () => {
    const problem = bridgedTrafficFiltered(fakeSys({}), false);
    expect(problem).to.match(/br_netfilter module is not loaded/);
    expect(problem).to.match(/modprobe br_netfilter/);
  });
});
