// @ts-check
/**
 * A user file sent in consecutive import requests of N users each, read as it is sent (memory
 * holds one line), so that a request that fails (the network, a restart) loses only its own
 * part; the server itself reads one request as long as it lasts. Every request repeats the file's opening lines (the CSV header row, an
 * NDJSON settings line) so it reads like a file of its own, and the reports are merged:
 * counts summed, failed lines numbered as in the original file.
 */
import { createReadStream } from 'node:fs';

export const DEFAULT_CHUNK_SIZE = 50_000;
/** The failures one merged report lists, like the server's report; the count covers them all. */
const MAX_LISTED_FAILURES = 1000;
/** A line is cut here on its way out; the server refuses lines of 64 KiB and more anyway. */
const MAX_SENT_LINE_BYTES = 1024 * 1024;
const NEWLINE = 10;
const QUOTE = 34;

/** @param {Buffer} bytes */
function quotes(bytes) {
  let count = 0;
  for (let index = bytes.indexOf(QUOTE); index !== -1; index = bytes.indexOf(QUOTE, index + 1)) count += 1;
  return count;
}

/** @param {Buffer} bytes */
function blank(bytes) {
  for (const byte of bytes) if (byte !== 32 && byte !== 9 && byte !== 13 && byte !== NEWLINE) return false;
  return true;
}

/**
 * The physical lines of a file (split at \n only, as the server splits them), each with its
 * newline. A line past MAX_SENT_LINE_BYTES keeps its first bytes and its end; `size` is its
 * full length (for the progress bar) and `quotes` counts the quotes of the whole line.
 * @param {string} path
 * @returns {AsyncGenerator<{ bytes: Buffer, size: number, quotes: number }>}
 */
async function* physicalLines(path) {
  /** @type {Buffer[]} */
  let parts = [];
  let kept = 0;
  let size = 0;
  let quoteCount = 0;
  /** @param {Buffer} piece */
  function add(piece) {
    size += piece.length;
    quoteCount += quotes(piece);
    const room = MAX_SENT_LINE_BYTES - kept;
    if (room <= 0) return;
    const part = piece.length > room ? piece.subarray(0, room) : piece;
    parts.push(part);
    kept += part.length;
  }
  function finish() {
    let bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (size > kept) {
      // Cut: the quotes kept must pair up like the whole line's, so the next lines read the same.
      const end = bytes[bytes.length - 1] === NEWLINE ? '\n' : '';
      const fix = quotes(bytes) % 2 === quoteCount % 2 ? '' : '"';
      bytes = Buffer.concat([bytes.subarray(0, bytes.length - end.length), Buffer.from(fix + end)]);
    }
    const line = { bytes, size, quotes: quoteCount };
    parts = [];
    kept = 0;
    size = 0;
    quoteCount = 0;
    return line;
  }
  for await (const chunk of /** @type {AsyncIterable<Buffer>} */ (createReadStream(path))) {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      add(chunk.subarray(start, newline + 1));
      yield finish();
      start = newline + 1;
    }
    if (start < chunk.length) add(chunk.subarray(start));
  }
  if (size > 0) yield finish();
}

/**
 * The file cut into requests. A request ends just before the line that starts its N+1th
 * record, so every request but the last holds exactly N records. CSV records may span lines
 * (a quoted cell with a newline); a record starts on a non-blank line outside quotes.
 */
class FileChunks {
  /** @param {string} path @param {boolean} csv @param {(bytes: number) => void} [progress] */
  constructor(path, csv, progress = () => undefined) {
    this.csv = csv;
    this.progress = progress;
    this.lines = physicalLines(path);
    /** @type {{ bytes: Buffer, size: number, quotes: number } | null | undefined} */
    this.peeked = undefined;
    /** Lines of the file read so far. */
    this.lineNumber = 0;
    this.bytesRead = 0;
    this.inQuotes = false;
    /** @type {{ bytes: Buffer, origin: number }[]} the lines every request opens with; origin 0 for a line not from the file */
    this.prefix = [];
  }

  async peek() {
    if (this.peeked === undefined) {
      const next = await this.lines.next();
      this.peeked = next.done ? null : next.value;
    }
    return this.peeked;
  }

  async take() {
    const line = await this.peek();
    if (!line) return null;
    this.peeked = undefined;
    this.lineNumber += 1;
    this.bytesRead += line.size;
    this.progress(this.bytesRead);
    return line;
  }

  /** Reads the opening lines every request repeats: the CSV header row, or an NDJSON settings line. @param {string} [settingsLine] */
  async readPrefix(settingsLine) {
    if (settingsLine) this.prefix.push({ bytes: Buffer.from(`${settingsLine}\n`), origin: 0 });
    if (this.csv) {
      for (let line = await this.take(); line; line = await this.take()) {
        this.prefix.push({ bytes: line.bytes, origin: this.lineNumber });
        if (line.quotes % 2 === 1) this.inQuotes = !this.inQuotes;
        if (!this.inQuotes && !blank(line.bytes)) break;
      }
      return;
    }
    const first = await this.peek();
    if (first && !blank(first.bytes)) {
      let value;
      try {
        value = JSON.parse(first.bytes.toString('utf8'));
      } catch {
        return; // the server reports it
      }
      if (value !== null && typeof value === 'object' && 'settings' in value) {
        await this.take();
        this.prefix.push({ bytes: first.bytes, origin: 1 });
      }
    }
  }

