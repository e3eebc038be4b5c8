/**
 * The explicit backend registry: built-ins registered by name, lease data
 * known before any lease or kernel object exists, clear errors for unknown
 * types and double registration, and config the VXLAN backend refuses.
 */
import { expect } from 'chai';
import {
  backendLeaseData, createBackend, registerBackend, registeredBackendTypes, vtepMac, type BackendContext, type BackendFactory, parseNetwork,
} from '../../agent/src/backend';
import { silentLogger } from '../../agent/src/log/logger';
import type { Handle, Link } from '../../agent/src/netlink/types';

const net = (backend: Record<string, unknown>) => parseNetwork({ clusterCidr: '10.244.0.0/16', backend });
const underlay: Link = { index: 2, name: 'eth0', kind: 'veth', mtu: 1500, up: true };
/** A handle whose every call fails: proves a code path never reaches the kernel. */
const noKernel = new Proxy({}, { get: () => () => { throw new Error('kernel touched'); } }) as Handle;
const ctx = (network: ReturnType<typeof net>): BackendContext => ({
  nl: noKernel, logger: silentLogger(), network, node: { name: 'node1', publicIp: '192.168.77.11', underlay, subnet: '10.244.1.0/24' },
});

describe('backend: registry', () => {
  it('registers vxlan, host-gw and ipip', () => {
    expect(registeredBackendTypes()).to.include.members(['vxlan', 'host-gw', 'ipip']);
  });

  it('lease data is pure and known before the lease: the VTEP MAC for vxlan, nothing for host-gw and ipip', () => {
    expect(backendLeaseData(net({ type: 'vxlan', vni: 7 }), 'node1')).to.deep.equal({ vtepMac: vtepMac('node1', 7) });
    expect(backendLeaseData(net({ type: 'host-gw' }), 'node1')).to.deep.equal({});
    expect(backendLeaseData(net({ type: 'ipip' }), 'node1')).to.deep.equal({});
  });

  it('creates the network\'s backend without touching the kernel', () => {
    expect(createBackend(ctx(net({ type: 'vxlan' }))).type).to.equal('vxlan');
    expect(createBackend(ctx(net({ type: 'host-gw' }))).type).to.equal('host-gw');
    expect(createBackend(ctx(net({ type: 'ipip' }))).type).to.equal('ipip');
  });

  it('an unregistered type is a clear error', () => {
    // Every known type is registered now; a config that bypassed validation stands in for a missing one.
    const bogus = { ...net({ type: 'ipip' }), backend: { type: 'nope' } };
    expect(() => createBackend(ctx(bogus))).to.throw(/^no backend registered for type nope \(registered: vxlan, host-gw, ipip, bgp/);
  });

  it('another factory for a taken type is refused', () => {
    const other: BackendFactory = { type: 'vxlan', parseConfig: (s) => s, leaseData: () => ({}), create: () => { throw new Error('unused'); } };
    expect(() => registerBackend(other)).to.throw('backend vxlan is already registered');
  });

  it('desired() before setup() is an error, not an empty plan', () => {
    for (const type of ['vxlan', 'host-gw', 'ipip']) {
      expect(() => createBackend(ctx(net({ type }))).desired([]), type).to.throw(/before setup/);
    }
  });

  it('vxlan: disableTxChecksumOffload is refused at setup, before any kernel call', async () => {
    const b = createBackend(ctx(net({ type: 'vxlan', disableTxChecksumOffload: true })));
    let err: Error | undefined;
    try { await b.setup(); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/^backend\.disableTxChecksumOffload is not supported by this knit build/);
  });
});
