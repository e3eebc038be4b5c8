/**
 * Which netlink events call for a reconcile run: only the deletion of an
 * object knit wants (a route with knit's protocol, a nexthop object of a
 * wanted id, a neighbour or FDB entry on a backend device), and the deletion or down-ing of a backend device
 * (which also needs setup() again). Everything else in the event stream is
 * somebody else's business. Pure: the reconciler passes its wanted sets.
 */
import type { NetlinkEvent } from '../../netlink';
import { routeKey, type WantedIndex } from './diff';

/** What the last run wanted (the diff's WantedIndex: routes by routeKey, neighbours and FDB per device) and the devices it owns. */
export interface WantedObjects extends WantedIndex {
  protocol: number;
  owned: readonly number[];
}

/** A run is needed: why (for the log line) and whether the devices must be set up again. */
export interface RepairVerdict {
  level: 'info' | 'warn';
  message: string;
  fields: Record<string, unknown>;
  setup: boolean;
}

/** The verdict on one event, or undefined when it needs no run. */
export function eventNeedsRun(ev: NetlinkEvent, w: WantedObjects): RepairVerdict | undefined {
  switch (ev.type) {
    case 'route-deleted':
      if (ev.route.protocol === w.protocol && w.routes.has(routeKey(ev.route))) {
        return { level: 'info', message: 'knit route deleted from outside; repairing', fields: { dst: ev.route.dst }, setup: false };
      }
      return undefined;
    case 'nexthop-deleted':
      // the kernel took the routes through it along without telling: the run restores both (the view dropped both)
      if (w.nexthops.has(ev.nexthop.id)) {
        return { level: 'info', message: 'knit nexthop deleted from outside; repairing it and its routes', fields: { id: ev.nexthop.id }, setup: false };
      }
      return undefined;
    case 'neigh-deleted':
      if (w.owned.includes(ev.neighbour.index) && w.neighbours.get(ev.neighbour.index)?.has(ev.neighbour.ip) === true) {
        return { level: 'info', message: 'knit neighbour deleted from outside; repairing', fields: { ip: ev.neighbour.ip }, setup: false };
      }
      return undefined;
    case 'fdb-deleted':
      if (w.owned.includes(ev.entry.index) && w.fdb.get(ev.entry.index)?.has(ev.entry.mac) === true) {
        return { level: 'info', message: 'knit FDB entry deleted from outside; repairing', fields: { mac: ev.entry.mac }, setup: false };
      }
      return undefined;
    case 'link-deleted':
      if (w.owned.includes(ev.link.index)) {
        return { level: 'warn', message: 'backend device deleted from outside; recreating', fields: { device: ev.link.name }, setup: true };
      }
      return undefined;
    case 'link-changed':
      if (!ev.link.up && w.owned.includes(ev.link.index)) {
        return { level: 'warn', message: 'backend device set down from outside; setting it up', fields: { device: ev.link.name }, setup: true };
      }
      return undefined;
    default:
      return undefined;
  }
}
