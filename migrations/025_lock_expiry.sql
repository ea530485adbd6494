-- A lock that runs out is announced (user.unlocked, actor system) by the sweep every
-- instance's delivery worker runs (src/users/lockout.service.ts releaseExpiredLocks): it looks
-- for locks whose time has passed, so only rows with a lock are indexed.
CREATE INDEX user_lockouts_locked_until ON user_lockouts (locked_until) WHERE locked_until IS NOT NULL;
