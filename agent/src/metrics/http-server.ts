/**
 * The observability HTTP listener: GET /metrics (Prometheus text), /healthz
 * (liveness: the process and its event loop answer) and /readyz (readiness:
 * 200 with "ok", or 503 listing the reasons). Loopback by default
 * (metrics.address 127.0.0.1:9654); "" turns it off.
 *
 * Only GET and HEAD are served and nothing is read from the request body, so
 * the listener has no input to bound beyond Node's own header limits.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger';
import { errorMessage } from '../base';

/** A verdict with the reasons it is not OK. */
export interface Verdict {
  ok: boolean;
  reasons: string[];
}

export interface MetricsServerOptions {
  /** "host:port" or "[v6]:port"; "" disables the server. */
  address: string;
  /** Prometheus text of the registry (KnitMetricsRegistry.render). */
  render: () => Promise<string>;
  contentType: string;
  /** Liveness; defaults to always OK (answering at all proves the loop runs). */
  health?: () => Verdict | Promise<Verdict>;
  readiness: () => Verdict | Promise<Verdict>;
  logger: Logger;
}

/** Splits "host:port" / "[::1]:port"; throws naming the address when it is not one. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(address);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new Error(`metrics.address ${JSON.stringify(address)} is not host:port`);
  return { host: m[1] ?? m[2], port };
}

/** Serves /metrics, /healthz and /readyz until `close()`. */
export class MetricsServer {
  private server: http.Server | undefined;

  constructor(private readonly opts: MetricsServerOptions) {}

  /** The bound port (after start; useful with port 0), or undefined when disabled. */
  get port(): number | undefined {
    const a = this.server?.address();
    return a !== null && typeof a === 'object' ? (a as AddressInfo).port : undefined;
  }

  /** Listens; does nothing when the address is "". */
  async start(): Promise<void> {
    if (this.opts.address === '') {
      this.opts.logger.info('metrics listener disabled (metrics.address is "")');
      return;
    }
    if (this.server !== undefined) throw new Error('metrics server already started');
    const { host, port } = parseListenAddress(this.opts.address);
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((e: unknown) => {
      throw new Error(`listen for /metrics on ${this.opts.address}`, { cause: e });
    });
    this.server = server;
    server.on('error', (e) => this.opts.logger.error('metrics listener error', { error: e.message }));
    this.opts.logger.info('metrics listening', { address: this.opts.address, port: this.port });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', { allow: 'GET, HEAD' });
      return;
    }
    try {
      switch (url) {
        case '/metrics':
          send(res, 200, this.opts.contentType, await this.opts.render());
          return;
        case '/healthz':
          verdict(res, this.opts.health === undefined ? { ok: true, reasons: [] } : await this.opts.health());
          return;
        case '/readyz':
          verdict(res, await this.opts.readiness());
          return;
        default:
          send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics, /healthz or /readyz\n');
      }
    } catch (e) {
      this.opts.logger.error('metrics request failed', { path: url, error: errorMessage(e) });
      send(res, 500, 'text/plain; charset=utf-8', `internal error: ${errorMessage(e)}\n`);
    }
  }
}

function verdict(res: http.ServerResponse, v: Verdict): void {
  const body = v.ok ? 'ok\n' : `not ok:\n${v.reasons.map((r) => `- ${r}\n`).join('')}`;
  send(res, v.ok ? 200 : 503, 'text/plain; charset=utf-8', body);
}

function send(res: http.ServerResponse, code: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
