/**
 * The operator surface wiring: the gRPC API (root-only unix socket, optional
 * TCP with mutual TLS) and the Prometheus /metrics, /healthz, /readyz
 * listener, both fed by the state source main builds.
 */
import { readFileSync } from 'node:fs';
import type { KnitdConfig } from '../config';
import type { Logger } from '../log/logger';
import { ApiServer, type ConditionInfo, type KnitStateSource, type TcpListenOptions } from '../api';
import { MetricsServer, type KnitMetricsRegistry } from '../metrics';

/** A state source that also answers the probes. */
export interface OperatorSource extends KnitStateSource {
  health(): ConditionInfo;
  readiness(): ConditionInfo;
}

export interface OperatorSurface {
  api: ApiServer;
  metricsServer: MetricsServer;
  close(): Promise<void>;
}

function readTls(what: string, file: string | undefined): Buffer {
  if (!file) throw new Error(`grpc: ${what} is required for TCP with TLS`);
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new Error(`grpc: read ${what} ${file}`, { cause });
  }
}

export async function startOperatorSurface(
  cfg: KnitdConfig, source: OperatorSource, registry: KnitMetricsRegistry, log: Logger,
  /** refreshes gauges that mirror module state, just before a scrape */
  beforeScrape: () => Promise<void>,
): Promise<OperatorSurface> {
  let tcp: TcpListenOptions | undefined;
  if (cfg.grpc.address) {
    tcp = {
      address: cfg.grpc.address,
      ...(cfg.grpc.insecure ? { insecure: true } : {}),
      ...(cfg.grpc.tlsCertFile ? {
        tls: {
          cert: readTls('tlsCertFile', cfg.grpc.tlsCertFile),
          key: readTls('tlsKeyFile', cfg.grpc.tlsKeyFile),
          clientCa: readTls('tlsClientCaFile', cfg.grpc.tlsClientCaFile),
        },
      } : {}),
    };
  }
  const api = new ApiServer({
    source, logger: log.child({ module: 'api' }), socketPath: cfg.grpc.socket, metrics: registry.metrics,
    ...(tcp ? { tcp } : {}),
  });
  await api.start();
  const metricsServer = new MetricsServer({
    address: cfg.metrics.address,
    render: async () => {
      await beforeScrape();
      return registry.render();
    },
    contentType: registry.contentType,
    health: () => source.health(),
    readiness: () => source.readiness(),
    logger: log.child({ module: 'metrics' }),
  });
  try {
    await metricsServer.start();
  } catch (err) {
    await api.close();
    throw err;
  }
  return {
    api, metricsServer,
    close: async () => {
      await metricsServer.close();
      await api.close();
    },
  };
}
