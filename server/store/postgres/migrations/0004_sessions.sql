-- Schema version 4: device sessions (docs/protocol.md P-30..P-35); the
-- PostgreSQL twin of server/store/sqlite/migrations/0004_sessions.sql.
ALTER TABLE devices ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN session_key BYTEA;
ALTER TABLE devices ADD COLUMN session_expires BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN session_counter BIGINT NOT NULL DEFAULT 0;
