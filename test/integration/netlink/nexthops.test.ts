/**
 * Nexthop objects and routes through them against the kernel: what the
 * layer writes is what `ip -j nexthop` / `ip -j route` show, what `ip
 * nexthop` makes is what the layer lists, and the events of both. Also what
 * the reconciler relies on: deleting a nexthop deletes the routes through it
 * and the kernel announces only the nexthop's deletion.
 */
import { expect } from 'chai';
import { openHandle, RTPROT_KNIT } from '../../../agent/src/netlink';
import type { Handle, NetlinkEvent, Nexthop } from '../../../agent/src/netlink';
import { addNetns, delNetns, netnsPath, nsIpJson, nsRun } from '../../lab/netns';

interface IpNexthop { id: number; gateway?: string; dev?: string; flags?: string[]; protocol?: string }
interface IpRoute { dst: string; nhid?: number; gateway?: string; dev?: string; protocol?: string }

const waitFor = async (ok: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('netlink: nexthop objects', () => {
  let ns: string;
  let h: Handle;
  let dev: number;
  const ipNexthops = (): IpNexthop[] => nsIpJson<IpNexthop[]>(ns, ['nexthop', 'show']);
  const ipRoutes = (): IpRoute[] => nsIpJson<IpRoute[]>(ns, ['route', 'show', 'proto', String(RTPROT_KNIT)]);

  before(async () => {
    ns = addNetns('nh');
    h = openHandle(netnsPath(ns));
    const v = await h.vethAdd({ name: 'n0', peerName: 'n0p' });
    dev = v.index;
    await h.addrAdd(dev, '192.168.81.1/24');
    await h.linkSetUp(dev);
    // the kernel refuses a nexthop on a device without carrier (ENETDOWN): the peer end up too
    nsRun(ns, 'ip', ['link', 'set', 'n0p', 'up']);
  });
  after(() => {
    h?.close();
    delNetns(ns);
  });

  it('nexthopReplace writes what `ip nexthop` shows (v4 onlink, v6), and replace rewrites in place', async () => {
    await h.nexthopReplace({ id: 0x0af40300, gateway: '10.244.3.0', index: dev, onlink: true, protocol: RTPROT_KNIT });
    await h.nexthopReplace({ id: 7, gateway: 'fe80::1', index: dev, protocol: RTPROT_KNIT });
    let ip = ipNexthops();
    expect(ip.find((n) => n.id === 0x0af40300)).to.deep.include({ gateway: '10.244.3.0', dev: 'n0', flags: ['onlink'] });
    expect(ip.find((n) => n.id === 7)).to.deep.include({ gateway: 'fe80::1', dev: 'n0' });
    await h.nexthopReplace({ id: 0x0af40300, gateway: '192.168.81.9', index: dev, protocol: RTPROT_KNIT });
    ip = ipNexthops();
    expect(ip.find((n) => n.id === 0x0af40300)).to.deep.include({ gateway: '192.168.81.9', dev: 'n0' });
    await h.nexthopDel({ id: 7 });
    await h.nexthopDel({ id: 0x0af40300 });
    expect(ipNexthops()).to.deep.equal([]);
  });

  it('nexthopList reads what `ip nexthop add` made, protocol and onlink included; a group keeps its id', async () => {
    nsRun(ns, 'ip', ['nexthop', 'add', 'id', '40', 'via', '10.9.9.9', 'dev', 'n0', 'onlink', 'proto', '89']);
    nsRun(ns, 'ip', ['nexthop', 'add', 'id', '41', 'via', '192.168.81.2', 'dev', 'n0']);
    nsRun(ns, 'ip', ['nexthop', 'add', 'id', '42', 'group', '41']);
    const list = (await h.nexthopList()).sort((a, b) => a.id - b.id);
    expect(list).to.deep.equal([
      { id: 40, gateway: '10.9.9.9', index: dev, onlink: true, protocol: 89 },
      // `ip nexthop` leaves the protocol unset (0)
      { id: 41, gateway: '192.168.81.2', index: dev, protocol: 0 },
      { id: 42, gateway: '', index: 0, protocol: 0 },
    ] satisfies Nexthop[]);
    nsRun(ns, 'ip', ['nexthop', 'flush']);
  });

  it('a route through a nexthop: routeReplace with nhid, listed as its id alone; an upgrade from a gateway route by replace', async () => {
    await h.routeReplace({ dst: '10.244.5.0/24', gateway: '10.244.5.0', index: dev, onlink: true, protocol: RTPROT_KNIT });
    await h.nexthopReplace({ id: 0x0af40500, gateway: '10.244.5.0', index: dev, onlink: true, protocol: RTPROT_KNIT });
    await h.routeReplace({ dst: '10.244.5.0/24', nhid: 0x0af40500, protocol: RTPROT_KNIT });
    expect(ipRoutes()).to.have.length(1);
    expect(ipRoutes()[0]).to.deep.include({ dst: '10.244.5.0/24', nhid: 0x0af40500 });
    const listed = (await h.routeList({ family: 4, protocol: RTPROT_KNIT }));
    expect(listed).to.deep.equal([{ dst: '10.244.5.0/24', table: 254, protocol: 89, scope: 'universe', metric: 0, nhid: 0x0af40500 }]);
    await h.routeDel({ dst: '10.244.5.0/24', protocol: RTPROT_KNIT });
    await h.nexthopDel({ id: 0x0af40500 });
  });

  it('events: nexthop-added/deleted; deleting a nexthop takes its route along with no route event', async () => {
    const events: NetlinkEvent[] = [];
    const sub = h.subscribe((ev) => events.push(ev), undefined, ['route', 'nexthop']);
    try {
      await h.nexthopReplace({ id: 0x0af40600, gateway: '10.244.6.0', index: dev, onlink: true, protocol: RTPROT_KNIT });
      await h.routeReplace({ dst: '10.244.6.0/24', nhid: 0x0af40600, protocol: RTPROT_KNIT });
      await waitFor(() => events.some((e) => e.type === 'route-added'));
      expect(events[0]).to.deep.equal({ type: 'nexthop-added', nexthop: { id: 0x0af40600, gateway: '10.244.6.0', index: dev, onlink: true, protocol: 89 } });
      events.length = 0;
      nsRun(ns, 'ip', ['nexthop', 'del', 'id', String(0x0af40600)]);
      await waitFor(() => events.some((e) => e.type === 'nexthop-deleted'));
      await new Promise((r) => setTimeout(r, 100));
      expect(events.map((e) => e.type)).to.deep.equal(['nexthop-deleted']);
      expect(ipRoutes()).to.deep.equal([]);
    } finally {
      sub.close();
    }
  });
});
