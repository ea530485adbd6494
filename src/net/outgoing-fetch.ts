/**
 * A fetch for Tarn's own outgoing calls, under the deployment's OutgoingPolicy:
 * - the address is judged where the connection is made: an IP literal before connecting,
 *   a name by the addresses it resolves to at that moment (a name that changes its answer
 *   between registration and delivery, DNS rebinding, is judged by the answer used);
 * - one timeout from the policy for the whole exchange; redirects are never followed;
 * - answers larger than MAX_BODY_BYTES are cut off (Tarn reads small JSON documents at most).
 * It replaces oidc-provider's `fetch` (and with it that library's own address filter, whose
 * dispatcher option is ignored here), so the same rules hold under any runtime.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { OutgoingPolicy } from './outgoing-policy.js';

const MAX_BODY_BYTES = 1024 * 1024;

export class OutgoingRefused extends Error {
  override name = 'OutgoingRefused';
}

export type OutgoingFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** Keeps only the addresses the policy allows; refuses when none is left. */
function policedLookup(policy: OutgoingPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const allowed = addresses.filter((entry) => policy.refusalFor(entry.address) === undefined);
      if (allowed.length === 0) {
        const reason = addresses.length ? policy.refusalFor(addresses[0]!.address) : 'no address';
        return callback(new OutgoingRefused(`${hostname} resolves to ${addresses.map((a) => a.address).join(', ')}: ${reason}`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

function bodyOf(body: RequestInit['body']): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return Buffer.from(body as ArrayBuffer);
  throw new TypeError('unsupported outgoing request body');
}

export interface OutgoingFetchOptions {
  /** The most of an answer read (default 1 MiB). */
  maxBodyBytes?: number;
  /** Past maxBodyBytes, keep what was read and stop reading (default: fail the request). */
  cutOff?: boolean;
}

function readBody(response: IncomingMessage, maxBodyBytes: number, cutOff: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBodyBytes) chunks.push(chunk);
      else if (cutOff) {
        chunks.push(chunk.subarray(0, chunk.length - (size - maxBodyBytes)));
        resolve(Buffer.concat(chunks));
        response.destroy();
      } else response.destroy(new OutgoingRefused(`answer larger than ${maxBodyBytes} bytes`));
    });
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', reject);
  });
}

export function createOutgoingFetch(policy: OutgoingPolicy, options: OutgoingFetchOptions = {}): OutgoingFetch {
  const lookup = policedLookup(policy);
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const cutOff = options.cutOff ?? false;

  return async function outgoingFetch(input, init = {}) {
    const url = new URL(String(input));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutgoingRefused(`${url.protocol} is not http or https`);
    // Node connects to an IP literal without a lookup: judge it here.
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    const literalRefusal = /^[\d.]+$|:/.test(literal) ? policy.refusalFor(literal) : undefined;
    if (literalRefusal) throw new OutgoingRefused(literalRefusal);

    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const body = bodyOf(init.body);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

    return new Promise<Response>((resolve, reject) => {
      const request = send(url, { method: init.method ?? 'GET', headers, lookup, timeout: policy.timeoutMs }, (response) => {
        readBody(response, maxBodyBytes, cutOff).then((buffer) => {
          clearTimeout(deadline);
          const status = response.statusCode ?? 502;
          const answer = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined) answer.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          // A Response with status 204/304 must have no body.
          const nullBody = status === 204 || status === 304 || (status >= 100 && status < 200);
          resolve(new Response(nullBody ? null : new Uint8Array(buffer), { status: status < 200 ? 502 : status, headers: answer }));
        }, fail);
      });
      // One deadline for the whole exchange; the socket timeout only notices silence.
      const deadline = setTimeout(() => request.destroy(new OutgoingRefused(`no answer within ${policy.timeoutMs} ms`)), policy.timeoutMs);
      function fail(error: unknown) {
        clearTimeout(deadline);
        reject(error instanceof Error ? error : new OutgoingRefused(String(error)));
      }
      request.on('timeout', () => request.destroy(new OutgoingRefused(`no answer within ${policy.timeoutMs} ms`)));
      request.on('error', fail);
      request.end(body);
    });
  };
}
