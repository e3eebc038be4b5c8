import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../agent/src/log/logger';
import { Ipam } from '../../agent/src/ipam';
import { DockerDriver, type DockerNetworkView } from '../../agent/src/docker/driver';
import { NetworkIdMap } from '../../agent/src/docker/network-map';
import type { Handle } from '../../agent/src/netlink';
import type { Endpoint } from '../../agent/src/records';

/**
 * The IPAM side of the Docker driver with IPv6 (--ipv6 on a dual-stack knit
 * network): the calls dockerd 20.10 makes, in its order, on real knit pools.
 * Join needs a kernel and is proven in test/e2e/docker-driver.test.ts.
 */
describe('Docker driver: IPv6 pools of dual-stack knit networks', () => {
  let dir: string;
  let driver: DockerDriver;
  let dual: DockerNetworkView;
  let four: DockerNetworkView;
  let six: DockerNetworkView;
  const call = (method: string, body: Record<string, unknown>): Promise<Record<string, unknown>> => driver.handlers[method]!(body);
  const err = (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: Error) => e.message);

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'knit-docker6-'));
    const open = (subnet: string, file: string): Promise<Ipam> => Ipam.open({ subnet, stateFile: path.join(dir, file), logger: silentLogger() });
    const ipam = await open('10.80.3.0/24', 'd4.json');
    const ipam6 = await open('fd00:80:0:3::/64', 'd6.json');
    dual = {
      name: 'dual', ipam, ipam6,
      node: () => ({ bridge: 'knbd', gateway: ipam.gateway, prefixLength: 24, mtu: 1450, cidr: '10.80.0.0/16', ipv6: { gateway: ipam6.gateway, prefixLength: 64, cidr: 'fd00:80::/56' } }),
    };
    const ipam4 = await open('10.81.3.0/24', 'f4.json');
    four = { name: 'four', ipam: ipam4, node: () => ({ bridge: 'knbf', gateway: ipam4.gateway, prefixLength: 24, mtu: 1450, cidr: '10.81.0.0/16' }) };
    const only6 = await open('fd00:90:0:3::/64', 's6.json');
    six = { name: 'six', ipam: only6, node: () => ({ bridge: 'knbs', gateway: only6.gateway, prefixLength: 64, mtu: 1450, cidr: 'fd00:90::/56' }) };
    const nets = [dual, four, six];
    driver = new DockerDriver({
      nl: {} as Handle, openNetns: () => ({}) as Handle, publishPortMappings: async () => undefined, logger: silentLogger(),
      networks: { get: (n) => nets.find((x) => x.name === n), list: () => nets },
      endpoints: { get: () => undefined, put: async () => undefined, remove: async () => undefined },
      networkIds: await NetworkIdMap.open(path.join(dir, 'ids.json')),
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('RequestPool: the IPv4 pool by name as before, the IPv6 pool (V6) with its own PoolID', async () => {
    expect(await call('IpamDriver.RequestPool', { AddressSpace: 'knit', Pool: '10.80.3.0/24', Options: { network: 'dual' }, V6: false }))
      .to.deep.include({ PoolID: 'dual', Pool: '10.80.3.0/24' });
    expect(await call('IpamDriver.RequestPool', { AddressSpace: 'knit', Pool: 'fd00:80:0:3::/64', Options: { network: 'dual' }, V6: true }))
      .to.deep.include({ PoolID: 'dual/ipv6', Pool: 'fd00:80:0:3::/64' });
  });

  it('RequestPool V6 refuses: no explicit pool, a pool that is not this node\'s IPv6 subnet, an IPv4-only network, an IPv6-only network', async () => {
    expect(await err(call('IpamDriver.RequestPool', { Options: { network: 'dual' }, V6: true }))).to.include('--subnet fd00:80:0:3::/64');
    expect(await err(call('IpamDriver.RequestPool', { Pool: 'fd00:80:0:4::/64', Options: {}, V6: true }))).to.include('IPv6 subnet of a dual-stack knit network');
    expect(await err(call('IpamDriver.RequestPool', { Pool: 'fd00:80:0:3::/64', Options: { network: 'four' }, V6: true }))).to.include('knit network four has no IPv6 CIDR');
    expect(await err(call('IpamDriver.RequestPool', { Pool: '10.80.3.0/24', Options: {}, V6: true }))).to.include('IPv6 subnet');
    // Docker 20.10 asks for an IPv4 pool first: an IPv6-only knit network has none.
    expect(await err(call('IpamDriver.RequestPool', { Pool: 'fd00:90:0:3::/64', Options: { network: 'six' }, V6: false }))).to.include('knit network six is IPv6-only');
    expect(await err(call('IpamDriver.RequestPool', { Pool: 'fd00:90:0:3::/64', Options: {}, V6: false }))).to.include('--subnet');
  });

  it('RequestAddress per family: the gateway is the bridge\'s, containers get addresses of the pool\'s family; ReleaseAddress frees them', async () => {
    const gw = { RequestAddressType: 'com.docker.network.gateway' };
    expect(await call('IpamDriver.RequestAddress', { PoolID: 'dual', Address: '10.80.3.1', Options: gw })).to.deep.include({ Address: '10.80.3.1/24' });
    expect(await call('IpamDriver.RequestAddress', { PoolID: 'dual/ipv6', Address: 'fd00:80:0:3::1', Options: gw })).to.deep.include({ Address: 'fd00:80:0:3::1/64' });
    const a4 = (await call('IpamDriver.RequestAddress', { PoolID: 'dual', Options: {} })).Address as string;
    const a6 = (await call('IpamDriver.RequestAddress', { PoolID: 'dual/ipv6', Options: {} })).Address as string;
    expect(a4).to.match(/^10\.80\.3\.\d+\/24$/);
    expect(a6).to.match(/^fd00:80:0:3::[0-9a-f]+\/64$/);
    expect(dual.ipam6!.list().map((x) => x.ip)).to.include(a6.split('/')[0]);
    expect(await err(call('IpamDriver.RequestAddress', { PoolID: 'dual/ipv6', Address: 'fd00:80:0:3::99', Options: {} }))).to.include('drop --ip/--ip6 fd00:80:0:3::99');
    expect(await err(call('IpamDriver.RequestAddress', { PoolID: 'four/ipv6', Options: {} }))).to.include('knit network four has no IPv6 pool');
    await call('IpamDriver.ReleaseAddress', { PoolID: 'dual/ipv6', Address: a6 });
    expect(dual.ipam6!.list().map((x) => x.ip)).not.to.include(a6.split('/')[0]);
    expect(dual.ipam.list().map((x) => x.ip)).to.include(a4.split('/')[0]);
    // A released network's pools answer empty, as before.
    expect(await call('IpamDriver.ReleaseAddress', { PoolID: 'gone/ipv6', Address: 'fd00::5/64' })).to.deep.equal({});
  });

  it('ProgramExternalConnectivity after a knitd restart between CreateEndpoint and Join: both addresses are read from the sandbox, so the ports go to IPv6 too', async () => {
    const a4 = (await call('IpamDriver.RequestAddress', { PoolID: 'dual', Options: {} })).Address as string;
    const a6 = (await call('IpamDriver.RequestAddress', { PoolID: 'dual/ipv6', Options: {} })).Address as string;
    // Join without CreateEndpoint's answer (lost with the old knitd): no address recorded.
    let rec: Endpoint = { containerId: 'ep1', ifname: '@docker', netns: '/run/docker/netns/x', address: '', mac: '', hostVeth: 'knv1', portMappings: [], createdAt: '2026-01-01T00:00:00Z', network: 'dual' };
    let closed = 0;
    const sandbox = {
      addrList: async () => [{ index: 1, cidr: '127.0.0.1/8', family: 4 }, { index: 9, cidr: a4, family: 4 }, { index: 9, cidr: 'fe80::1/64', family: 6 }, { index: 9, cidr: a6, family: 6 }],
      close: () => { closed++; },
    } as unknown as Handle;
    let published = 0;
    const ids = await NetworkIdMap.open(path.join(dir, 'ids2.json'));
    await ids.set('net1', 'dual');
    const d = new DockerDriver({
      nl: {} as Handle, openNetns: () => sandbox, publishPortMappings: async () => { published++; }, logger: silentLogger(),
      networks: { get: (n) => (n === 'dual' ? dual : undefined), list: () => [dual] },
      endpoints: { get: () => rec, put: async (e) => { rec = e; }, remove: async () => undefined },
      networkIds: ids,
    });
    await d.handlers['NetworkDriver.ProgramExternalConnectivity']!({
      NetworkID: 'net1', EndpointID: 'ep1', Options: { 'com.docker.network.portmap': [{ Proto: 6, Port: 80, HostIP: '', HostPort: 8080 }] },
    });
    expect(rec).to.deep.include({ address: a4, ipv6Address: a6 });
    expect(rec.portMappings).to.deep.equal([{ protocol: 'tcp', containerPort: 80, hostPort: 8080 }]);
    expect(published).to.equal(1);
    expect(closed).to.equal(1);
  });
});
