/**
 * A second yardstick (BENCH_BARE_POSTGRES): bare oidc-provider storing its artifacts in
 * PostgreSQL the plain way an adapter from oidc-provider's adapter contract would — one
 * table, one statement per call, no batching, no prepared statements, no caches. Writes
 * commit asynchronously, as Tarn's artifact upserts do (ADR 0700), so the two pay the
 * same durability. It shows what persistence itself costs, next to the in-memory adapter
 * that the discovery and JWKS targets are measured against (docs/design.md#performance).
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import pg from 'pg';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS bare_artifacts (
    model text NOT NULL, id text NOT NULL, payload jsonb NOT NULL,
    grant_id text, user_code text, uid text, expires_at timestamptz, consumed_at timestamptz,
    PRIMARY KEY (model, id));
  CREATE INDEX IF NOT EXISTS bare_artifacts_grant ON bare_artifacts (grant_id);
  CREATE INDEX IF NOT EXISTS bare_artifacts_uid ON bare_artifacts (model, uid);
  CREATE INDEX IF NOT EXISTS bare_artifacts_user_code ON bare_artifacts (model, user_code);`;

type Row = { payload: AdapterPayload; consumed_at: Date | null };

export async function createBarePostgresAdapter(url: string): Promise<(model: string) => Adapter> {
  const pool = new pg.Pool({ connectionString: url, max: 10, options: '-c synchronous_commit=off' });
  await pool.query(SCHEMA);
  const live = (row: Row | undefined) => row && (row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload);
  const findBy = async (model: string, column: 'id' | 'uid' | 'user_code', value: string) =>
    live(
      (
        await pool.query<Row>(
          `SELECT payload, consumed_at FROM bare_artifacts WHERE model = $1 AND ${column} = $2 AND (expires_at IS NULL OR expires_at > now())`,
          [model, value],
        )
      ).rows[0],
    );
  return (model) => ({
    async upsert(id, payload, expiresIn) {
      await pool.query(
        `INSERT INTO bare_artifacts (model, id, payload, grant_id, user_code, uid, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
           user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
        [
          model,
          id,
          payload,
          payload.grantId ?? null,
          payload.userCode ?? null,
          payload.uid ?? null,
          expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
        ],
      );
    },
    find: (id) => findBy(model, 'id', id),
    findByUid: (uid) => findBy(model, 'uid', uid),
    findByUserCode: (userCode) => findBy(model, 'user_code', userCode),
    async consume(id) {
      await pool.query('UPDATE bare_artifacts SET consumed_at = now() WHERE model = $1 AND id = $2', [model, id]);
    },
    async destroy(id) {
      await pool.query('DELETE FROM bare_artifacts WHERE model = $1 AND id = $2', [model, id]);
    },
    async revokeByGrantId(grantId) {
      await pool.query('DELETE FROM bare_artifacts WHERE grant_id = $1', [grantId]);
    },
  });
}
