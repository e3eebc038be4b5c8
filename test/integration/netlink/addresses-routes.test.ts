/**
 * Addresses and routes, v4 and v6, read back through the layer and through
 * `ip -j`: onlink routes via a gateway with knit's protocol (89) in the main
 * table and in another table, replace, metric/src/scope, delete.
 */
import { expect } from 'chai';
import { openHandle, RTPROT_KNIT } from '../../../agent/src/netlink';
import type { Handle, Route } from '../../../agent/src/netlink';
import { addNetns, delNetns, netnsPath, nsIpJson, nsRun } from '../../lab/netns';

interface IpAddrInfo { family: string; local: string; prefixlen: number }
interface IpRoute { dst: string; gateway?: string; dev?: string; protocol?: string; scope?: string; flags?: string[]; metric?: number; prefsrc?: string }

describe('netlink: addresses and routes', () => {
  let ns: string;
  let peerNs: string;
  let h: Handle;
  let dev: number;
  const ipAddrs = (): string[] =>
    nsIpJson<Array<{ addr_info: IpAddrInfo[] }>>(ns, ['addr', 'show', 'dev', 'r0'])[0].addr_info.map((a) => `${a.local}/${a.prefixlen}`);
  const ipRoutes = (args: string[]): IpRoute[] => nsIpJson<IpRoute[]>(ns, ['route', 'show', ...args]);

  before(async () => {
    ns = addNetns('rt');
    peerNs = addNetns('rp');
    h = openHandle(netnsPath(ns));
    const v = await h.vethAdd({ name: 'r0', peerName: 'r0p', peerNetns: netnsPath(peerNs) });
    dev = v.index;
    await h.linkSetUp(dev);
    nsRun(peerNs, 'ip', ['link', 'set', 'r0p', 'up']);
  });
  after(() => {
    h?.close();
    delNetns(ns);
    delNetns(peerNs);
  });

  it('v4 and v6 addresses: add, list, delete', async () => {
    await h.addrAdd(dev, '10.30.0.1/24');
    await h.addrAdd(dev, 'fd30::1/64');
    expect(ipAddrs()).to.include.members(['10.30.0.1/24', 'fd30::1/64']);
    const mine = await h.addrList({ index: dev });
    expect(mine).to.deep.include({ index: dev, cidr: '10.30.0.1/24', family: 4 });
    expect(mine).to.deep.include({ index: dev, cidr: 'fd30::1/64', family: 6 });
    expect((await h.addrList({ index: dev, family: 4 })).map((a) => a.family)).to.deep.equal([4]);
    expect((await h.addrList({ family: 6 })).every((a) => a.family === 6)).to.equal(true);

    let err: unknown;
    try { await h.addrAdd(dev, '10.30.0.1/24'); } catch (e) { err = e; }
    expect(err).to.have.property('code', 'EEXIST');

    await h.addrAdd(dev, '10.31.0.1/24');
    await h.addrDel(dev, '10.31.0.1/24');
    expect(ipAddrs()).to.not.include('10.31.0.1/24');
    expect((await h.addrList({ index: dev })).map((a) => a.cidr)).to.not.include('10.31.0.1/24');
  });

  it('v4 route via gateway with protocol, metric and src; replace; delete', async () => {
    const r: Route = { dst: '10.40.0.0/24', gateway: '10.30.0.2', index: dev, protocol: RTPROT_KNIT, metric: 10, src: '10.30.0.1' };
    await h.routeAdd(r);
    const ip = ipRoutes(['10.40.0.0/24']);
    expect(ip).to.have.length(1);
    expect(ip[0]).to.include({ gateway: '10.30.0.2', dev: 'r0', protocol: '89', metric: 10, prefsrc: '10.30.0.1' });
    const mine = await h.routeList({ protocol: RTPROT_KNIT });
    expect(mine).to.deep.equal([{ ...r, table: 254, scope: 'universe' }]);

    let err: unknown;
    try { await h.routeAdd(r); } catch (e) { err = e; }
    expect(err).to.have.property('code', 'EEXIST');
    expect((err as Error).message).to.contain('10.40.0.0/24');

    await h.routeReplace({ ...r, gateway: '10.30.0.3' });
    expect(ipRoutes(['10.40.0.0/24'])[0].gateway).to.equal('10.30.0.3');
    await h.routeDel({ dst: r.dst, metric: 10, protocol: RTPROT_KNIT });
    expect(ipRoutes(['10.40.0.0/24'])).to.deep.equal([]);
    expect(await h.routeList({ protocol: RTPROT_KNIT })).to.deep.equal([]);
  });

  for (const table of [254, 100]) {
    it(`onlink route via an off-subnet gateway, protocol 89, table ${table}`, async () => {
      const r: Route = { dst: '10.244.7.0/24', gateway: '172.16.9.9', index: dev, onlink: true, protocol: RTPROT_KNIT, table };
      // without onlink the kernel refuses a gateway it cannot reach
      let err: unknown;
      try { await h.routeAdd({ ...r, onlink: false }); } catch (e) { err = e; }
      expect(err).to.have.property('code', 'ENETUNREACH');

      await h.routeAdd(r);
      const ip = ipRoutes(['table', String(table), '10.244.7.0/24']);
      expect(ip).to.have.length(1);
      expect(ip[0]).to.include({ gateway: '172.16.9.9', dev: 'r0', protocol: '89' });
      expect(ip[0].flags).to.include('onlink');
      expect(await h.routeList({ table, protocol: RTPROT_KNIT })).to.deep.equal([{ ...r, scope: 'universe', metric: 0 }]);
      if (table !== 254) expect(await h.routeList({ protocol: RTPROT_KNIT })).to.deep.equal([]); // main only by default
      expect((await h.routeList({ table: 0, protocol: RTPROT_KNIT })).map((x) => x.table)).to.deep.equal([table]);

      await h.routeDel(r);
      expect(ipRoutes(['table', String(table), '10.244.7.0/24'])).to.deep.equal([]);
    });
  }

  it('device route with link scope, and the default route', async () => {
    await h.routeAdd({ dst: '10.50.0.0/16', index: dev, protocol: RTPROT_KNIT });
    expect(ipRoutes(['10.50.0.0/16'])[0]).to.include({ dev: 'r0', scope: 'link', protocol: '89' });
    await h.routeAdd({ dst: '0.0.0.0/0', gateway: '10.30.0.254', index: dev, protocol: RTPROT_KNIT });
    expect(ipRoutes(['default'])[0]).to.include({ gateway: '10.30.0.254' });
    const mine = await h.routeList({ family: 4, protocol: RTPROT_KNIT });
    expect(mine.map((r) => `${r.dst} ${r.scope}`).sort()).to.deep.equal(['0.0.0.0/0 universe', '10.50.0.0/16 link']);
    await h.routeDel({ dst: '0.0.0.0/0', protocol: RTPROT_KNIT });
    await h.routeDel({ dst: '10.50.0.0/16', index: dev });
    expect(await h.routeList({ family: 4, protocol: RTPROT_KNIT })).to.deep.equal([]);
  });

  it('v6 route via gateway: add, list, replace, delete', async () => {
    const r: Route = { dst: 'fd40:0:0:7::/64', gateway: 'fd30::2', index: dev, protocol: RTPROT_KNIT };
    await h.routeAdd(r);
    const ip = nsIpJson<IpRoute[]>(ns, ['-6', 'route', 'show', 'fd40:0:0:7::/64']);
    expect(ip).to.have.length(1);
    expect(ip[0]).to.include({ gateway: 'fd30::2', dev: 'r0', protocol: '89' });
    const mine = await h.routeList({ family: 6, protocol: RTPROT_KNIT });
    expect(mine).to.deep.equal([{ dst: 'fd40:0:0:7::/64', gateway: 'fd30::2', index: dev, protocol: 89, table: 254, scope: 'universe', metric: 1024 }]);
    await h.routeReplace({ ...r, gateway: 'fd30::3', metric: 1024 });
    expect(nsIpJson<IpRoute[]>(ns, ['-6', 'route', 'show', 'fd40:0:0:7::/64'])[0].gateway).to.equal('fd30::3');
    await h.routeDel({ dst: r.dst, protocol: RTPROT_KNIT });
    expect(await h.routeList({ family: 6, protocol: RTPROT_KNIT })).to.deep.equal([]);
  });

  it('pipelines: 600 route adds in flight at once, dumps alongside, then 600 deletes', async () => {
    const routes: Route[] = [];
    for (let i = 0; i < 600; i++) routes.push({ dst: `10.${100 + (i >> 8)}.${i & 255}.0/24`, gateway: '10.30.0.2', index: dev, protocol: RTPROT_KNIT });
    const dumps = [h.routeList({ protocol: RTPROT_KNIT }), h.linkList(), h.addrList()];
    await Promise.all([...routes.map((r) => h.routeAdd(r)), ...dumps]);
    const listed = await h.routeList({ protocol: RTPROT_KNIT });
    expect(listed.map((r) => r.dst).sort()).to.deep.equal(routes.map((r) => r.dst).sort());
    expect(ipRoutes(['proto', '89'])).to.have.length(600);
    await Promise.all(routes.map((r) => h.routeDel(r)));
    expect(ipRoutes(['proto', '89'])).to.deep.equal([]);
  });

  it('deleting a route that is not there is ESRCH', async () => {
    let err: unknown;
    try { await h.routeDel({ dst: '10.99.0.0/24', protocol: RTPROT_KNIT }); } catch (e) { err = e; }
    expect(err).to.have.property('code', 'ESRCH');
    expect(err).to.have.property('op', 'route del');
  });
});
