/**
 * Lines of a streamed body, read as they arrive: memory holds one chunk and one partial line
 * at most, however large the body. A line longer than the limit is skipped up to its end and
 * reported as such (the lines after it are read as usual). Lines are numbered from 1; blank
 * lines count but are not yielded. CRLF endings are accepted.
 *
 * readLineBatches gives the lines of each chunk as one array: a million-line import then pays
 * the async iteration once per chunk (tens of lines), not once per line.
 */
import { StringDecoder } from 'node:string_decoder';

export type Line = { number: number; text: string } | { number: number; tooLong: true };

export async function* readLineBatches(source: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<Line[]> {
  const decoder = new StringDecoder('utf8');
  // The start of a line whose end has not arrived yet (empty while skipping one too long).
  let partial = '';
  let skipping = false;
  let number = 0;

  // UTF-8 takes one to three bytes per UTF-16 unit: the byte length is counted only when that matters.
  const tooLong = (text: string) => text.length > maxLineBytes || (text.length * 3 > maxLineBytes && Buffer.byteLength(text) > maxLineBytes);

  function finish(text: string, into: Line[]): void {
    number += 1;
    if (skipping) {
      into.push({ number, tooLong: true });
      skipping = false;
      return;
    }
    if (tooLong(text)) {
      into.push({ number, tooLong: true });
      return;
    }
    const line = text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
    if (line.trim() !== '') into.push({ number, text: line });
  }

  function split(text: string): Line[] {
    const lines: Line[] = [];
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const piece = text.slice(start, newline);
      if (skipping) finish('', lines);
      else if (partial) {
        finish(partial + piece, lines);
        partial = '';
      } else finish(piece, lines);
      start = newline + 1;
    }
    if (start < text.length && !skipping) {
      partial += text.slice(start);
      // Past the limit already: stop holding it, and report it at its end.
      if (partial.length > maxLineBytes) {
        partial = '';
        skipping = true;
      }
    }
    return lines;
  }

  for await (const chunk of source) {
    const lines = split(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    if (lines.length) yield lines;
  }
  const rest = decoder.end();
  const lines = rest ? split(rest) : [];
  if (partial || skipping) {
    const last = partial;
    partial = '';
    finish(last, lines);
  }
  if (lines.length) yield lines;
}

/** The same lines one by one. */
export async function* readLines(source: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<Line> {
  for await (const lines of readLineBatches(source, maxLineBytes)) yield* lines;
}
