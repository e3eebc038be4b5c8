/**
 * Change events: a dedicated rtnetlink socket in the handle's namespace,
 * joined to the link, neighbour, IPv4/IPv6 route and nexthop multicast groups, whose
 * messages are decoded into typed NetlinkEvents (AF_BRIDGE neighbour messages
 * are bridge FDB entries, reported as fdb-* events). Every message goes
 * through the compact decoder (decode.ts); a message it cannot decode
 * reaches `onError` as a NetlinkDecodeError.
 */
import { rt } from 'netlink';
import { createRawSocketIn } from './conn';
import { netlinkDrops, netlinkKeepScoped, netlinkKeepTypes, netlinkTune } from './netns';
import { decodeFdb, decodeLink, decodeNeighbour, decodeNexthop, decodeRoute, neighbourFamily, NLMSG_HDRLEN, readHeader, type NetlinkHeader } from './decode';
import { AF_BRIDGE } from './validate';
import type { EventGroup, NetlinkEvent, Subscription } from './types';

const { MessageType, MulticastGroups } = rt;
const RTNLGRP_NEXTHOP = 32;
const RT_TABLE_MAIN = 254;

/**
 * Receive queue of an event socket. A burst (knitd's own batched writes for
 * thousands of peers, a routing daemon installing a full table) announces
 * one message per object; the memory is used only while events wait.
 */
const EVENTS_RCVBUF = 32 << 20;
/** How often the socket's drop counter is read: the longest a lost event goes unnoticed. */
const DROP_CHECK_MS = 100;

const GROUPS: Record<EventGroup, readonly number[]> = {
  link: [MulticastGroups.LINK],
  'link-deleted': [MulticastGroups.LINK],
  neigh: [MulticastGroups.NEIGH],
  route: [MulticastGroups.IPV4_ROUTE, MulticastGroups.IPV6_ROUTE],
  // RTNLGRP_NEXTHOP is 32: beyond the bind() bitmask, so it is joined by setsockopt
  // (NETLINK_ADD_MEMBERSHIP, which addMembership uses for every group)
  nexthop: [RTNLGRP_NEXTHOP],
};
/** The message types a group delivers when it does not deliver all of its group's. */
const KEEP: Partial<Record<EventGroup, readonly number[]>> = {
  'link-deleted': [MessageType.DELLINK],
};
const ALL_GROUPS: readonly EventGroup[] = ['link', 'neigh', 'route', 'nexthop'];

/** The message types to keep when every group asked for keeps only some; undefined: all. */
function keptTypes(groups: readonly EventGroup[]): Set<number> | undefined {
  const kept = new Set<number>();
  for (const g of groups) {
    const types = KEEP[g];
    if (types === undefined) return undefined;
    for (const t of types) kept.add(t);
  }
  return kept;
}

/** Decode one raw rtnetlink message (its body: buf[start, end)) into an event; undefined for what knit does not report. */
export function eventFromMessage(type: number, buf: Buffer, start: number, end: number): NetlinkEvent | undefined {
  switch (type) {
    case MessageType.NEWLINK:
    case MessageType.DELLINK: {
      const { link, change } = decodeLink(buf, start, end);
      if (type === MessageType.DELLINK) return { type: 'link-deleted', link };
      // the kernel announces a newly registered device with ifi_change = ~0
      return { type: change === 0xffffffff ? 'link-added' : 'link-changed', link };
    }
    case MessageType.NEWROUTE:
    case MessageType.DELROUTE: {
      const route = decodeRoute(buf, start, end);
      if (!route) return undefined;
      return { type: type === MessageType.NEWROUTE ? 'route-added' : 'route-deleted', route };
    }
    case MessageType.NEWNEIGH:
    case MessageType.DELNEIGH: {
      const added = type === MessageType.NEWNEIGH;
      if (neighbourFamily(buf, start, end) === AF_BRIDGE) {
        const entry = decodeFdb(buf, start, end);
        return entry ? { type: added ? 'fdb-added' : 'fdb-deleted', entry } : undefined;
      }
      const neighbour = decodeNeighbour(buf, start, end, !added);
      if (!neighbour) return undefined;
      return { type: added ? 'neigh-added' : 'neigh-deleted', neighbour };
    }
    case MessageType.NEWNEXTHOP:
    case MessageType.DELNEXTHOP: {
      const nexthop = decodeNexthop(buf, start, end);
      if (!nexthop) return undefined;
      return { type: type === MessageType.NEWNEXTHOP ? 'nexthop-added' : 'nexthop-deleted', nexthop };
    }
    default:
      return undefined;
  }
}

