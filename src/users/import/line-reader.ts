/**
 * Lines of a streamed body, read as they arrive: memory holds one line at most, however
 * large the body. A line longer than the limit is skipped up to its end and reported as
 * such (the lines after it are read as usual). Lines are numbered from 1; blank lines count
 * but are not yielded. CRLF endings are accepted.
 */
export type Line = { number: number; text: string } | { number: number; tooLong: true };

export async function* readLines(source: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  let number = 0;

  function* finish(): Generator<Line> {
    number += 1;
    if (skipping) yield { number, tooLong: true };
    else {
      const text = Buffer.concat(parts).toString('utf8').replace(/\r$/, '');
      if (text.trim() !== '') yield { number, text };
    }
    parts = [];
    size = 0;
    skipping = false;
  }

  for await (const chunk of source) {
    let buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let newline = buffer.indexOf(10); ; newline = buffer.indexOf(10)) {
      const piece = newline === -1 ? buffer : buffer.subarray(0, newline);
      if (!skipping) {
        size += piece.length;
        if (size > maxLineBytes) {
          skipping = true;
          parts = [];
        } else if (piece.length) parts.push(piece);
      }
      if (newline === -1) break;
      yield* finish();
      buffer = buffer.subarray(newline + 1);
    }
  }
  if (size > 0 || skipping) yield* finish();
}
