/**
 * One keep-alive round trip for an etcd lease, working around two etcd3
 * gaps (what etcd3's Lease.keepaliveOnce does, plus a deadline and
 * fail-over). etcd3 fails unary calls over to another endpoint but not
 * streams: a stream opened on a member that is down fails at once with
 * UNAVAILABLE, so try again (the pool picks a random endpoint per stream)
 * until the deadline. Without this, losing one member of three failed about
 * a third of the renewals (health: degraded) for nothing. And a stream has
 * no deadline of its own: against a frozen etcd, opening it can hang too.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log/logger';
import { EtcdUnavailableError, isUnavailable } from './errors';
import { errorMessage } from '../base';

/** gRPC status UNAVAILABLE: the endpoint cannot be reached. */
const GRPC_UNAVAILABLE = 14;
/** Keep-alive streams tried per renewal before giving up (within the call deadline). */
const KEEPALIVE_ATTEMPTS = 6;

/** Keeps etcd lease `id` alive once; resolves with the TTL etcd granted (<= 0: expired). */
export async function keepAliveOnce(client: Etcd3, id: string, callTimeoutMs: number, log: Logger): Promise<number> {
  const deadline = Date.now() + callTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await keepAliveAttempt(client, id, deadline, callTimeoutMs);
    } catch (err) {
      if (!isUnavailable(err) || Date.now() >= deadline || attempt >= KEEPALIVE_ATTEMPTS) throw err;
      log.debug('keep-alive stream failed; trying again (another endpoint, if any)', { leaseId: id, attempt, error: errorMessage(err) });
    }
  }
}

async function keepAliveAttempt(client: Etcd3, id: string, deadline: number, callTimeoutMs: number): Promise<number> {
  // The deadline covers opening the stream too: against a frozen etcd that can hang as well.
  const timeout = (): EtcdUnavailableError => new EtcdUnavailableError(`keep-alive of etcd lease ${id}: no answer within ${callTimeoutMs} ms`);
  const waitMs = Math.max(0, deadline - Date.now());
  let openTimer: NodeJS.Timeout | undefined;
  let gaveUp = false;
  const opening = client.leaseClient.leaseKeepAlive();
  // A stream that opens after we gave up is closed at once rather than leaked.
  opening.then((late) => { if (gaveUp) late.cancel(); }, () => undefined);
  const stream = await Promise.race([
    opening,
    new Promise<never>((_, reject) => {
      openTimer = setTimeout(() => {
        gaveUp = true;
        reject(timeout());
      }, waitMs);
    }),
  ]).finally(() => clearTimeout(openTimer));
  return await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.cancel();
      reject(timeout());
    }, Math.max(0, deadline - Date.now()));
    stream.on('data', (res) => {
      clearTimeout(timer);
      stream.end();
      resolve(Number(res.TTL));
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      // Stream errors come raw from grpc (etcd3 does not type them as it does unary errors).
      reject((err as { code?: unknown }).code === GRPC_UNAVAILABLE
        ? new EtcdUnavailableError(`keep-alive of etcd lease ${id}: ${errorMessage(err)}`, { cause: err })
        : err);
    });
    stream.write({ ID: id });
  });
}
