import { Counter, Histogram, Registry } from 'prom-client';
import { createRequestSeries } from '../../src/observability/request-series.js';

const bounds = [0.005, 0.01, 0.1];
const samples = [
  ['GET', '/pools/:pool [oidc discovery]', 200, 0.004],
  ['GET', '/pools/:pool [oidc discovery]', 200, 0.01],
  ['POST', '/pools/:pool [oidc token]', 401, 3],
  ['GET', '/pools/:pool [oidc discovery]', 200, 0.05],
  ['POST', '/admin/pools/:pool "quoted"\\', 201, 0.1],
] as const;

describe('request series', () => {
  it('export the same Prometheus text as prom-client counters and histograms fed the same requests', async () => {
    const ours = new Registry();
    const series = createRequestSeries(ours, bounds);
    const reference = new Registry();
    const labelNames = ['method', 'route', 'status'] as const;
    const requests = new Counter({ name: 'tarn_http_requests_total', help: 'HTTP requests by method, route template and status.', labelNames, registers: [reference] });
    const duration = new Histogram({ name: 'tarn_http_request_duration_seconds', help: 'HTTP request latency by method, route template and status.', labelNames, buckets: bounds, registers: [reference] });
    for (const [method, route, status, seconds] of samples) {
      series.observe(method, route, status, seconds);
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route, status: String(status) }, seconds);
    }
    const text = await ours.metrics();
    expect(text).toContain('tarn_http_request_duration_seconds_bucket{le="0.01",method="GET",route="/pools/:pool [oidc discovery]",status="200"} 2');
    expect(text).toBe(await reference.metrics());
  });

  it('start again from nothing when the registry is reset', async () => {
    const registry = new Registry();
    const series = createRequestSeries(registry, bounds);
    series.observe('GET', '/healthz', 200, 0.001);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('/healthz');
  });
});
