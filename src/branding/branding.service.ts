/**
 * A pool's branding (docs/adr/0401): colours and texts live on the pool row (so a cached
 * provider has them without a query), the uploaded logo and favicon in pool_assets, named
 * by their SHA-256 so that their URL can be cached for a year.
 * - Colours are checked for contrast when saved; a failing one is a 400 naming the field
 *   and the measured ratio. Nothing is checked at render time.
 * - An SVG is rebuilt from an allow-list (svg-sanitiser.ts); a PNG or WebP must start with
 *   its format's signature, so that the stored media type is what the bytes are.
 */
import { createHash } from 'node:crypto';
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import type { BrandAssetKind, BrandAssetMediaType, BrandAssetRef, BrandingSettings, LocalizedText, PoolRow } from '../db/tables.js';
import { fieldError, problems } from '../http/problem.js';
import { createPoolQueries } from '../pools/pools.queries.js';
import { contrastRatio, formatRatio, TEXT_CONTRAST } from './contrast.js';
import { createBrandingQueries } from './branding.queries.js';
import { MAX_ASSET_BYTES, type BrandingInput } from './branding.schemas.js';
import { sanitiseSvg, UnsafeSvgError } from './svg-sanitiser.js';
import { BUTTON_TEXT, contrastProblems, themeOf } from './theme.js';

export const ASSET_EXTENSIONS: Record<BrandAssetMediaType, string> = { 'image/png': 'png', 'image/webp': 'webp', 'image/svg+xml': 'svg' };

/** Where a pool's asset is served: its hash in the path, so a new upload is a new URL. */
export function assetPath(poolId: string, kind: BrandAssetKind, ref: BrandAssetRef): string {
  return `/pools/${poolId}/brand/${kind}-${ref.sha256.slice(0, 32)}.${ASSET_EXTENSIONS[ref.mediaType]}`;
}

/** The branding as the admin API shows it. */
export function mapBranding(poolId: string, branding: BrandingSettings, publicUrl: string) {
  const asset = (kind: BrandAssetKind) => {
    const ref = branding[kind];
    return ref ? { url: `${publicUrl}${assetPath(poolId, kind, ref)}`, mediaType: ref.mediaType, sha256: ref.sha256, size: ref.size } : null;
  };
  return {
    primaryColor: branding.primaryColor ?? null,
    backgroundColor: branding.backgroundColor ?? null,
    textColor: branding.textColor ?? null,
    scheme: branding.scheme ?? 'light',
    title: branding.title ?? {},
    signInSubtitle: branding.signInSubtitle ?? {},
    footer: branding.footer ?? {},
    termsUrl: branding.termsUrl ?? {},
    privacyUrl: branding.privacyUrl ?? {},
    logo: asset('logo'),
    favicon: asset('favicon'),
  };
}

/** The branding after `input` (null clears a field), refused when its colours fail the contrast rules. */
export function applyBranding(current: BrandingSettings, input: BrandingInput | undefined, tagColor: string | null): BrandingSettings {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(input ?? {})) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  const branding = next as BrandingSettings;
  const primaryField = branding.primaryColor ? 'branding.primaryColor' : tagColor ? 'tagColor' : 'branding.primaryColor';
  const errors = contrastProblems(themeOf(branding, tagColor), 'branding.', primaryField);
  if (errors.length) throw problems.validation(errors, 'A colour does not have enough contrast to be read.');
  return branding;
}

