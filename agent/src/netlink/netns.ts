/**
 * Entering another network namespace, synchronously, on the main JS thread.
 *
 * setns(2) moves only the calling thread, and only code that runs before we
 * move back sees the other namespace. So the body must be synchronous: an
 * async function would resume on a later tick in whatever namespace the
 * thread is in then. What the body creates (a netlink socket) stays bound to
 * the namespace it was created in after we return.
 *
 * The native addon (agent/native, target knit_netns) is loaded lazily
 * (base/native-addon.ts).
 */
import { closeSync } from 'node:fs';
import { Socket, type Server } from 'node:net';
import { loadNativeAddon } from '../base';

/** The functions knit_netns.node exports (see agent/native/src/netns.cc). */
interface NetnsAddon {
  /** open PATH and setns(fd, CLONE_NEWNET) on the calling thread */
  enter(path: string): void;
  /** setns back into the namespace the thread had when the addon loaded */
  restore(): void;
  /** inode number of the calling thread's current netns */
  currentInode(): number;
  /** setsockopt IP_TTL / IPV6_UNICAST_HOPS on a socket fd */
  setIpTtl(fd: number, ttl: number): void;
  /** getsockopt of the same */
  getIpTtl(fd: number): number;
  /** setsockopt IP_MINTTL / IPV6_MINHOPCOUNT (GTSM) */
  setMinTtl(fd: number, ttl: number): void;
  getMinTtl(fd: number): number;
  /** setsockopt TCP_MD5SIG for one peer address; an empty key removes it */
  setTcpMd5(fd: number, peer: string, key: Buffer): void;
  /** a new unconnected non-blocking TCP socket fd */
  tcpSocket(family: 4 | 6): number;
  /** find this namespace's NETLINK_ROUTE socket with port id `port`; set NETLINK_NO_ENOBUFS and the receive buffer; its fd */
  netlinkTune(port: number, rcvbuf: number): number;
  /** sk_drops of a socket (SO_MEMINFO) */
  netlinkDrops(fd: number): number;
  /** attach a socket filter that keeps only netlink messages of these nlmsg_types */
  netlinkKeepTypes(fd: number, types: number[]): void;
  /** attach a socket filter that keeps link/neighbour messages of these devices, route messages of this table, and the rest */
  netlinkKeepScoped(fd: number, indexes: number[], table: number): void;
  /** setsockopt TCP_SAVE_SYN on a listening socket */
  setSaveSyn(fd: number): void;
  /** TTL / hop limit of the saved SYN of an accepted socket; -1 when none */
  savedSynTtl(fd: number): number;
}

/** An error from the addon: errno, code (e.g. 'ENOENT') and the path in the message. */
export interface NetnsSysError extends Error {
  errno: number;
  code: string;
  syscall: string;
  path: string;
}

let addon: NetnsAddon | undefined;

