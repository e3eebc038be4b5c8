/** knitd's metrics: the typed registry and the /metrics, /healthz, /readyz listener. */
export { createKnitMetrics } from './knit-metrics';
export type { KnitMetrics, KnitMetricsRegistry, KnitMetricsOptions, CounterVec, GaugeVec, HistogramVec } from './knit-metrics';
export { MetricsServer, parseListenAddress } from './http-server';
export type { MetricsServerOptions, Verdict } from './http-server';
