/**
 * The plugin socket dockerd talks to: HTTP/1.1 over a unix socket, one
 * `POST /<Interface>.<Method>` per call (libnetwork's remote protocol). The
 * socket is created root-only the way knitd's other sockets are. Bodies are
 * capped; a failure answers `{"Err": "…"}` with status 500, which dockerd
 * shows the user.
 */
import * as http from 'node:http';
import type { Logger } from '../log/logger';
import { errorMessage } from '../base';
import { stageSocket, unlinkOwnSocket } from '../net/unix-socket';
import { parseBody, PLUGIN_CONTENT_TYPE, PluginRequestError } from './protocol';
import { DriverError } from './driver';

const MAX_BODY = 1 << 20;

export type PluginHandler = (body: Record<string, unknown>) => Promise<Record<string, unknown>>;

export class PluginServer {
  private server: http.Server | undefined;
  private inode = 0;

  constructor(private readonly socketPath: string, private readonly handlers: Record<string, PluginHandler>, private readonly log: Logger) {}

  async start(): Promise<void> {
    const staged = await stageSocket(this.socketPath, 'Docker plugin');
    const server = http.createServer((req, res) => void this.serve(req, res));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(staged.bindPath, () => resolve());
      });
    } catch (e) {
      staged.discard();
      throw new Error(`listen on Docker plugin socket ${this.socketPath}`, { cause: e });
    }
    this.inode = staged.publish();
    this.server = server;
    this.log.info('Docker plugin socket listening', { socket: this.socketPath });
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    unlinkOwnSocket(this.socketPath, this.inode, 'Docker plugin');
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.url ?? '').replace(/^\//, '');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': PLUGIN_CONTENT_TYPE });
      res.end(JSON.stringify(body));
    };
    const started = performance.now();
    try {
      const handler = req.method === 'POST' ? this.handlers[method] : undefined;
      const text = await readBody(req);
      if (!handler) {
        // Unknown methods (AllocateNetwork of swarm mode, newer calls) get the protocol's "not supported".
        reply(404, { Err: `knit does not implement ${req.method ?? '?'} ${method}` });
        return;
      }
      const out = await handler(parseBody(text, method));
      reply(200, out);
      this.log.debug('Docker plugin call', { method, durationMs: Math.round(performance.now() - started) });
    } catch (err) {
      const known = err instanceof DriverError || err instanceof PluginRequestError;
      if (!known) this.log.error('Docker plugin call failed', { method, error: errorMessage(err) });
      else this.log.warn('Docker plugin call refused', { method, error: errorMessage(err) });
      reply(500, { Err: errorMessage(err) });
    }
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new PluginRequestError(`request body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
