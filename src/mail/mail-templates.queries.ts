/** A pool's mail templates (mail_templates). */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';

export function createMailTemplateQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    listTemplates() {
      return pool.selectFrom('mail_templates').selectAll().orderBy('kind').orderBy('language').execute();
    },
    findTemplate(kind: string, language: string) {
      return pool.selectFrom('mail_templates').selectAll().where('kind', '=', kind).where('language', '=', language).executeTakeFirst();
    },
    /** The template for the first of `languages` that has one. */
    async findFirstTemplate(kind: string, languages: string[]) {
      const rows = await pool.selectFrom('mail_templates').selectAll().where('kind', '=', kind).where('language', 'in', languages).execute();
      return languages.map((language) => rows.find((row) => row.language === language)).find((row) => row !== undefined);
    },
    putTemplate(kind: string, language: string, fields: { subject: string; html: string; text: string }) {
      return pool
        .insertInto('mail_templates', { kind, language, ...fields })
        .onConflict((conflict) => conflict.columns(['pool_id', 'kind', 'language']).doUpdateSet({ ...fields, updated_at: sql`now()` }))
        .returningAll()
        .executeTakeFirstOrThrow();
    },
    async deleteTemplate(kind: string, language: string): Promise<boolean> {
      const result = await pool.deleteFrom('mail_templates').where('kind', '=', kind).where('language', '=', language).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
