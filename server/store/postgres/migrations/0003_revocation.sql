-- Schema version 3: revocation of devices and enrollment tokens
-- (docs/protocol.md P-8, P-12, P-20); the PostgreSQL twin of
-- server/store/sqlite/migrations/0003_revocation.sql.
-- 0 = not revoked, else the Unix milliseconds of the revocation.
ALTER TABLE devices ADD COLUMN revoked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN revoked_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE enrollment_tokens ADD COLUMN revoked_at BIGINT NOT NULL DEFAULT 0;
