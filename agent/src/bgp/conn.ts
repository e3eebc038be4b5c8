/**
 * The transport a BGP session runs on, narrowed to what the session needs so
 * unit tests can hand it a fake: bytes in, bytes out, close. `tcpDialer` and
 * `wrapSocket` adapt node:net sockets; nothing else in the speaker touches
 * node:net except the listener.
 */
import { connect, type Socket } from 'node:net';
import { preparedTcpSocket, rawSocketOptions, setSocketMinTtl, setSocketTtl } from '../netlink';

/** One TCP connection to a peer. */
export interface BgpConn {
  /** Our address on this connection (IPv4-mapped forms are unwrapped). */
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  write(buf: Buffer): void;
  /** Flush what was written, then close (used after a NOTIFICATION). */
  end(): void;
  /** Close at once. */
  destroy(): void;
  onData(cb: (chunk: Buffer) => void): void;
  /** Called once when the connection is closed, by either side. */
  onClose(cb: (err?: Error) => void): void;
  /** Sets the IP TTL of outgoing packets (1 for a directly connected eBGP peer); throws when refused. */
  setTtl?(ttl: number): void;
  /** GTSM: drops received packets with a smaller TTL (255 for a directly connected peer); throws when refused. */
  setMinTtl?(ttl: number): void;
}

/** Where to dial. */
export interface DialTarget {
  host: string;
  port: number;
  localAddress?: string;
  /** IP TTL for the connection (1 for directly connected eBGP); undefined leaves the system default. */
  ttl?: number;
  /** GTSM: minimum TTL accepted, set before the SYN leaves. */
  minTtl?: number;
  /** TCP-MD5 key (RFC 2385), set before the SYN leaves; never logged. */
  md5Key?: string;
  timeoutMs: number;
}

/** Opens a connection; rejects when the peer refuses or the timeout passes. */
export type Dialer = (target: DialTarget) => Promise<BgpConn>;

/** "::ffff:10.0.0.1" → "10.0.0.1" (what a dual-stack listener reports for IPv4 peers). */
export function unmapAddress(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

/** Adapts a connected node:net socket. */
export function wrapSocket(sock: Socket): BgpConn {
  sock.setNoDelay(true);
  const closeCbs: ((err?: Error) => void)[] = [];
  let closed = false;
  let lastError: Error | undefined;
  sock.on('error', (err) => { lastError = err; });
  sock.on('close', () => {
    if (closed) return;
    closed = true;
    for (const cb of closeCbs) cb(lastError);
  });
  return {
    localAddress: unmapAddress(sock.localAddress),
    remoteAddress: unmapAddress(sock.remoteAddress),
    remotePort: sock.remotePort ?? 0,
    write: (buf) => { if (!sock.destroyed) sock.write(buf); },
    end: () => {
      sock.end();
      // A peer that never reads must not hold the socket open forever.
      setTimeout(() => sock.destroy(), 2000).unref();
    },
    destroy: () => sock.destroy(),
    onData: (cb) => { sock.on('data', cb); },
    onClose: (cb) => { closeCbs.push(cb); },
    setTtl: (ttl) => setSocketTtl(sock, ttl),
    setMinTtl: (ttl) => setSocketMinTtl(sock, ttl),
  };
}

/**
 * The real dialer. A TCP-MD5 key and a minimum TTL must be on the socket
 * before its SYN leaves, so with either the socket is made by the native
 * addon, prepared, and then connected by node:net; otherwise node:net makes
 * it. (The session applies a requested TTL through BgpConn.setTtl.)
 */
export const tcpDialer: Dialer = (target) => new Promise((resolve, reject) => {
  const opts = { host: target.host, port: target.port, ...(target.localAddress ? { localAddress: target.localAddress } : {}) };
  let sock: Socket;
  if (target.md5Key !== undefined || target.minTtl !== undefined) {
    try {
      sock = preparedTcpSocket(target.host.includes(':') ? 6 : 4, (fd) => {
        if (target.md5Key !== undefined) rawSocketOptions.md5(fd, target.host, target.md5Key);
        if (target.minTtl !== undefined) rawSocketOptions.minTtl(fd, target.minTtl);
        if (target.ttl !== undefined) rawSocketOptions.ttl(fd, target.ttl);
      });
    } catch (err) {
      reject(new Error(`connect ${target.host}:${target.port}: cannot prepare the socket (TCP-MD5 / GTSM)`, { cause: err }));
      return;
    }
    sock.connect(opts);
  } else {
    sock = connect(opts);
  }
  const timer = setTimeout(() => {
    sock.destroy();
    reject(new Error(`connect ${target.host}:${target.port}: timed out after ${target.timeoutMs} ms`));
  }, target.timeoutMs);
  timer.unref();
  sock.once('connect', () => {
    clearTimeout(timer);
    sock.removeAllListeners('error');
    resolve(wrapSocket(sock));
  });
  sock.once('error', (err) => {
    clearTimeout(timer);
    sock.destroy();
    reject(new Error(`connect ${target.host}:${target.port}`, { cause: err }));
  });
});
