/**
 * The migrated PGlite cluster that test files start from (test/support/database.ts), archived
 * once per `npm test` by jest-global-setup.js before the workers start:
 *
 *     node --import tsx test/support/pglite-archive.ts <file>
 *
 * It is made small to restore: the migrated database without the template databases (template0
 * and template1: only CREATE DATABASE reads them, and Tarn never creates one), which would more than
 * double what each restore unpacks; 16 MB of shared buffers instead of 128 MB (PostgreSQL clears
 * them at every start, about half of a restore's CPU, and a test file's database holds a few MB);
 * a checkpoint, so PGlite starts without replaying the migrations' write-ahead log. The schema
 * and rows are those of any migrated database.
 */
import { rename, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';

export async function archiveMigratedPglite(handle: DatabaseHandle): Promise<Blob> {
  await handle.execScript(`UPDATE pg_database SET datistemplate = false WHERE datname IN ('template0', 'template1')`);
  await handle.execScript('DROP DATABASE template0');
  await handle.execScript('DROP DATABASE template1');
  await handle.execScript(`ALTER SYSTEM SET shared_buffers = '16MB'`);
  await handle.execScript('CHECKPOINT');
  return handle.archive!();
}

/**
 * An archive as PGlite reads it (it only calls arrayBuffer()). A Blob would copy the bytes when
 * made and again, chunk by chunk, when read: about half a second of CPU per test file.
 */
export function archiveOf(bytes: Buffer): Blob {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const buffer = whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return { type: '', arrayBuffer: () => Promise.resolve(buffer) } as unknown as Blob;
}

async function writeArchive(path: string): Promise<void> {
  const handle = await openDatabase({});
  try {
    await migrate(handle);
    const archive = await archiveMigratedPglite(handle);
    await writeFile(`${path}.partial`, Buffer.from(await archive.arrayBuffer()));
    await rename(`${path}.partial`, path);
  } finally {
    await handle.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2];
  if (!path) throw new Error('usage: node --import tsx test/support/pglite-archive.ts <file>');
  await writeArchive(path);
}
