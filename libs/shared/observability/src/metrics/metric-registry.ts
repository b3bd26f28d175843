import {
  collectDefaultMetrics,
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  type Metric,
  register,
} from 'prom-client';

/**
 * Every Stratavore metric lives in prom-client's global registry, the one `/metrics` serves.
 * Several Nest apps in one process (tests, the single-node daemon) share it, so registration
 * must be idempotent: these helpers return the metric already registered under the same name
 * instead of throwing "already registered".
 */
function existingOrNew<M extends Metric<string>>(
  name: string,
  kind: abstract new (...args: never[]) => M,
  create: () => M,
): M {
  const existing = register.getSingleMetric(name);
  if (existing === undefined) return create();
  if (!(existing instanceof kind)) {
    throw new Error(
      `Metric "${name}" is already registered as another kind (${existing.constructor.name})`,
    );
  }
  return existing;
}

/** A counter, or the one already registered under `config.name`. */
export function counter<L extends string = string>(config: CounterConfiguration<L>): Counter<L> {
  return existingOrNew(config.name, Counter<L>, () => new Counter<L>(config));
}

/** A histogram, or the one already registered under `config.name`. */
export function histogram<L extends string = string>(
  config: HistogramConfiguration<L>,
): Histogram<L> {
  return existingOrNew(config.name, Histogram<L>, () => new Histogram<L>(config));
}

/** A gauge, or the one already registered under `config.name`. */
export function gauge<L extends string = string>(config: GaugeConfiguration<L>): Gauge<L> {
  return existingOrNew(config.name, Gauge<L>, () => new Gauge<L>(config));
}

/** Starts prom-client's process metrics (CPU, memory, event loop lag, GC) once per process. */
export function ensureDefaultMetrics(): void {
  if (register.getSingleMetric('process_cpu_user_seconds_total') === undefined) {
    collectDefaultMetrics();
  }
}

/** The registry behind `/metrics`, for tests and custom exporters. */
export const metricsRegistry = register;
