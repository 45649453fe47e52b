-- Schema version 5: leases (docs/server.md "Several replicas"); the
-- PostgreSQL twin of server/store/sqlite/migrations/0005_leases.sql.
CREATE TABLE leases (
    name        TEXT COLLATE "C" PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
