/**
 * CSV with a header row (RFC 4180, through csv-parse), turned into import lines: the
 * columns are the fields of an NDJSON line; `profile` and `metadata` hold JSON text, or
 * `profile.<name>` / `metadata.<name>` columns hold one string attribute each; `groups`
 * separates names or paths with `;`; `emailVerified` is true or false. Empty cells are absent.
 * Line numbers are the CSV's own (the header is line 1). A record past the size limit or
 * with broken quoting fails on its own.
 */
import { parse } from 'csv-parse';
import type { Readable } from 'node:stream';

export type CsvLine = { number: number; value: Record<string, unknown> } | { number: number; problem: string };

function toLine(record: Record<string, string>): Record<string, unknown> {
  const line: Record<string, unknown> = {};
  for (const [column, raw] of Object.entries(record)) {
    const cell = raw.trim();
    if (cell === '') continue;
    const nested = /^(profile|metadata)\.(.+)$/.exec(column);
    if (nested) {
      const target = (line[nested[1]!] ??= {}) as Record<string, unknown>;
      target[nested[2]!] = cell;
    } else if (column === 'profile' || column === 'metadata' || (column === 'passwordHash' && cell.startsWith('{'))) {
      try {
        line[column] = JSON.parse(cell);
      } catch {
        line[column] = cell; // the schema names the field
      }
    } else if (column === 'emailVerified') line[column] = cell === 'true' ? true : cell === 'false' ? false : cell;
    else if (column === 'groups')
      line[column] = cell
        .split(';')
        .map((group) => group.trim())
        .filter(Boolean);
    else line[column] = cell;
  }
  return line;
}

export async function* readCsvLines(source: Readable, maxRecordBytes: number): AsyncGenerator<CsvLine> {
  const skipped: CsvLine[] = [];
  const parser = source.pipe(
    parse({
      columns: true,
      info: true,
      bom: true,
      max_record_size: maxRecordBytes,
      skip_records_with_error: true,
      relax_column_count: false,
      skip_empty_lines: true,
    }),
  );
  parser.on('skip', (error: Error & { lines?: number }) => {
    skipped.push({ number: error.lines ?? 0, problem: `Not a readable CSV record: ${error.message}` });
  });
  for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    while (skipped.length) yield skipped.shift()!;
    yield { number: item.info.lines, value: toLine(item.record) };
  }
  while (skipped.length) yield skipped.shift()!;
}
