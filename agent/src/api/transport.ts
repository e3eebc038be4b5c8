/**
 * Where and how the API listens. The unix socket is the default and is
 * protected by its mode (0600, root). TCP exposes the node's state to the
 * network, so it requires mutual TLS; plaintext TCP must be asked for
 * explicitly and is logged as a warning. These rules are checked before
 * anything binds, so a misconfigured knitd fails at start-up, not later.
 */
import type { ServerCredentials } from '@grpc/grpc-js';

/** PEM contents for the TCP listener (main.ts reads the files). */
export interface TlsMaterial {
  /** Server certificate chain. */
  cert: Buffer;
  /** Server private key. */
  key: Buffer;
  /** CA bundle client certificates must chain to. */
  clientCa: Buffer;
}

export interface TcpListenOptions {
  /** "host:port" ("127.0.0.1:0" picks a free port). */
  address: string;
  tls?: TlsMaterial;
  /** Allow plaintext TCP when `tls` is absent (labs only). */
  insecure?: boolean;
}

/** A transport configuration that must not be started. */
export class ApiConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiConfigError';
  }
}

/** How the TCP listener will run, decided by `checkTcp`. */
export type TcpMode = 'mtls' | 'insecure';

/** Refuses TCP without TLS unless `insecure` is set; checks the address shape. */
export function checkTcp(opts: TcpListenOptions): TcpMode {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):\d{1,5}$/.test(opts.address) || Number(opts.address.slice(opts.address.lastIndexOf(':') + 1)) > 65535) {
    throw new ApiConfigError(`grpc.address ${JSON.stringify(opts.address)} is not host:port`);
  }
  if (opts.tls !== undefined) {
    for (const [name, v] of [['certificate', opts.tls.cert], ['key', opts.tls.key], ['client CA', opts.tls.clientCa]] as const) {
      if (v.length === 0) throw new ApiConfigError(`TLS ${name} for the gRPC TCP listener ${opts.address} is empty`);
    }
    return 'mtls';
  }
  if (opts.insecure === true) return 'insecure';
  throw new ApiConfigError(
    `refusing to serve the gRPC API on TCP ${opts.address} without TLS: set grpc.tlsCertFile, grpc.tlsKeyFile and ` +
      'grpc.tlsClientCaFile (mutual TLS), or set grpc.insecure=true to allow plaintext (anyone who reaches the port reads the node state)',
  );
}

/** gRPC credentials for a checked TCP mode: mTLS requires and verifies client certificates. */
export function tcpCredentials(grpc: typeof import('@grpc/grpc-js'), opts: TcpListenOptions, mode: TcpMode): ServerCredentials {
  if (mode === 'insecure' || opts.tls === undefined) return grpc.ServerCredentials.createInsecure();
  // checkClientCertificate=true: the handshake fails without a client cert
  // that chains to clientCa (OpenSSL's requestCert + rejectUnauthorized).
  return grpc.ServerCredentials.createSsl(opts.tls.clientCa, [{ private_key: opts.tls.key, cert_chain: opts.tls.cert }], true);
}
