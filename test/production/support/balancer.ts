/**
 * A load balancer in front of several Tarn instances, with the test choosing where each
 * request goes (`target`). All instances share one PUBLIC_URL: the balancer's.
 */
import { createServer, request, type Server } from 'node:http';

export interface Balancer {
  url: string;
  /** Which backend (its base URL) the next requests go to. */
  target: string;
  /** Requests forwarded to each backend. */
  counts: Map<string, number>;
  close(): Promise<void>;
}

export async function startBalancer(port: number, initialTarget: string): Promise<Balancer> {
  const state = { target: initialTarget, counts: new Map<string, number>() };
  const server: Server = createServer((req, res) => {
    const backend = new URL(state.target);
    state.counts.set(state.target, (state.counts.get(state.target) ?? 0) + 1);
    const upstream = request({ host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers: req.headers }, (response) => {
      res.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${bound}`,
    get target() {
      return state.target;
    },
    set target(value: string) {
      state.target = value;
    },
    counts: state.counts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
