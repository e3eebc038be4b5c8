/**
 * knitd's CNI socket: where the `knit` plugin delivers each runtime request.
 *
 * One request per connection, one JSON line each way (cni-wire/protocol.ts). The
 * socket is root-only (0600): whoever can talk to it can attach and detach
 * containers. Start-up never steals a live socket from another knitd, but
 * does clear the file a crashed one left behind. A handler failure becomes
 * an error reply; nothing a client sends can crash the server.
 *
 * Stopping (SIGTERM) drains: no new connection is accepted, a client still
 * sending its request is cut off (it made nothing yet), and every request
 * already read runs to its end and gets its answer. Tearing down under a
 * running ADD would leave it half-made (an address and a veth the runtime
 * was told failed) or tell the runtime "failed" about an ADD that succeeded.
 */
import * as net from 'node:net';
import type { Logger } from '../log/logger';
import { stageSocket, unlinkOwnSocket } from '../net/unix-socket';
import { CniError, CniErrorCode } from './errors';
import { dispatchLine, type DispatchSummary } from './dispatch';
import type { CniHandlers } from './types';
import { NEWEST_VERSION } from './version';

/** Default bound on one request line: configurations are a few KiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 1 << 20;
/** How long a client may take to send its line before it is cut off. */
export const DEFAULT_READ_TIMEOUT_MS = 10_000;
/** Connections served at once; beyond it a client gets code 11 at once. */
export const DEFAULT_MAX_CONNECTIONS = 512;
/** How long close() waits for requests in flight before cutting them off. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export interface CniServerOptions {
  /** the unix socket path, e.g. /run/knit/cni.sock */
  socketPath: string;
  handlers: CniHandlers;
  logger: Logger;
  maxRequestBytes?: number;
  readTimeoutMs?: number;
  /** most connections served at once; more are answered with code 11 and closed */
  maxConnections?: number;
  /** monotonic milliseconds, for request durations (injected for tests) */
  now?: () => number;
  /** called after every answered request (metrics, change events); must not throw */
  onRequest?: (summary: DispatchSummary, durationMs: number) => void;
  /** called for every connection refused because of maxConnections; must not throw */
  onRefused?: () => void;
  /** how long close() waits for requests already read to be answered */
  drainTimeoutMs?: number;
}

/** Serves CNI requests on a unix socket until `close()`. */
export class CniServer {
  private readonly opts: Required<Omit<CniServerOptions, 'onRequest' | 'onRefused'>> & Pick<CniServerOptions, 'onRequest' | 'onRefused'>;
  /** refusals since the last time the server was below its cap (one warning per episode) */
  private refusedInEpisode = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** connections whose request is not read completely yet (cut off on close) */
  private readonly reading = new Set<net.Socket>();
  /** requests read and being handled (awaited on close) */
  private readonly inFlight = new Set<Promise<void>>();
  /** inode of the socket file we published (never unlink someone else's) */
  private socketInode: number | undefined;

  constructor(opts: CniServerOptions) {
    this.opts = {
      maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
      readTimeoutMs: DEFAULT_READ_TIMEOUT_MS,
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      drainTimeoutMs: DEFAULT_DRAIN_TIMEOUT_MS,
      now: () => performance.now(),
      ...opts,
    };
  }

  /** The socket path served. */
  get socketPath(): string {
    return this.opts.socketPath;
  }

