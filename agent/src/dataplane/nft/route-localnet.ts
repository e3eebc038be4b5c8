/**
 * `net.ipv4.conf.<bridge>.route_localnet`: lets a packet with a 127.0.0.0/8
 * source leave through the bridge, which is what DNAT of 127.0.0.1:hostPort to
 * a container needs (the source stays 127.0.0.1 until postrouting masquerades
 * it, and the route lookup after DNAT refuses a loopback source on a non-lo
 * device otherwise). Set per bridge, not on `all`, so the node's other
 * interfaces keep dropping such martians.
 *
 * /proc/sys/net is per network namespace (the namespace of the process that
 * opens the file), so knitd, running inside its node's namespace, reaches its
 * own. Tests inject an accessor that writes inside their lab namespace.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Reads and writes one interface's route_localnet ("0" or "1"). */
export interface RouteLocalnetAccess {
  read(ifname: string): Promise<string>;
  write(ifname: string, value: '0' | '1'): Promise<void>;
}

/** The real accessor over /proc/sys (root overridable for tests). */
export function procRouteLocalnet(procSys = '/proc/sys'): RouteLocalnetAccess {
  const path = (ifname: string): string => join(procSys, 'net/ipv4/conf', ifname, 'route_localnet');
  return {
    async read(ifname) {
      return (await readFile(path(ifname), 'utf8')).trim();
    },
    async write(ifname, value) {
      await writeFile(path(ifname), `${value}\n`);
    },
  };
}
