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
import { errorMessage, errorCode } from '../base';

export { CallError, ConnectError };

/**
 * A CallError for a gRPC status code and its details, in words an operator
 * can act on: grpc-js's own texts ("Received HTTP status code 404", "No
 * connection established") say what broke, not what to do.
 */
export function callError(code: grpc.status, details: string, target?: string): CallError {
  const name = grpc.status[code] ?? String(code);
  const at = target !== undefined ? ` at ${target}` : '';
  const http = /Received HTTP status code (\d+)/.exec(details);
  if (code === grpc.status.UNIMPLEMENTED && http) {
    return new CallError(code, details, name, `the server${at} is not knitd's API (it answered HTTP ${http[1]}); point --address at knitd's grpc.address, not at another port such as the metrics one`);
  }
  if (code === grpc.status.UNIMPLEMENTED) {
    return new CallError(code, details, name, `knitd${at} does not know this call (it runs an older API); compare the versions with "knitctl version" and upgrade knitd or use a matching knitctl`);
  }
  if (code === grpc.status.UNAVAILABLE && /No connection established|Connection dropped|ECONNRESET|Protocol error/.test(details)) {
    return new CallError(code, details, name, `lost the connection to knitd${at} (${details.replace(/\s*\(\d{4}-.*$/, '').replace(/\. Resolution note:.*$/, '')}); is knitd still running?`);
  }
  if (code === grpc.status.DEADLINE_EXCEEDED) {
    return new CallError(code, details, name, `knitd${at} did not answer in time; raise --timeout, or check whether knitd is stuck`);
  }
  return new CallError(code, details, name);
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

/** --timeout 0 means none: ~23 days stays below setTimeout's 2^31 ms limit and is as good as none. */
function effectiveTimeout(ms: number): number {
  return ms === 0 ? 2_000_000_000 : ms;
}

/** host and port of "host:port" or "[v6]:port". */
function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--address must be HOST:PORT, got ${JSON.stringify(address)}`);
  }
  return { host, port };
}

/** A plain TCP connect, so "nothing listens there" fails at once with its errno instead of after the gRPC deadline. */
function probeTcp(address: string, timeoutMs: number): Promise<void> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ host, port });
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

const TCP_HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there; check --address (knitd serves its API on TCP only at its grpc.address)',
  ETIMEDOUT: 'no answer; is the host up, or does a firewall drop the traffic?',
  EHOSTUNREACH: 'no route to that host',
  ENETUNREACH: 'no route to that network',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'the host name cannot be resolved right now',
};

/**
 * Waits until the channel is ready, failing as soon as it reports a
 * transient failure (a protocol or TLS error) instead of retrying until the
 * deadline: the first failure is the answer an operator needs.
 */
function readyOrFailure(client: grpc.Client, deadline: Date): Promise<'ready' | 'failed' | 'timeout'> {
  const ch = client.getChannel();
  return new Promise((resolve) => {
    const check = (): void => {
      const st = ch.getConnectivityState(true);
      if (st === grpc.connectivityState.READY) return resolve('ready');
      if (st === grpc.connectivityState.TRANSIENT_FAILURE || st === grpc.connectivityState.SHUTDOWN) return resolve('failed');
      ch.watchConnectivityState(st, deadline, (err) => (err ? resolve('timeout') : check()));
    };
    check();
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
      throw new UsageError(`cannot read ${flag} ${p}: ${errorCode(e) ?? errorMessage(e)}`);
    }
  };
  return grpc.credentials.createSsl(read('--tls-ca', o.tlsCa as string), read('--tls-key', o.tlsKey as string), read('--tls-cert', o.tlsCert as string));
}

/** Connects and waits until the channel is ready; throws ConnectError with a hint when it cannot. */
export async function connect(o: ConnectOptions): Promise<Connection> {
  let target: string;
  let creds: grpc.ChannelCredentials;
  let where: string;
  const plaintext = o.address !== undefined && o.insecure && o.tlsCa === undefined;
  if (o.address !== undefined) {
    creds = credentials(o);
    target = o.address;
    where = `${o.address}${plaintext ? ' (plaintext)' : ' (TLS)'}`;
    try {
      await probeTcp(o.address, effectiveTimeout(o.timeoutMs));
    } catch (e) {
      const code = errorCode(e) ?? 'EIO';
      throw new ConnectError(`cannot reach knitd at ${o.address}: ${TCP_HINTS[code] ?? errorMessage(e)} (${code})`, { cause: e });
    }
  } else {
    where = o.socket;
    try {
      const st = fs.statSync(o.socket);
      if (!st.isSocket()) throw Object.assign(new Error('not a socket'), { code: 'ENOTSOCK' });
      await probeUnix(o.socket, effectiveTimeout(o.timeoutMs));
    } catch (e) {
      const code = errorCode(e) ?? 'EIO';
      throw new ConnectError(`cannot reach knitd at ${o.socket}: ${HINTS[code] ?? errorMessage(e)} (${code})`, { cause: e });
    }
    target = `unix:${o.socket}`;
    creds = grpc.credentials.createInsecure();
  }
  const pkg = loadKnitProto(grpc);
  const client = new pkg.Knit(target, creds, { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const ms = effectiveTimeout(o.timeoutMs);
  const deadline = (): Date => new Date(Date.now() + ms);
  const outcome = await readyOrFailure(client, deadline());
  if (outcome !== 'ready') {
    client.close();
    let hint: string;
    if (o.address === undefined) hint = 'is knitd running?';
    else if (plaintext) {
      hint = 'it accepts TCP but does not speak plaintext gRPC: if knitd serves TLS there, drop --insecure and give --tls-cert, --tls-key and --tls-ca; ' +
        'if it is another service (the metrics port?), point --address at knitd\'s grpc.address';
    } else {
      hint = 'the TLS handshake failed: check that the certificates match (knitd\'s client CA signed --tls-cert; --tls-ca signed knitd\'s) and that knitd serves TLS there';
    }
    const when = outcome === 'timeout' ? ` within ${o.timeoutMs / 1000}s` : '';
    throw new ConnectError(`cannot reach knitd at ${where}${when}: ${hint}`);
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
      if (err) reject(callError(err.code, err.details, conn.target));
      else resolve(res as Res);
    });
  });
}
