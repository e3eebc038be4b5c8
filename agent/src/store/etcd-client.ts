/**
 * Builds the etcd3 client (only main.ts and tests call this), so that no
 * module outside store/ imports etcd3.
 */
import { Etcd3 } from 'etcd3';

/** The etcd client type the store's functions take. */
export type EtcdClient = Etcd3;

/** How to reach etcd. */
export interface EtcdClientOptions {
  /** e.g. ["http://127.0.0.1:2379"]. */
  endpoints: string[];
  /** Connect timeout in ms (default 5000). */
  dialTimeoutMs?: number;
  /** PEM material for TLS; plaintext when absent. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
}

/** Creates a client; it connects lazily on the first call. Close it with `client.close()`. */
export function createEtcdClient(opts: EtcdClientOptions): EtcdClient {
  return new Etcd3({
    hosts: opts.endpoints,
    dialTimeout: opts.dialTimeoutMs ?? 5000,
    ...(opts.tls ? { credentials: { rootCertificate: opts.tls.ca, certChain: opts.tls.cert, privateKey: opts.tls.key } } : {}),
  });
}
