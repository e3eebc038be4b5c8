/**
 * A scripted BGP peer for hostile-peer tests, run as its own process inside
 * a lab namespace (spawn it with `startScriptPeer`). It dials knitd from a
 * given source address, completes the OPEN/KEEPALIVE exchange with knit's
 * own codec, keeps the session alive, and otherwise sends exactly the bytes
 * the test tells it to. A unix socket (netns-independent) carries
 * newline-delimited JSON: commands in, events out.
 *
 * Commands: {op:"connect", hex?} (new session, with these bytes as OPEN
 * when given; an existing one is dropped),
 * {op:"send", hex} (raw bytes on the session), {op:"close"},
 * {op:"flood", count, host?, source?} (open `count` idle TCP connections to
 * knitd and hold them; reports how many knitd closed), {op:"unflood"}.
 * Events: {ev:"state", state}, {ev:"msg", type, code?, subcode?, data?},
 * {ev:"closed"}, {ev:"flooded", opened, failed, closedByPeer}.
 *
 * Also exported: the parent side (`startScriptPeer`, `ScriptPeer`).
 */
import { connect, createServer, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, encodeMessage, isDecodeError, MessageSplitter, type BgpMessage, type OpenMessage } from '../../agent/src/bgp/codec';
import type { Lab } from './lab';
import type { LabProcess } from './procs';
import { ensureRunDir } from './run-dir';

interface Args {
  control: string;
  host: string;
  port: number;
  source: string;
  asn: number;
  hold: number;
}

/** Events the peer reports. */
export type PeerEvent =
  | { ev: 'state'; state: string }
  | { ev: 'msg'; type: string; code?: number; subcode?: number; data?: string }
  | { ev: 'closed' }
  | { ev: 'flooded'; opened: number; failed: number; closedByPeer: number }
  | { ev: 'error'; message: string };

// ---------------- child side ----------------