  /**
   * Creates the parent directory (0755) if needed, removes a stale socket
   * file (one nothing answers on), binds in a 0700 staging directory and
   * moves the socket (0600) into place, so it is never reachable with looser
   * permissions.
   * Rejects when another process is serving the path or the path is not a
   * socket.
   */
  async start(): Promise<void> {
    if (this.server !== undefined) throw new Error(`CNI server at ${this.opts.socketPath} already started`);
    const socketPath = this.opts.socketPath;
    const staged = await stageSocket(socketPath, 'CNI');
    const server = net.createServer((sock) => this.onConnection(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(staged.bindPath, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((e: unknown) => {
      this.server = undefined;
      staged.discard();
      throw new Error(`listen on CNI socket ${socketPath}`, { cause: e });
    });
    this.socketInode = staged.publish();
    server.on('error', (e) => this.opts.logger.error('CNI socket error', { socket: socketPath, error: e.message }));
    this.opts.logger.info('CNI socket listening', { socket: socketPath });
  }

  /**
   * Stops accepting, cuts off clients still sending, waits (up to
   * drainTimeoutMs) until every request already read is answered, then
   * removes the socket file.
   */
  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.reading) s.destroy();
    if (this.inFlight.size > 0) {
      const pending = this.inFlight.size;
      this.opts.logger.info('CNI socket draining: finishing the requests in flight', { requests: pending });
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        Promise.allSettled([...this.inFlight]).then(() => true),
        new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), this.opts.drainTimeoutMs); }),
      ]);
      clearTimeout(timer);
      if (!drained) {
        this.opts.logger.warn('CNI requests still running after the drain timeout; cutting them off',
          { requests: this.inFlight.size, drainTimeoutMs: this.opts.drainTimeoutMs });
      }
    }
    for (const s of this.sockets) s.destroy();
    await closed;
    if (this.socketInode !== undefined) unlinkOwnSocket(this.opts.socketPath, this.socketInode, 'CNI');
    this.opts.logger.info('CNI socket closed', { socket: this.opts.socketPath });
  }

  private onConnection(sock: net.Socket): void {
    if (this.sockets.size >= this.opts.maxConnections) {
      this.refuse(sock);
      return;
    }
    if (this.refusedInEpisode > 0) {
      this.opts.logger.info('CNI socket below its connection cap again', { refused: this.refusedInEpisode, maxConnections: this.opts.maxConnections });
      this.refusedInEpisode = 0;
    }
    this.sockets.add(sock);
    this.reading.add(sock);
    sock.on('close', () => {
      this.sockets.delete(sock);
      this.reading.delete(sock);
    });
    sock.on('error', () => sock.destroy());
    sock.setTimeout(this.opts.readTimeoutMs, () => sock.destroy());
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const take = (line: string): void => {
      done = true;
      this.reading.delete(sock);
      sock.setTimeout(0);
      sock.removeAllListeners('data');
      const answered = this.answer(sock, line);
      this.inFlight.add(answered);
      void answered.finally(() => this.inFlight.delete(answered));
    };
    sock.on('data', (chunk: Buffer) => {
      if (done) return;
      const nl = chunk.indexOf(10);
      const part = nl < 0 ? chunk : chunk.subarray(0, nl);
      size += part.length;
      if (size > this.opts.maxRequestBytes) {
        done = true;
        this.reading.delete(sock);
        const err = new CniError(CniErrorCode.DecodeFailure, `plugin request longer than ${this.opts.maxRequestBytes} bytes`);
        this.opts.logger.warn('CNI request rejected', { command: 'unknown', code: err.code, error: err.message });
        sock.end(JSON.stringify({ ok: false, error: err.toErrorBody(NEWEST_VERSION) }) + '\n');
        return;
      }
      chunks.push(part);
      if (nl >= 0) take(Buffer.concat(chunks).toString('utf8'));
    });
    // A client that half-closes without a newline still gets an answer.
    sock.on('end', () => {
      if (!done) take(Buffer.concat(chunks).toString('utf8'));
    });
  }

  /** Over the cap: answer "try again later" without reading, and close. */
  private refuse(sock: net.Socket): void {
    const err = new CniError(CniErrorCode.TryAgainLater,
      `knitd is serving ${this.sockets.size} CNI connections, its limit (cniMaxConnections ${this.opts.maxConnections}); try again later`);
    if (this.refusedInEpisode++ === 0) {
      this.opts.logger.warn('CNI connection refused: too many connections', { maxConnections: this.opts.maxConnections });
    }
    sock.on('error', () => sock.destroy());
    sock.setTimeout(1000, () => sock.destroy());
    // Destroy as soon as the answer is flushed: a refused client holds no fd longer than that.
    sock.end(JSON.stringify({ ok: false, error: err.toErrorBody(NEWEST_VERSION) }) + '\n', () => sock.destroy());
    this.opts.onRefused?.();
  }

  private async answer(sock: net.Socket, line: string): Promise<void> {
    const started = this.opts.now();
    const { reply, summary } = await dispatchLine(line, this.opts.handlers);
    const durationMs = Math.round((this.opts.now() - started) * 100) / 100;
    // Resolve once the answer is handed to the kernel (or the client is
    // gone): a draining close() must not destroy an answer still queued.
    // The answer goes out before the log line is written: the runtime waits
    // for the one, nobody for the other.
    const sent = sock.destroyed ? Promise.resolve() : new Promise<void>((resolve) => {
      sock.once('close', () => resolve());
      sock.end(JSON.stringify(reply) + '\n', () => resolve());
    });
    const fields = { ...summary, durationMs, ...(reply.ok ? {} : { error: reply.error.msg }) };
    if (reply.ok) this.opts.logger.info('CNI request', fields);
    else this.opts.logger.warn('CNI request failed', fields);
    await sent;
    this.opts.onRequest?.(summary, durationMs);
  }
}
