/** The uploaded logo and favicon of one pool (pool_assets). */
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import type { BrandAssetKind, BrandAssetMediaType } from '../db/tables.js';

export function createBrandingQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    findAsset(kind: BrandAssetKind) {
      return pool.selectFrom('pool_assets').select(['sha256', 'media_type', 'content']).where('kind', '=', kind).executeTakeFirst();
    },
    async putAsset(kind: BrandAssetKind, asset: { sha256: string; mediaType: BrandAssetMediaType; content: Buffer }) {
      await pool.deleteFrom('pool_assets').where('kind', '=', kind).execute();
      await pool.insertInto('pool_assets', { kind, sha256: asset.sha256, media_type: asset.mediaType, content: asset.content }).execute();
    },
    async deleteAsset(kind: BrandAssetKind): Promise<boolean> {
      const result = await pool.deleteFrom('pool_assets').where('kind', '=', kind).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
