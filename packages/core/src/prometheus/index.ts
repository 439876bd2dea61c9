// @edakit/core/prometheus: the only entry that loads prom-client (an optional peer dependency).
export { metricsHandler } from './metrics-handler';
export {
  type PrometheusMetrics,
  type PrometheusMetricsOptions,
  prometheusMetrics,
} from './prometheus-metrics';