/**
 * ip monitor link route neigh nexthop: deliver events from `netns` (null: the
 * caller's own) until close(). A listener that throws does not stop the
 * stream; `onError` (default: ignore) hears about it and about socket errors
 * such as ENOBUFS (events were lost: callers should re-list).
 */
export function subscribe(
  netns: string | null,
  listener: (ev: NetlinkEvent) => void,
  onError: (err: Error) => void = () => undefined,
  groups: readonly EventGroup[] = ALL_GROUPS,
): Subscription {
  let fd = -1;
  // the bare socket: messages reach us undecoded, and only the compact decoder reads them
  const sock = createRawSocketIn(netns, (s) => { fd = netlinkTune(s.address().port, EVENTS_RCVBUF); });
  const kept = keptTypes(groups);
  // In the kernel when it can; the check below drops the rest when it cannot (and costs nothing when it did).
  if (kept !== undefined) {
    try {
      netlinkKeepTypes(fd, [...kept]);
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)));
    }
  }
  for (const g of new Set(groups.flatMap((name) => GROUPS[name]))) {
    try {
      sock.addMembership(g);
    } catch (err) {
      // a kernel without nexthop objects has no such group, and nothing to tell of it
      if (g !== RTNLGRP_NEXTHOP) throw err;
    }
  }
  // Each datagram walked in place: a message's header read, its body decoded where it lies.
  sock.on('message', (buf) => {
    let off = 0;
    while (off < buf.length) {
      let h: NetlinkHeader;
      try {
        h = readHeader(buf, off);
      } catch (err) {
        // framing broken: the rest of this datagram cannot be trusted (the next one starts clean)
        onError(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const start = off + NLMSG_HDRLEN;
      off += (h.length + 3) & ~3;
      if (kept !== undefined && !kept.has(h.type)) continue;
      try {
        const ev = eventFromMessage(h.type, buf, start, start - NLMSG_HDRLEN + h.length);
        if (ev) listener(ev);
      } catch (err) {
        onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
  });
  sock.on('truncatedMessage', () => {
    onError(Object.assign(new Error('ENOBUFS: an event datagram was truncated (events lost)'), { code: 'ENOBUFS' }));
  });
  sock.on('error', (err) => onError(err));
  // With NETLINK_NO_ENOBUFS an overflow is silent but counted: report it as
  // the ENOBUFS it would have been, so callers re-list.
  let drops = netlinkDrops(fd);
  const dropCheck = setInterval(() => {
    let now: number;
    try {
      now = netlinkDrops(fd);
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (now === drops) return;
    const lost = now - drops;
    drops = now;
    onError(Object.assign(new Error(`ENOBUFS: ${lost} netlink event(s) lost (receive queue full)`), { code: 'ENOBUFS' }));
  }, DROP_CHECK_MS);
  dropCheck.unref();
  let closed = false;
  return {
    close(): void {
      if (closed) return;
      closed = true;
      clearInterval(dropCheck); // before the descriptor can be reused
      sock.close();
    },
    narrow(devices: readonly number[]): void {
      if (closed) return;
      // its filter would replace the one that keeps a group's few types
      if (kept !== undefined) throw new Error(`narrow(): only for a subscription without a type filter (this one keeps types ${[...kept].join(', ')})`);
      netlinkKeepScoped(fd, [...devices], RT_TABLE_MAIN);
    },
  };
}