  async hasMore() {
    return (await this.peek()) !== null;
  }

  /**
   * The body of the next request: the prefix, then lines up to `size` records.
   * @param {number} size @param {(text: string) => string} [mapLine] turns a data line into the line sent (NDJSON only)
   * @returns {{ firstLine: number, body: AsyncGenerator<Buffer | string> }}
   */
  next(size, mapLine) {
    return { firstLine: this.lineNumber + 1, body: this.body(size, mapLine) };
  }

  /** @param {number} size @param {(text: string) => string} [mapLine] */
  async *body(size, mapLine) {
    for (const line of this.prefix) yield line.bytes;
    let records = 0;
    for (let line = await this.peek(); line; line = await this.peek()) {
      const startsRecord = !this.inQuotes && !blank(line.bytes);
      if (startsRecord && records === size) return;
      await this.take();
      if (startsRecord) records += 1;
      if (this.csv && line.quotes % 2 === 1) this.inQuotes = !this.inQuotes;
      if (!mapLine) yield line.bytes;
      else {
        const text = line.bytes.toString('utf8');
        yield `${mapLine(text.replace(/\r?\n$/, ''))}${text.endsWith('\n') ? '\n' : ''}`;
      }
    }
  }
}

/**
 * True if the file holds more than `size` records (the atomic check: all or nothing holds within one request).
 * @param {string} path @param {boolean} csv @param {number} size
 */
export async function holdsMoreThan(path, csv, size) {
  const chunks = new FileChunks(path, csv);
  await chunks.readPrefix();
  for await (const line of chunks.next(size).body) void line;
  return chunks.hasMore();
}

/**
 * @typedef {{ dryRun: boolean, atomic: boolean, onConflict: string, committed: boolean, lines: number, created: number, updated: number,
 *   skipped: number, failed: number, failures: { line: number, errors: { field: string, detail: string }[] }[], failuresTruncated: boolean, requests: number }} MergedReport
 */

/**
 * Adds the report of one more request to the merged report.
 * @param {MergedReport | undefined} merged the requests before (none for the first)
 * @param {any} report the server's report of this request
 * @param {(line: number) => number} original a line number of this request as a line number of the whole
 * @param {number} prefixSize lines every request repeats: their failures are counted once
 * @returns {MergedReport}
 */
export function addReport(merged, report, original, prefixSize = 0) {
  /** @type {{ line: number, errors: any[] }[]} */
  const given = report.failures;
  const repeated = merged ? given.filter((failure) => failure.line <= prefixSize).length : 0;
  const failures = given.filter((failure) => !merged || failure.line > prefixSize).map((failure) => ({ ...failure, line: original(failure.line) }));
  /** @type {MergedReport} */
  const sum = merged ?? { ...report, lines: 0, failures: [], failuresTruncated: false, requests: 0 };
  if (merged) {
    sum.created += report.created;
    sum.updated += report.updated;
    sum.skipped += report.skipped;
    sum.failed += report.failed - repeated;
    sum.committed = sum.committed && report.committed;
  }
  sum.lines = Math.max(sum.lines, original(report.lines));
  sum.requests += 1;
  const room = sum.failuresTruncated ? 0 : MAX_LISTED_FAILURES - sum.failures.length;
  sum.failures.push(...failures.slice(0, room));
  sum.failuresTruncated ||= report.failuresTruncated || failures.length > room;
  return sum;
}

/**
 * Sends the file in requests of `chunkSize` records, one after the other, and merges their reports.
 * On a request that fails, the error carries the report of the requests before it (`error.partialReport`).
 * @param {{ path: string, csv: boolean, chunkSize: number, settingsLine?: string, mapLine?: (text: string) => string,
 *   send: (body: AsyncGenerator<Buffer | string>) => Promise<any>, progress?: (bytes: number, request: number) => void }} options
 * @returns {Promise<MergedReport>}
 */
export async function importInChunks({ path, csv, chunkSize, settingsLine, mapLine, send, progress }) {
  let request = 0;
  const chunks = new FileChunks(path, csv, (bytes) => progress?.(bytes, request));
  await chunks.readPrefix(settingsLine);
  /** @type {MergedReport | undefined} */
  let merged;
  do {
    request += 1;
    const { firstLine, body } = chunks.next(chunkSize, mapLine);
    let report;
    try {
      report = await send(body);
    } catch (error) {
      if (merged && error instanceof Error) Object.assign(error, { partialReport: merged, failedFromLine: firstLine });
      throw error;
    }
    const prefixSize = chunks.prefix.length;
    /** @param {number} line the request's line number */
    const original = (line) => (line <= 0 ? 0 : line <= prefixSize ? chunks.prefix[line - 1].origin : line - prefixSize - 1 + firstLine);
    merged = addReport(merged, report, original, prefixSize);
  } while (await chunks.hasMore());
  return /** @type {MergedReport} */ (merged);
}
