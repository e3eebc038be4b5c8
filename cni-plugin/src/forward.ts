/**
 * Sends one PluginRequest to knitd over its unix socket and reads the one-line
 * PluginReply (see cni-wire/protocol.ts). `node:net` is required lazily, here and only
 * here: VERSION and every locally answered error never pay for loading it.
 *
 * In the Bun-built artifact (scripts/build-plugin.sh) the same exchange goes
 * through Bun's own socket client: loading Bun's `node:net` layer costs
 * more than the whole round trip (one connect + write + read, timed as a
 * compiled program: 16.7 ms with `node:net`, 11.9 ms with `Bun.connect`,
 * median of 60 each, interleaved). Both paths end in the same outcomes.
 */
import type * as NetModule from 'node:net';
import type { PluginReply, PluginRequest } from '../../cni-wire/protocol';

/** How a forward ended. */
export type ForwardOutcome =
  | { ok: true; reply: PluginReply }
  /** knitd could not be reached, did not answer in time, or hung up without answering */
  | { ok: false; reason: 'unreachable'; cause: string }
  /** knitd answered something that is not a PluginReply */
  | { ok: false; reason: 'bad-reply'; cause: string };

/** Upper bound on a reply: a result is a few hundred bytes; anything near this is a bug. */
const MAX_REPLY_BYTES = 1 << 20;

/** The part of Bun's socket client the plugin uses (Bun.connect with a unix path). */
interface BunSocket {
  write(data: string | Uint8Array): number;
  end(): void;
}
interface BunRuntime {
  connect(options: {
    unix: string;
    socket: {
      open(s: BunSocket): void;
      data(s: BunSocket, chunk: Uint8Array): void;
      drain(s: BunSocket): void;
      end(s: BunSocket): void;
      close(s: BunSocket): void;
      error(s: BunSocket, err: Error): void;
      connectError(s: BunSocket, err: Error): void;
    };
  }): Promise<BunSocket>;
}

/** One reply being read: chunks up to the first newline, bounded. */
class ReplyReader {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  /** A chunk arrived: the outcome once the reply is complete (or too long), else undefined. */
  add(chunk: Buffer): ForwardOutcome | undefined {
    const nl = chunk.indexOf(10);
    this.chunks.push(nl < 0 ? chunk : chunk.subarray(0, nl));
    this.size += chunk.length;
    if (nl >= 0) return decodeReply(Buffer.concat(this.chunks).toString('utf8'));
    if (this.size > MAX_REPLY_BYTES) return { ok: false, reason: 'bad-reply', cause: `reply longer than ${MAX_REPLY_BYTES} bytes` };
    return undefined;
  }

  /** knitd closed the connection: what was read is the reply, if anything. */
  ended(): ForwardOutcome {
    if (this.size === 0) return { ok: false, reason: 'unreachable', cause: 'connection closed without a reply' };
    return decodeReply(Buffer.concat(this.chunks).toString('utf8'));
  }
}

/** Forwards `request` to the socket at `socketPath`, giving up after `timeoutMs`. */
export function forward(request: PluginRequest, socketPath: string, timeoutMs: number): Promise<ForwardOutcome> {
  const bun = (globalThis as { Bun?: BunRuntime }).Bun;
  return bun !== undefined ? forwardBun(bun, request, socketPath, timeoutMs) : forwardNode(request, socketPath, timeoutMs);
}

function forwardNode(request: PluginRequest, socketPath: string, timeoutMs: number): Promise<ForwardOutcome> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const net = require('node:net') as typeof NetModule;
  return new Promise((resolve) => {
    let settled = false;
    const reader = new ReplyReader();
    const sock = net.createConnection({ path: socketPath });
    const finish = (outcome: ForwardOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: 'unreachable', cause: `no reply within ${timeoutMs} ms` }), timeoutMs);
    sock.on('connect', () => sock.write(JSON.stringify(request) + '\n'));
    sock.on('data', (chunk: Buffer) => {
      const outcome = reader.add(chunk);
      if (outcome) finish(outcome);
    });
    sock.on('end', () => finish(reader.ended()));
    sock.on('error', (err: Error) => finish({ ok: false, reason: 'unreachable', cause: err.message }));
  });
}

function forwardBun(bun: BunRuntime, request: PluginRequest, socketPath: string, timeoutMs: number): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let open: BunSocket | undefined;
    const reader = new ReplyReader();
    // Bun's write may take part of a large request: the rest goes on 'drain'.
    let pending = Buffer.from(JSON.stringify(request) + '\n', 'utf8');
    const send = (s: BunSocket): void => {
      if (pending.length === 0) return;
      const n = s.write(pending);
      pending = pending.subarray(n > 0 ? n : 0);
    };
    const finish = (outcome: ForwardOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      open?.end();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: 'unreachable', cause: `no reply within ${timeoutMs} ms` }), timeoutMs);
    // Bun says "Failed to connect" and keeps the errno in `code`: word it as node does ("connect ENOENT /path").
    const unreachable = (err: Error & { code?: unknown; syscall?: unknown }): void => finish({
      ok: false, reason: 'unreachable',
      cause: typeof err.code === 'string' ? `${typeof err.syscall === 'string' ? err.syscall : 'connect'} ${err.code} ${socketPath}` : err.message,
    });
    bun.connect({
      unix: socketPath,
      socket: {
        open: (s) => { open = s; send(s); },
        drain: send,
        data: (_s, chunk) => {
          const outcome = reader.add(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if (outcome) finish(outcome);
        },
        end: () => finish(reader.ended()),
        close: () => finish(reader.ended()),
        error: (_s, err) => unreachable(err),
        connectError: (_s, err) => unreachable(err),
      },
    }).catch(unreachable);
  });
}

/** Checks the reply's shape so a garbled answer becomes an error, not a bogus result. */
export function decodeReply(line: string): ForwardOutcome {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { ok: false, reason: 'bad-reply', cause: `reply is not JSON: ${(e as Error).message}` };
  }
  if (v === null || typeof v !== 'object') return { ok: false, reason: 'bad-reply', cause: 'reply is not an object' };
  const r = v as Record<string, unknown>;
  if (r.ok === true) return { ok: true, reply: r.result === undefined ? { ok: true } : { ok: true, result: r.result } };
  const e = r.error as Record<string, unknown> | null | undefined;
  if (r.ok === false && e !== null && typeof e === 'object' && typeof e.code === 'number' && typeof e.msg === 'string' && typeof e.cniVersion === 'string') {
    const error = { cniVersion: e.cniVersion, code: e.code, msg: e.msg, ...(typeof e.details === 'string' ? { details: e.details } : {}) };
    return { ok: true, reply: { ok: false, error } };
  }
  return { ok: false, reason: 'bad-reply', cause: 'reply is neither {ok:true} nor {ok:false,error}' };
}
