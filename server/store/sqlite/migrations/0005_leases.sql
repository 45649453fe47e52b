-- Schema version 5: leases (docs/server.md "Several replicas"). The replica
-- holding a lease runs its background work (the deployment controller, the
-- alert engine, retention); another takes it over when it expires.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
