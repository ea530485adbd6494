/**
 * The per-request series (tarn_http_requests_total and tarn_http_request_duration_seconds)
 * kept by hand rather than by prom-client's Counter and Histogram (ADR 0705): those hash the
 * label object of every sample, twice per request on the hot path. Here a request finds
 * its series by one string key, and the two metrics are produced from the same counts
 * when Prometheus scrapes, in prom-client's shape (the registry formats them).
 */
import type { Registry } from 'prom-client';

type Labels = { method: string; route: string; status: string };

interface Series {
  labels: Labels;
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative); one more than the bounds, for +Inf. */
  buckets: number[];
}

interface Exported {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
  aggregator: 'sum';
}

export interface RequestSeries {
  observe(method: string, route: string, status: number, seconds: number): void;
}

export function createRequestSeries(registry: Registry, bounds: number[]): RequestSeries {
  let series = new Map<string, Series>();

  function metric(name: string, help: string, type: Exported['type'], values: () => Exported['values']) {
    return {
      name,
      help,
      type,
      get: async (): Promise<Exported> => ({ name, help, type, values: values(), aggregator: 'sum' }),
      reset: () => {
        series = new Map();
      },
    };
  }

  const requests = metric('tarn_http_requests_total', 'HTTP requests by method, route template and status.', 'counter', () =>
    [...series.values()].map(({ labels, count }) => ({ value: count, labels })),
  );
  const duration = metric('tarn_http_request_duration_seconds', 'HTTP request latency by method, route template and status.', 'histogram', () =>
    [...series.values()].flatMap(({ labels, count, sum, buckets }) => {
      let cumulative = 0;
      const rows: Exported['values'] = buckets.map((n, i) => {
        cumulative += n;
        return { value: cumulative, labels: { le: i < bounds.length ? bounds[i]! : '+Inf', ...labels }, metricName: 'tarn_http_request_duration_seconds_bucket' };
      });
      rows.push({ value: sum, labels, metricName: 'tarn_http_request_duration_seconds_sum' });
      rows.push({ value: count, labels, metricName: 'tarn_http_request_duration_seconds_count' });
      return rows;
    }),
  );
  // (the registry only reads name, get() and reset() of what it is given)
  registry.registerMetric(requests as never);
  registry.registerMetric(duration as never);

  return {
    observe(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let entry = series.get(key);
      if (!entry) {
        entry = { labels: { method, route, status: String(status) }, count: 0, sum: 0, buckets: new Array<number>(bounds.length + 1).fill(0) };
        series.set(key, entry);
      }
      entry.count += 1;
      entry.sum += seconds;
      let bucket = 0;
      while (bucket < bounds.length && seconds > bounds[bucket]!) bucket += 1;
      entry.buckets[bucket]! += 1;
    },
  };
}
