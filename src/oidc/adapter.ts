/**
 * The storage adapter node-oidc-provider uses for one pool. Artifacts live in one table
 * keyed by (pool_id, model, id) with an expiry; clients come from the clients table.
 * Ids, uids and user codes are stored as keyed hashes and payloads without raw ids
 * (artifact-at-rest.ts, ADR 0709): every method turns the provider's raw value into its key.
 * See oidc-provider's example/adapters for the contract.
 */
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from '../db/database.js';
import { findUnstorableText, isStorableText } from '../db/storable-text.js';
import type { OidcClientMetadata } from '../clients/clients.service.js';
import type { ArtifactAtRest } from './artifact-at-rest.js';
import { createArtifactFinder, type ArtifactFinder } from './artifact-finder.js';
import { createArtifactWriter, type ArtifactWriter } from './artifact-writer.js';
import { createArtifactQueries, deleteArtifactsOfGrant, type ArtifactRow } from './artifacts.queries.js';

/** The provider's payload of a row found by `key`; `id` is the raw id when the lookup was by id. */
function toPayload(atRest: ArtifactAtRest, model: string, row: ArtifactRow | undefined, key: string | undefined, id?: string): AdapterPayload | undefined {
  if (!row || key === undefined) return undefined;
  const payload = atRest.fromStored(model, key, row.payload, id) as AdapterPayload;
  if (row.consumed_at) payload.consumed = Math.floor(new Date(row.consumed_at).getTime() / 1000);
  return payload;
}

class ArtifactAdapter implements Adapter {
  readonly #db: Db;
  readonly #poolId: string;
  readonly #model: string;
  readonly #queries: ReturnType<typeof createArtifactQueries>;
  readonly #find: ArtifactFinder;
  readonly #write: ArtifactWriter;
  readonly #atRest: ArtifactAtRest;

  constructor(db: Db, poolId: string, model: string, find: ArtifactFinder, write: ArtifactWriter, atRest: ArtifactAtRest) {
    this.#db = db;
    this.#poolId = poolId;
    this.#model = model;
    this.#queries = createArtifactQueries(db, poolId, model);
    this.#find = find;
    this.#write = write;
    this.#atRest = atRest;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    // A parameter PostgreSQL cannot store (a NUL, a lone surrogate) is the sender's mistake,
    // answered before it joins a statement shared with other requests.
    if (findUnstorableText(payload) !== undefined) {
      throw new errors.InvalidRequest('a parameter contains a character that cannot be accepted (a NUL character or an unpaired surrogate)');
    }
    const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
    const stored = this.#atRest.toStored(this.#model, id, payload);
    // Coalesced with the other writes of this turn (artifact-writer.ts).
    await this.#write({ model: this.#model, id: stored.key, payload: stored.payload, expiresAt, uid: stored.uid, userCode: stored.userCode });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const key = this.#atRest.key(id);
    // Coalesced with the other lookups of this turn (artifact-finder.ts).
    return toPayload(this.#atRest, this.#model, await this.#find(this.#model, key), key, id);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const row = await this.#queries.findArtifactByUid(this.#atRest.key(uid));
    return toPayload(this.#atRest, this.#model, row, row?.id);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const row = await this.#queries.findArtifactByUserCode(this.#atRest.key(userCode));
    return toPayload(this.#atRest, this.#model, row, row?.id);
  }

  async consume(id: string): Promise<void> {
    await this.#queries.consumeArtifact(this.#atRest.key(id));
  }

  async destroy(id: string): Promise<void> {
    await this.#queries.destroyArtifact(this.#atRest.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await deleteArtifactsOfGrant(this.#db, this.#poolId, grantId);
  }
}

/** Clients are managed through the admin API, never by the provider: find only. */
class ClientAdapter implements Adapter {
  constructor(private readonly findClient: (clientId: string) => Promise<OidcClientMetadata | undefined>) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    // No client's id holds a NUL or an unpaired surrogate (PostgreSQL could not even compare it).
    if (!isStorableText(id)) return undefined;
    return await this.findClient(id);
  }

  async upsert(): Promise<void> {
    throw new Error('clients are managed through the admin API');
  }

  async findByUid(): Promise<undefined> {
    return undefined;
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async consume(): Promise<void> {}

  async destroy(): Promise<void> {
    throw new Error('clients are managed through the admin API');
  }

  async revokeByGrantId(): Promise<void> {}
}

export function createAdapterFactory(
  db: Db,
  poolId: string,
  findClient: (clientId: string) => Promise<OidcClientMetadata | undefined>,
  atRest: ArtifactAtRest,
) {
  // Built clients are remembered by the provider's Client model (client-cache.ts).
  const clients = new ClientAdapter(findClient);
  const find = createArtifactFinder(db, poolId);
  const write = createArtifactWriter(db, poolId);
  return (model: string): Adapter => (model === 'Client' ? clients : new ArtifactAdapter(db, poolId, model, find, write, atRest));
}