function loadAddon(): NetnsAddon {
  addon ??= loadNativeAddon<NetnsAddon>('knit_netns');
  return addon;
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** T is accepted only when it is not a promise: async bodies are a type error. */
type NotPromise<T> = T extends PromiseLike<unknown> ? never : T;

/**
 * Run `fn` synchronously inside the network namespace at `nsPath`
 * (/var/run/netns/X or /proc/PID/ns/net) and always return to the original
 * namespace afterwards, even when `fn` throws. Throws the addon's error
 * (errno, code, path) when the namespace cannot be entered. An `fn` that
 * returns a promise is rejected (its later ticks would run in the wrong
 * namespace), after restoring.
 */
export function withNetns<T>(nsPath: string, fn: () => NotPromise<T>): NotPromise<T> {
  const a = loadAddon();
  a.enter(nsPath);
  let result: NotPromise<T>;
  try {
    result = fn();
  } finally {
    a.restore();
  }
  if (isPromiseLike(result)) {
    throw new TypeError(`withNetns(${nsPath}): fn must be synchronous; it returned a promise`);
  }
  return result;
}

/**
 * For a netlink socket just made in the calling thread's namespace with port
 * id `port`: turn the overflow error off (NETLINK_NO_ENOBUFS, so an overflow
 * never reaches the `netlink` package as POLLERR, which aborts the process)
 * and set its receive buffer; returns its descriptor, for netlinkDrops().
 */
export function netlinkTune(port: number, rcvbuf: number): number {
  return loadAddon().netlinkTune(port, rcvbuf);
}

/** How many messages the kernel dropped for the socket `fd` (its receive queue was full). */
export function netlinkDrops(fd: number): number {
  return loadAddon().netlinkDrops(fd);
}

/**
 * Only netlink messages of these types reach the socket `fd` (a classic BPF
 * socket filter): an event socket is not woken for the others.
 */
export function netlinkKeepTypes(fd: number, types: number[]): void {
  loadAddon().netlinkKeepTypes(fd, types);
}

/**
 * Link and neighbour (and FDB) messages reach the socket `fd` only for the
 * devices `indexes`, route messages only for table `table`; other messages
 * all (a classic BPF socket filter, replacing any before it).
 */
export function netlinkKeepScoped(fd: number, indexes: number[], table: number): void {
  loadAddon().netlinkKeepScoped(fd, indexes, table);
}

/** The listener keeps each incoming connection's SYN (for acceptedSynTtl). */
export function keepListenerSyns(server: Server): void {
  loadAddon().setSaveSyn(socketFd(server));
}

/**
 * The TTL (IPv6: hop limit) the SYN of an accepted connection arrived with,
 * when its listener keeps SYNs (keepListenerSyns); -1 otherwise. GTSM checks
 * it, since IP_MINTTL set after accept() does not cover what was queued.
 */
export function acceptedSynTtl(sock: Socket): number {
  return loadAddon().savedSynTtl(socketFd(sock));
}

/** Inode of the calling thread's current network namespace (tests and diagnostics). */
export function currentNetnsInode(): number {
  return loadAddon().currentInode();
}

/** True when `err` is an error thrown by the netns addon (has errno and code). */
export function isNetnsSysError(err: unknown): err is NetnsSysError {
  return err instanceof Error && typeof (err as Partial<NetnsSysError>).errno === 'number'
    && typeof (err as Partial<NetnsSysError>).code === 'string';
}

/** The file descriptor under a node:net socket or listening server (libuv's, on Linux). */
function socketFd(sock: Socket | Server): number {
  const fd = (sock as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('socket has no file descriptor (not connected or listening, or not a TCP socket)');
  return fd;
}

/**
 * GTSM (RFC 5082): drop received packets whose TTL (IPv6: hop limit) is
 * below `ttl` (255 for a directly connected peer; 0 = off). Equivalent to
 * setsockopt(fd, IPPROTO_IP, IP_MINTTL, ttl).
 */
export function setSocketMinTtl(sock: Socket, ttl: number): void {
  loadAddon().setMinTtl(socketFd(sock), ttl);
}

/** The minimum TTL a socket accepts (tests). */
export function socketMinTtl(sock: Socket): number {
  return loadAddon().getMinTtl(socketFd(sock));
}

/**
 * TCP-MD5 (RFC 2385): sign and require signatures on segments with `peer`.
 * On a listening server the key applies to connections it accepts from
 * `peer`; an empty key removes it. Equivalent to setsockopt(fd,
 * IPPROTO_TCP, TCP_MD5SIG, {peer, key}).
 */
export function setTcpMd5(sock: Socket | Server, peer: string, key: string): void {
  loadAddon().setTcpMd5(socketFd(sock), peer, Buffer.from(key, 'utf8'));
}

/**
 * A new, unconnected TCP socket for a connection whose options must be set
 * before its SYN (TCP-MD5, minimum TTL): `prepare(fd)` sets them, then the
 * socket is handed to node:net, which connects it.
 */
export function preparedTcpSocket(family: 4 | 6, prepare: (fd: number) => void): Socket {
  const a = loadAddon();
  const fd = a.tcpSocket(family);
  try {
    prepare(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return new Socket({ fd, readable: true, writable: true });
}

/** Options on a raw fd from preparedTcpSocket (TCP-MD5 key for `peer`, minimum and outgoing TTL). */
export const rawSocketOptions = {
  md5: (fd: number, peer: string, key: string): void => loadAddon().setTcpMd5(fd, peer, Buffer.from(key, 'utf8')),
  minTtl: (fd: number, ttl: number): void => loadAddon().setMinTtl(fd, ttl),
  ttl: (fd: number, ttl: number): void => loadAddon().setIpTtl(fd, ttl),
};

/**
 * Sets the IP TTL (IPv6: hop limit) of a connected TCP socket's outgoing
 * packets, e.g. 1 for a directly connected eBGP peer. Equivalent to
 * setsockopt(fd, IPPROTO_IP, IP_TTL, ttl); Node's net module has no call for it.
 */
export function setSocketTtl(sock: Socket, ttl: number): void {
  loadAddon().setIpTtl(socketFd(sock), ttl);
}

/** The TTL (hop limit) a connected TCP socket sends with. */
export function socketTtl(sock: Socket): number {
  return loadAddon().getIpTtl(socketFd(sock));
}
