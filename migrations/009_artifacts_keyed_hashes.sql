-- ADR 0709: provider artifacts are stored under keyed hashes of their ids, uids and user
-- codes, and their payloads without raw ids. Rows written before are keyed by the raw
-- values: no lookup can find them any more, and they would keep working tokens readable
-- in every dump and backup until they expire. They are removed; their holders sign in again.
TRUNCATE oidc_artifacts;
