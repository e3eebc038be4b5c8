/**
 * knitctl's connection to knitd. This file is loaded only by commands that
 * talk gRPC (`--help`, usage errors and `network` never pay for grpc-js).
 *
 * Connecting is checked up front, so "knitd is not there" (exit 3, with what
 * to do) is never confused with "knitd answered with an error" (exit 1). For
 * the unix socket a plain connect probe gets the errno (ENOENT: not running;
 * ECONNREFUSED: stale socket; EACCES: not root), which gRPC would hide.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { loadKnitProto } from '../api/proto';
import type { KnitClient } from '../api/gen/knit/v1/Knit';
import { UsageError } from './args';
import { CallError, ConnectError } from './errors';

export { CallError, ConnectError };

/** A CallError for a gRPC status code and its details. */
export function callError(code: grpc.status, details: string): CallError {
  return new CallError(code, details, grpc.status[code] ?? String(code));
}

export interface ConnectOptions {
  socket: string;
  address?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  insecure: boolean;
  timeoutMs: number;
  readFile: (path: string) => Buffer;
}

export interface Connection {
  client: KnitClient;
  /** Where we connected, for messages. */
  target: string;
  deadline(): Date;
  close(): void;
}

function probeUnix(path: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path });
    const t = setTimeout(() => {
      s.destroy();
      reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve();
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

const HINTS: Record<string, string> = {
  ENOENT: 'is knitd running?',
  ECONNREFUSED: 'is knitd running? (the socket file is left from an earlier run)',
  EACCES: 'the socket is root-only: run knitctl as root',
  EPERM: 'the socket is root-only: run knitctl as root',
  ENOTSOCK: 'the path is not a socket; check --socket',
  ETIMEDOUT: 'knitd is not answering; is it stuck?',
};

function credentials(o: ConnectOptions): grpc.ChannelCredentials {
  const tls = [o.tlsCert, o.tlsKey, o.tlsCa].filter((v) => v !== undefined).length;
  if (tls === 0) {
    if (o.insecure) return grpc.credentials.createInsecure();
    throw new UsageError('--address needs --tls-cert, --tls-key and --tls-ca (mutual TLS), or --insecure for a plaintext lab listener');
  }
  if (tls !== 3) throw new UsageError('--tls-cert, --tls-key and --tls-ca go together');
  const read = (flag: string, p: string): Buffer => {
    try {
      return o.readFile(p);
    } catch (e) {
      throw new UsageError(`cannot read ${flag} ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return grpc.credentials.createSsl(read('--tls-ca', o.tlsCa as string), read('--tls-key', o.tlsKey as string), read('--tls-cert', o.tlsCert as string));
}

/** Connects and waits until the channel is ready; throws ConnectError with a hint when it cannot. */
export async function connect(o: ConnectOptions): Promise<Connection> {
  let target: string;
  let creds: grpc.ChannelCredentials;
  let where: string;
  if (o.address !== undefined) {
    creds = credentials(o);
    target = o.address;
    where = `${o.address}${o.insecure && o.tlsCa === undefined ? ' (plaintext)' : ' (TLS)'}`;
  } else {
    where = o.socket;
    try {
      const st = fs.statSync(o.socket);
      if (!st.isSocket()) throw Object.assign(new Error('not a socket'), { code: 'ENOTSOCK' });
      await probeUnix(o.socket, o.timeoutMs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      throw new ConnectError(`cannot reach knitd at ${o.socket}: ${HINTS[code] ?? (e as Error).message} (${code})`, { cause: e });
    }
    target = `unix:${o.socket}`;
    creds = grpc.credentials.createInsecure();
  }
  const pkg = loadKnitProto(grpc);
  const client = new pkg.Knit(target, creds, { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const deadline = (): Date => new Date(Date.now() + o.timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => client.waitForReady(deadline(), (err) => (err ? reject(err) : resolve())));
  } catch (e) {
    client.close();
    const hint = o.address !== undefined
      ? 'check the address, that knitd serves grpc.address there, and that the certificates match (knitd\'s client CA signed --tls-cert; --tls-ca signed knitd\'s)'
      : 'is knitd running?';
    throw new ConnectError(`cannot reach knitd at ${where} within ${o.timeoutMs / 1000}s: ${hint}`, { cause: e });
  }
  return { client, target: where, deadline, close: () => client.close() };
}

/**
 * Promisifies one unary call with the connection's deadline, turning a gRPC
 * error into CallError: `call(conn, (o, cb) => conn.client.getNode({}, o, cb))`.
 */
export function call<Res>(
  conn: Connection,
  invoke: (opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke({ deadline: conn.deadline() }, (err, res) => {
      if (err) reject(callError(err.code, err.details));
      else resolve(res as Res);
    });
  });
}
