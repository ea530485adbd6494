/** Pools, applications and users made through the admin API, as an administrator would. */
import { randomBytes } from 'node:crypto';
import type { RunningTarn } from './tarn.js';

/** A secret as the admin API shows it once (src/http/shown-secret.ts). */
export interface ShownSecret {
  value: string;
  id?: string;
  createdAt: string;
  expiresAt: string | null;
}

/** Anything with the admin API: an in-process Tarn (startTarn) or an `npm start` child (startTarnProcess). */
export type AdminApi = Pick<RunningTarn, 'admin'>;

export const REDIRECT_URI = 'http://rp.example.test/callback';

export function uniqueId(prefix = 'pool'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export async function createPool(tarn: AdminApi, fields: Record<string, unknown> = {}) {
  const response = await tarn.admin('POST', '/pools', { id: uniqueId(), name: 'Test Pool', ...fields });
  if (response.status !== 201) throw new Error(`pool creation failed: ${JSON.stringify(response.body)}`);
  return response.body as { id: string; issuer: string; secret: ShownSecret; nextSecret: ShownSecret; name: string; passwordPolicy: { minLength: number } };
}

export async function createClient(tarn: AdminApi, poolId: string, fields: Record<string, unknown> = {}) {
  const response = await tarn.admin('POST', `/pools/${poolId}/clients`, { name: 'Test App', redirectUris: [REDIRECT_URI], ...fields });
  if (response.status !== 201) throw new Error(`client creation failed: ${JSON.stringify(response.body)}`);
  return response.body as { clientId: string; secret?: ShownSecret; name: string };
}

export async function createUser(tarn: AdminApi, poolId: string, fields: Record<string, unknown> = {}) {
  const email = `user-${randomBytes(4).toString('hex')}@example.test`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const response = await tarn.admin('POST', `/pools/${poolId}/users`, { email, mode: 'password', password, ...fields });
  if (response.status !== 201) throw new Error(`user creation failed: ${JSON.stringify(response.body)}`);
  return { ...(response.body as { id: string; email: string }), password: (fields.password as string) ?? password };
}
