/**
 * The storage adapter node-oidc-provider uses for one pool. Artifacts live in one table
 * keyed by (pool_id, model, id) with an expiry; clients come from the clients table.
 * See oidc-provider's example/adapters for the contract.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Db } from '../db/database.js';
import type { OidcClientMetadata } from '../clients/clients.service.js';
import { createArtifactFinder, type ArtifactFinder } from './artifact-finder.js';
import { createArtifactWriter, type ArtifactWriter } from './artifact-writer.js';
import { createArtifactQueries, deleteArtifactsOfGrant, type ArtifactRow } from './artifacts.queries.js';

function toPayload(row: ArtifactRow | undefined): AdapterPayload | undefined {
  if (!row) return undefined;
  const payload = row.payload as AdapterPayload;
  if (!row.consumed_at) return payload;
  return { ...payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) };
}

class ArtifactAdapter implements Adapter {
  readonly #db: Db;
  readonly #poolId: string;
  readonly #model: string;
  readonly #queries: ReturnType<typeof createArtifactQueries>;
  readonly #find: ArtifactFinder;
  readonly #write: ArtifactWriter;

  constructor(db: Db, poolId: string, model: string, find: ArtifactFinder, write: ArtifactWriter) {
    this.#db = db;
    this.#poolId = poolId;
    this.#model = model;
    this.#queries = createArtifactQueries(db, poolId, model);
    this.#find = find;
    this.#write = write;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
    // Coalesced with the other writes of this turn (artifact-writer.ts).
    await this.#write({ model: this.#model, id, payload: payload, expiresAt });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    // Coalesced with the other lookups of this turn (artifact-finder.ts).
    return toPayload(await this.#find(this.#model, id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return toPayload(await this.#queries.findArtifactByUid(uid));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return toPayload(await this.#queries.findArtifactByUserCode(userCode));
  }

  async consume(id: string): Promise<void> {
    await this.#queries.consumeArtifact(id);
  }

  async destroy(id: string): Promise<void> {
    await this.#queries.destroyArtifact(id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await deleteArtifactsOfGrant(this.#db, this.#poolId, grantId);
  }
}

/** Clients are managed through the admin API, never by the provider: find only. */
class ClientAdapter implements Adapter {
  constructor(private readonly findClient: (clientId: string) => Promise<OidcClientMetadata | undefined>) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    return (await this.findClient(id));
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

export function createAdapterFactory(db: Db, poolId: string, findClient: (clientId: string) => Promise<OidcClientMetadata | undefined>) {
  // Built clients are remembered by the provider's Client model (client-cache.ts).
  const clients = new ClientAdapter(findClient);
  const find = createArtifactFinder(db, poolId);
  const write = createArtifactWriter(db, poolId);
  return (model: string): Adapter => (model === 'Client' ? clients : new ArtifactAdapter(db, poolId, model, find, write));
}
