/**
 * `Handle`: the netlink layer bound to one network namespace, like
 * vishvananda/netlink's NewHandleAt. `openHandle(path)` enters the namespace
 * only long enough to create the handle's sockets (see netns.ts), then every
 * verb runs on those sockets from knitd's own namespace.
 */
import { RtConn, type NetlinkObserver } from './conn';
import { toNetlinkError } from './errors';
import { subscribe } from './events';
import * as addresses from './addresses';
import * as fdb from './fdb';
import * as links from './links';
import * as neighbours from './neighbours';
import * as nexthops from './nexthops';
import * as routes from './routes';
import type { EventGroup, Handle, NetlinkEvent, Subscription } from './types';

class NetlinkHandle implements Handle {
  private readonly c: RtConn;
  private readonly subs = new Set<Subscription>();

  constructor(readonly netns: string | null, observer?: NetlinkObserver) {
    try {
      this.c = new RtConn(netns, observer);
    } catch (err) {
      throw toNetlinkError(err, 'open handle', `netns ${netns ?? '(own)'}`);
    }
  }

  close(): void {
    for (const s of [...this.subs]) s.close();
    this.c.close();
  }

  linkList = () => links.linkList(this.c);
  linkByName = (name: string) => links.linkByName(this.c, name);
  linkByIndex = (index: number) => links.linkByIndex(this.c, index);
  linkAdd: Handle['linkAdd'] = (o) => links.linkAdd(this.c, o);
  bridgeAdd: Handle['bridgeAdd'] = (o) => links.bridgeAdd(this.c, o);
  vethAdd: Handle['vethAdd'] = (o) => links.vethAdd(this.c, o);
  vxlanAdd: Handle['vxlanAdd'] = (o) => links.vxlanAdd(this.c, o);
  ipipAdd: Handle['ipipAdd'] = (o) => links.ipipAdd(this.c, o);
  linkSetUp = (index: number) => links.linkSetUp(this.c, index);
  linkSetDown = (index: number) => links.linkSetDown(this.c, index);
  linkSetMtu = (index: number, mtu: number) => links.linkSetMtu(this.c, index, mtu);
  linkSetMac = (index: number, mac: string) => links.linkSetMac(this.c, index, mac);
  linkSetMaster = (index: number, masterIndex: number) => links.linkSetMaster(this.c, index, masterIndex);
  linkRename = (index: number, name: string) => links.linkRename(this.c, index, name);
  linkSetHairpin = (index: number, on: boolean) => links.linkSetHairpin(this.c, index, on);
  linkDel = (index: number) => links.linkDel(this.c, index);
  linkSetGroup = (index: number, group: number) => links.linkSetGroup(this.c, index, group);
  linkDelGroup = (group: number) => links.linkDelGroup(this.c, group);

  addrList: Handle['addrList'] = (filter) => addresses.addrList(this.c, filter);
  addrAdd = (index: number, cidr: string, opts?: { noDad?: boolean }) => addresses.addrAdd(this.c, index, cidr, opts);
  addrDel = (index: number, cidr: string) => addresses.addrDel(this.c, index, cidr);

  routeList: Handle['routeList'] = (filter) => routes.routeList(this.c, filter);
  routeAdd: Handle['routeAdd'] = (r) => routes.routeAdd(this.c, r);
  routeReplace: Handle['routeReplace'] = (r) => routes.routeReplace(this.c, r);
  routeDel: Handle['routeDel'] = (r) => routes.routeDel(this.c, r);

  neighList: Handle['neighList'] = (filter) => neighbours.neighList(this.c, filter);
  neighSet: Handle['neighSet'] = (n) => neighbours.neighSet(this.c, n);
  neighDel: Handle['neighDel'] = (n) => neighbours.neighDel(this.c, n);

  fdbList: Handle['fdbList'] = (filter) => fdb.fdbList(this.c, filter);
  fdbSet: Handle['fdbSet'] = (e) => fdb.fdbSet(this.c, e);
  fdbAppend: Handle['fdbAppend'] = (e) => fdb.fdbAppend(this.c, e);
  fdbDel: Handle['fdbDel'] = (e) => fdb.fdbDel(this.c, e);

  nexthopList: Handle['nexthopList'] = (filter) => nexthops.nexthopList(this.c, filter);
  nexthopReplace: Handle['nexthopReplace'] = (nh) => nexthops.nexthopReplace(this.c, nh);
  nexthopDel: Handle['nexthopDel'] = (nh) => nexthops.nexthopDel(this.c, nh);

  subscribe(listener: (ev: NetlinkEvent) => void, onError?: (err: Error) => void, groups?: readonly EventGroup[]): Subscription {
    let sub: Subscription;
    try {
      sub = subscribe(this.netns, listener, onError, groups);
    } catch (err) {
      throw toNetlinkError(err, 'subscribe', `netns ${this.netns ?? '(own)'}`);
    }
    const tracked: Subscription = {
      close: () => { this.subs.delete(tracked); sub.close(); },
      narrow: (devices) => sub.narrow?.(devices),
    };
    this.subs.add(tracked);
    return tracked;
  }
}

/**
 * Open a netlink handle bound to the namespace at `netnsPath`
 * (/var/run/netns/X or /proc/PID/ns/net); without one, knitd's own. Throws
 * NetlinkError (op 'open handle', code e.g. 'ENOENT', the path in the
 * message) when the namespace cannot be entered. `opts.observer` sees every
 * request's operation and outcome (knitd counts them as metrics).
 */
export function openHandle(netnsPath?: string, opts: { observer?: NetlinkObserver } = {}): Handle {
  return new NetlinkHandle(netnsPath ?? null, opts.observer);
}
