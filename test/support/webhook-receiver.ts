/**
 * A webhook receiver as an application would run one: a plain HTTP server that verifies
 * each request with the `standardwebhooks` package (the specification's own library) and
 * keeps what it accepted. It can answer errors for a while (`failWith`), or be down.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { waitFor } from './tarn-process.js';

export interface ReceivedEvent {
  webhookId: string;
  timestamp: number;
  signatures: string[];
  type: string;
  data: {
    id: string;
    pool: string;
    outcome: string;
    actor: { kind: string; id: string | null };
    subject: { type: string; id: string | null } | null;
    details: Record<string, unknown>;
  };
  /** Which of the receiver's secrets verified it. */
  verifiedWith: string[];
}

export interface WebhookReceiver {
  url: string;
  /** Secrets the receiver knows (set after creating the webhook); a request must verify with one. */
  secrets: string[];
  /** Accepted (verified) deliveries, in arrival order. */
  received: ReceivedEvent[];
  /** Requests refused because no secret verified them. */
  unverified: number;
  /** Requests answered with an error on purpose (failWith). */
  refused: number;
  /** Answer this status (e.g. 503) instead of 204 until failWith(undefined). */
  failWith(status: number | undefined): void;
  /** While true, requests are read and never answered (a receiver stuck mid-delivery); `held` counts them. */
  hang(on: boolean): void;
  held: number;
  /** Wait until `predicate` holds for what was received. */
  until(predicate: (received: ReceivedEvent[]) => boolean, what: string, ms?: number): Promise<ReceivedEvent[]>;
  close(): Promise<void>;
}

function bodyOf(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

export async function startWebhookReceiver(port = 0): Promise<WebhookReceiver> {
  let failure: number | undefined;
  let hanging = false;
  const receiver: WebhookReceiver = {
    url: '',
    secrets: [],
    received: [],
    unverified: 0,
    refused: 0,
    failWith(status) {
      failure = status;
    },
    hang(on) {
      hanging = on;
    },
    held: 0,
    async until(predicate, what, ms = 30_000) {
      await waitFor(() => predicate(receiver.received), what, ms);
      return receiver.received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer(async (request, response) => {
    const body = await bodyOf(request);
    if (hanging) {
      receiver.held += 1;
      return;
    }
    if (failure !== undefined) {
      receiver.refused += 1;
      response.writeHead(failure, { 'content-type': 'text/plain' }).end('not now');
      return;
    }
    const headers = {
      'webhook-id': String(request.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
    };
    const verifiedWith = receiver.secrets.filter((secret) => {
      try {
        new Webhook(secret).verify(body, headers);
        return true;
      } catch {
        return false;
      }
    });
    if (verifiedWith.length === 0) {
      receiver.unverified += 1;
      response.writeHead(400).end('bad signature');
      return;
    }
    const payload = JSON.parse(body) as { type: string; data: ReceivedEvent['data'] };
    receiver.received.push({
      webhookId: headers['webhook-id'],
      timestamp: Number(headers['webhook-timestamp']),
      signatures: headers['webhook-signature'].split(' '),
      type: payload.type,
      data: payload.data,
      verifiedWith,
    });
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
  return receiver;
}