function runChild(a: Args): void {
  let ctl: Socket | undefined;
  const emit = (e: PeerEvent): void => { ctl?.write(`${JSON.stringify(e)}\n`); };
  let bgp: Socket | undefined;
  let keepalive: NodeJS.Timeout | undefined;
  const flood: Socket[] = [];

  const openSession = (openHex?: string): void => {
    bgp?.destroy();
    const s = connect({ host: a.host, port: a.port, localAddress: a.source });
    bgp = s;
    const splitter = new MessageSplitter();
    let state = 'Connect';
    s.on('connect', () => {
      const open: OpenMessage = {
        type: 'open', version: 4, asn: a.asn > 65535 ? 23456 : a.asn, holdTime: a.hold, bgpId: a.source,
        capabilityParams: [[
          { kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'multiprotocol', afi: 2, safi: 1 }, { kind: 'four-octet-as', asn: a.asn },
        ]],
      };
      s.write(openHex ? Buffer.from(openHex, 'hex') : encodeMessage(open, { fourOctetAs: false }));
      state = 'OpenSent';
      emit({ ev: 'state', state });
    });
    s.on('data', (chunk: Buffer) => {
      for (const item of splitter.push(chunk)) {
        if (isDecodeError(item)) {
          emit({ ev: 'error', message: item.message });
          continue;
        }
        const m = decodeMessage(item, { fourOctetAs: true });
        if (isDecodeError(m)) {
          emit({ ev: 'error', message: m.message });
          continue;
        }
        report(m);
        if (m.type === 'open' && state === 'OpenSent') {
          s.write(encodeMessage({ type: 'keepalive' }, { fourOctetAs: true }));
          state = 'OpenConfirm';
          emit({ ev: 'state', state });
        } else if (m.type === 'keepalive' && state === 'OpenConfirm') {
          state = 'Established';
          emit({ ev: 'state', state });
          if (a.hold > 0) {
            keepalive = setInterval(() => { if (!s.destroyed) s.write(encodeMessage({ type: 'keepalive' }, { fourOctetAs: true })); }, Math.max(1000, (a.hold * 1000) / 3));
          }
        }
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (keepalive) clearInterval(keepalive);
      keepalive = undefined;
      if (bgp === s) {
        bgp = undefined;
        emit({ ev: 'closed' });
      }
    });
  };

  const report = (m: BgpMessage): void => {
    if (m.type === 'notification') emit({ ev: 'msg', type: m.type, code: m.code, subcode: m.subcode, data: m.data.toString('hex') });
    else emit({ ev: 'msg', type: m.type });
  };

  const doFlood = async (count: number, host: string, source: string): Promise<void> => {
    let opened = 0;
    let failed = 0;
    let closedByPeer = 0;
    const one = (): Promise<void> => new Promise((resolve) => {
      const s = connect({ host, port: a.port, localAddress: source });
      s.on('connect', () => { opened++; flood.push(s); resolve(); });
      s.on('error', () => { failed++; resolve(); });
      s.on('close', () => { closedByPeer++; });
      s.on('data', () => undefined);
    });
    // 64 connects in flight at a time: as fast as the loopback allows without exhausting our own ports at once.
    let next = 0;
    const workers = Array.from({ length: 64 }, async () => {
      while (next < count) {
        next++;
        await one();
      }
    });
    await Promise.all(workers);
    emit({ ev: 'flooded', opened, failed, closedByPeer });
  };

  if (existsSync(a.control)) unlinkSync(a.control);
  const server = createServer((sock) => {
    ctl = sock;
    let buf = '';
    sock.on('data', (chunk) => {
      buf += chunk.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const cmd = JSON.parse(line) as { op: string; hex?: string; count?: number; host?: string; source?: string };
        if (cmd.op === 'connect') openSession(cmd.hex);
        else if (cmd.op === 'send' && cmd.hex !== undefined) bgp?.write(Buffer.from(cmd.hex, 'hex'));
        else if (cmd.op === 'close') bgp?.destroy();
        else if (cmd.op === 'flood') void doFlood(cmd.count ?? 1, cmd.host ?? a.host, cmd.source ?? a.source);
        else if (cmd.op === 'unflood') for (const s of flood.splice(0)) s.destroy();
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => process.exit(0));
  });
  server.listen(a.control);
}

// ---------------- parent side ----------------

/** The test's handle on a scripted peer process. */
export interface ScriptPeer {
  readonly proc: LabProcess;
  readonly events: PeerEvent[];
  /** Start a session (dial knitd, OPEN, KEEPALIVE); `open`: send these bytes instead of the usual OPEN. */
  connect(open?: Buffer): void;
  send(buf: Buffer): void;
  close(): void;
  flood(count: number, opts?: { host?: string; source?: string }): void;
  unflood(): void;
  /** Waits for an event matching `pred` after index `from` (default: any so far); returns it. */
  waitEvent<E extends PeerEvent>(pred: (e: PeerEvent) => e is E, ms?: number, from?: number): Promise<E>;
  waitEvent(pred: (e: PeerEvent) => boolean, ms?: number, from?: number): Promise<PeerEvent>;
  /** Connect and wait until Established; rejects when knitd closes the connection first. */
  establish(ms?: number): Promise<void>;
  stop(): Promise<void>;
}

let peerSeq = 0;

/** Spawns a scripted peer in `ns` that dials `host:port` from `source` as AS `asn`. */
export async function startScriptPeer(lab: Lab, ns: string, opts: { host: string; port?: number; source: string; asn: number; hold?: number }): Promise<ScriptPeer> {
  peerSeq++;
  const control = join(ensureRunDir(), `script-peer-${process.pid}-${peerSeq}.sock`);
  const args = ['--control', control, '--host', opts.host, '--port', String(opts.port ?? 179), '--source', opts.source, '--asn', String(opts.asn), '--hold', String(opts.hold ?? 90)];
  const proc = lab.spawn(ns, process.execPath, [__filename, ...args], { tag: 'script-peer' });
  const t0 = Date.now();
  let sock: Socket | undefined;
  while (!sock) {
    try {
      sock = await new Promise<Socket>((resolve, reject) => {
        const s = connect(control, () => resolve(s));
        s.once('error', reject);
      });
    } catch {
      if (Date.now() - t0 > 10_000 || !proc.running()) throw new Error(`scripted peer did not start: ${proc.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const ctl = sock;
  const events: PeerEvent[] = [];
  let wake: (() => void) | undefined;
  let buf = '';
  ctl.on('data', (chunk) => {
    buf += chunk.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buf.slice(0, i)) as PeerEvent);
      buf = buf.slice(i + 1);
    }
    wake?.();
  });
  ctl.on('error', () => undefined);
  const cmd = (o: Record<string, unknown>): void => { ctl.write(`${JSON.stringify(o)}\n`); };
  const waitEvent = async (pred: (e: PeerEvent) => boolean, ms = 10_000, from = 0): Promise<PeerEvent> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = events.slice(from).find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`scripted peer: no matching event within ${ms} ms; events: ${JSON.stringify(events.slice(-20))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        wake = () => { clearTimeout(t); resolve(); };
      });
    }
  };
  const peer: ScriptPeer = {
    proc, events,
    connect: (open) => cmd({ op: 'connect', ...(open ? { hex: open.toString('hex') } : {}) }),
    send: (b) => cmd({ op: 'send', hex: b.toString('hex') }),
    close: () => cmd({ op: 'close' }),
    flood: (count, o = {}) => cmd({ op: 'flood', count, ...o }),
    unflood: () => cmd({ op: 'unflood' }),
    waitEvent: waitEvent as ScriptPeer['waitEvent'],
    async establish(ms = 10_000) {
      const from = events.length;
      peer.connect();
      const e = await waitEvent((x) => (x.ev === 'state' && x.state === 'Established') || x.ev === 'closed', ms, from);
      if (e.ev === 'closed') throw new Error(`scripted peer: knitd closed the connection before Established: ${JSON.stringify(events.slice(from))}`);
    },
    async stop() {
      ctl.destroy();
      await proc.stop(2000);
      if (existsSync(control)) unlinkSync(control);
    },
  };
  return peer;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const get = (k: string): string => {
    const i = argv.indexOf(`--${k}`);
    if (i < 0 || i + 1 >= argv.length) throw new Error(`missing --${k}`);
    return argv[i + 1]!;
  };
  runChild({ control: get('control'), host: get('host'), port: Number(get('port')), source: get('source'), asn: Number(get('asn')), hold: Number(get('hold')) });
}
