/**
 * Reads request bodies with a hard size limit (413 past it) and strict media types:
 * JSON for the admin API, urlencoded for hosted forms. Malformed input is a 400, and so is
 * text that cannot be stored (a NUL character, a lone surrogate: storable-text.ts), naming
 * the field it is in. JSON is UTF-8 only (RFC 8259 §8.1): a body labelled with another
 * charset is a 415.
 */
import type { Context } from 'koa';
import { findUnstorableText } from '../db/storable-text.js';
import { fieldError, problems } from './problem.js';

function refuseUnstorableText<T>(value: T): T {
  const path = findUnstorableText(value);
  if (path === undefined) return value;
  const detail = 'Contains a character that cannot be accepted (a NUL character or an unpaired surrogate).';
  throw path.length === 0 ? problems.badRequest(`The body ${detail.toLowerCase()}`) : problems.validation([fieldError(path, detail)]);
}

async function readRaw(ctx: Context, limit: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw problems.payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.req.unpipe?.();
      throw problems.payloadTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON body; an empty body is `undefined` (the caller's schema decides if it may be). */
export async function readJson(ctx: Context, limit: number): Promise<unknown> {
  const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
  if (!hasBody) return undefined;
  if (!ctx.is('application/json', 'application/*+json')) throw problems.unsupportedMediaType('application/json');
  const charset = ctx.request.charset.toLowerCase();
  if (charset !== '' && charset !== 'utf-8' && charset !== 'utf8') throw problems.unsupportedMediaType('application/json in UTF-8');
  const text = await readRaw(ctx, limit);
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw problems.badRequest(`The body is not valid JSON: ${(error as Error).message}`);
  }
  return refuseUnstorableText(parsed);
}

/** Parses an application/x-www-form-urlencoded body into the last value of each field. */
export async function readForm(ctx: Context, limit: number): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw problems.unsupportedMediaType('application/x-www-form-urlencoded');
  const text = await readRaw(ctx, limit);
  return refuseUnstorableText(Object.fromEntries(new URLSearchParams(text)));
}

/** An application/x-www-form-urlencoded body with every value as sent, duplicates included. */
export async function readFormParameters(ctx: Context, limit: number): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw problems.unsupportedMediaType('application/x-www-form-urlencoded');
  return new URLSearchParams(await readRaw(ctx, limit));
}
