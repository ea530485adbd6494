/**
 * The import's line reader sees the same lines however the body is cut into chunks, never
 * holds more than one line, and skips a line past the limit without losing the next one.
 */
import fc from 'fast-check';
import { readLines, type Line } from '../../src/users/import/line-reader.js';

async function collect(chunks: (string | Buffer)[], limit: number): Promise<Line[]> {
  const lines: Line[] = [];
  for await (const line of readLines(
    (async function* () {
      yield* chunks;
    })(),
    limit,
  ))
    lines.push(line);
  return lines;
}

function cut(text: string, points: number[]): Buffer[] {
  const bytes = Buffer.from(text);
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of sorted) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

describe('readLines', () => {
  it('yields the same numbered lines whatever the chunk boundaries (multi-byte characters included)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\n') && !s.includes('\r')),
          { maxLength: 15 },
        ),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        async (texts, points, crlf) => {
          const body = texts.join(crlf ? '\r\n' : '\n');
          const expected = texts.map((text, i) => ({ number: i + 1, text })).filter((line) => line.text.trim() !== '');
          expect(await collect(cut(body, points), 1000)).toEqual(expected);
        },
      ),
    );
  });

  it('reports a line past the limit by its number and goes on with the next, even when it spans chunks', async () => {
    const lines = await collect(['{"a":1}\n{"long":"', 'x'.repeat(50), 'y'.repeat(50), '"}\n{"b":2}'], 40);
    expect(lines).toEqual([
      { number: 1, text: '{"a":1}' },
      { number: 2, tooLong: true },
      { number: 3, text: '{"b":2}' },
    ]);
  });

  it('reports an over-long last line without a newline', async () => {
    expect(await collect(['ok\n', 'z'.repeat(30)], 10)).toEqual([
      { number: 1, text: 'ok' },
      { number: 2, tooLong: true },
    ]);
  });
});
