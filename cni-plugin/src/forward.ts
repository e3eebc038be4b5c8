/**
 * Sends one PluginRequest to knitd over its unix socket and reads the one-line
 * PluginReply (see cni-wire/protocol.ts). `node:net` is required lazily, here and only
 * here: VERSION and every locally answered error never pay for loading it.
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

/** Forwards `request` to the socket at `socketPath`, giving up after `timeoutMs`. */
export function forward(request: PluginRequest, socketPath: string, timeoutMs: number): Promise<ForwardOutcome> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const net = require('node:net') as typeof NetModule;
  return new Promise((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let size = 0;
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
      const nl = chunk.indexOf(10);
      chunks.push(nl < 0 ? chunk : chunk.subarray(0, nl));
      size += chunk.length;
      if (nl >= 0) finish(decodeReply(Buffer.concat(chunks).toString('utf8')));
      else if (size > MAX_REPLY_BYTES) finish({ ok: false, reason: 'bad-reply', cause: `reply longer than ${MAX_REPLY_BYTES} bytes` });
    });
    sock.on('end', () => {
      if (size === 0) finish({ ok: false, reason: 'unreachable', cause: 'connection closed without a reply' });
      else finish(decodeReply(Buffer.concat(chunks).toString('utf8')));
    });
    sock.on('error', (err: Error) => finish({ ok: false, reason: 'unreachable', cause: err.message }));
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
