-- Groups and memberships (docs/design.md#groups; ADR 0200).
-- - A group belongs to one pool; its name is unique in the pool, case-insensitively, so
--   "Admins" and "admins" can never both appear in a token's `groups` claim.
-- - parent_id nests groups. The composite foreign key (pool_id, parent_id) makes a
--   parent in another pool impossible in PostgreSQL itself. It has no ON DELETE action:
--   the database refuses to delete a group that still has children, and the service
--   deletes a whole subtree in one statement when asked to (?cascade=true).
-- - A membership links a user and a group of the same pool (composite foreign keys on
--   both sides); deleting the user, the group or the pool deletes the membership.
-- Indexes serve the recursive queries: children of a group (groups_parent), the groups
-- of a user (group_members_user), the members of a group (the primary key).

CREATE TABLE groups (
  pool_id     text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  id          uuid NOT NULL,
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  parent_id   uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, id),
  FOREIGN KEY (pool_id, parent_id) REFERENCES groups (pool_id, id),
  CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX groups_name ON groups (pool_id, lower(name));
CREATE INDEX groups_parent ON groups (pool_id, parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE group_members (
  pool_id    text NOT NULL,
  group_id   uuid NOT NULL,
  user_id    uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, group_id, user_id),
  FOREIGN KEY (pool_id, group_id) REFERENCES groups (pool_id, id) ON DELETE CASCADE,
  FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_user ON group_members (pool_id, user_id, group_id);