/** `tagColor` carries white text (the buttons of a pool without branding colours). */
export function checkTagColor(tagColor: string | null | undefined): void {
  if (!tagColor) return;
  const ratio = contrastRatio(BUTTON_TEXT, tagColor);
  if (ratio < TEXT_CONTRAST) {
    throw problems.validation(
      [
        fieldError(
          'tagColor',
          `White text on ${tagColor} has a contrast of ${formatRatio(ratio)}; at least 4.5:1 is needed (WCAG 1.4.3). Choose a darker colour.`,
        ),
      ],
      'A colour does not have enough contrast to be read.',
    );
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The bytes to store for an upload, or a 400 naming `data`. */
export function prepareAsset(mediaType: BrandAssetMediaType, base64: string): Buffer {
  const bytes = Buffer.from(base64, 'base64');
  const refuse = (detail: string) => problems.validation([fieldError('data', detail)], 'The file cannot be used.');
  if (bytes.length === 0) throw refuse('The file is empty.');
  if (bytes.length > MAX_ASSET_BYTES) throw refuse(`The file is ${Math.ceil(bytes.length / 1024)} KiB; at most ${MAX_ASSET_BYTES / 1024} KiB is accepted.`);
  if (mediaType === 'image/png') {
    if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) throw refuse('The file is not a PNG image.');
    return bytes;
  }
  if (mediaType === 'image/webp') {
    if (bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WEBP') throw refuse('The file is not a WebP image.');
    return bytes;
  }
  try {
    return Buffer.from(sanitiseSvg(bytes.toString('utf8')), 'utf8');
  } catch (error) {
    if (error instanceof UnsafeSvgError) throw refuse(error.message);
    throw error;
  }
}

/** The text for `language` of a per-language map: exact tag, then its primary language, then English, then any. */
export function pickText(texts: LocalizedText | undefined, language: string): string | undefined {
  if (!texts) return undefined;
  const primary = language.split('-')[0]!;
  return texts[language] ?? texts[primary] ?? texts.en ?? Object.values(texts)[0];
}

export interface BrandingServiceDeps {
  db: Db;
  publicUrl: string;
  listener: { poolChanged(poolId: string): void };
}

export function createBrandingService({ db, publicUrl, listener }: BrandingServiceDeps) {
  return {
    getBranding(pool: PoolRow) {
      return mapBranding(pool.id, pool.branding, publicUrl);
    },

    /** `record` writes the admin's event in the transaction of the change (ADR 0809), as in deleteAsset. */
    async uploadAsset(pool: PoolRow, kind: BrandAssetKind, input: { mediaType: BrandAssetMediaType; data: string }, record?: RecordChange) {
      const content = prepareAsset(input.mediaType, input.data);
      const sha256 = createHash('sha256').update(content).digest('hex');
      const ref: BrandAssetRef = { mediaType: input.mediaType, sha256, size: content.length };
      const row = await changeWithEvents(db, record, async (trx) => {
        await createBrandingQueries(trx, pool.id).putAsset(kind, { sha256, mediaType: input.mediaType, content });
        const current = await createPoolQueries(trx).findPool(pool.id);
        if (!current) throw problems.notFound('Pool');
        return createPoolQueries(trx).updatePool(pool.id, { branding: JSON.stringify({ ...current.branding, [kind]: ref }) });
      });
      if (!row) throw problems.notFound('Pool');
      listener.poolChanged(pool.id);
      return mapBranding(pool.id, row.branding, publicUrl);
    },

    async deleteAsset(pool: PoolRow, kind: BrandAssetKind, record?: RecordChange): Promise<void> {
      const row = await changeWithEvents(db, record, async (trx) => {
        const removed = await createBrandingQueries(trx, pool.id).deleteAsset(kind);
        if (!removed) throw problems.notFound(kind === 'logo' ? 'Logo' : 'Favicon');
        const current = await createPoolQueries(trx).findPool(pool.id);
        if (!current) throw problems.notFound('Pool');
        const { [kind]: _removed, ...rest } = current.branding;
        return createPoolQueries(trx).updatePool(pool.id, { branding: JSON.stringify(rest) });
      });
      if (!row) throw problems.notFound('Pool');
      listener.poolChanged(pool.id);
    },

    /** The asset whose URL names `sha256` (a prefix of it), or undefined: an old URL finds nothing. */
    async findAsset(poolId: string, kind: BrandAssetKind, hashPrefix: string) {
      const row = await createBrandingQueries(db, poolId).findAsset(kind);
      if (!row || !row.sha256.startsWith(hashPrefix)) return undefined;
      // (PGlite answers bytea as a Uint8Array, pg as a Buffer; Koa sends only a Buffer as bytes)
      return { mediaType: row.media_type, content: Buffer.from(row.content), sha256: row.sha256 };
    },
  };
}

export type BrandingService = ReturnType<typeof createBrandingService>;
