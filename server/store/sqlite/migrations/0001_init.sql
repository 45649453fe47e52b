-- Schema version 1 of the SQLite store: tokens, devices, nonces, bundles,
-- deployments and per-device assignments. Times are Unix milliseconds.
-- Applied once, in one transaction, by sqlite_migrate (schema_version row 1).

CREATE TABLE admin_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE enrollment_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  INTEGER NOT NULL,
    uses_left   INTEGER NOT NULL CHECK (uses_left >= 0),
    grp         TEXT NOT NULL,
    tags        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    public_key      BLOB NOT NULL,
    grp             TEXT NOT NULL,
    tags            TEXT NOT NULL,
    enroll_token_id INTEGER NOT NULL,
    enrolled_at     INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL DEFAULT 0,
    profile         TEXT NOT NULL,
    status          TEXT,
    active_digest   TEXT NOT NULL DEFAULT '',
    nv_counter      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX devices_grp ON devices (grp, id);

-- One row per (device, tag): the index deployments and listings query.
CREATE TABLE device_tags (
    device_id   TEXT NOT NULL,
    tag         TEXT NOT NULL,
    PRIMARY KEY (device_id, tag)
) WITHOUT ROWID;
CREATE INDEX device_tags_tag ON device_tags (tag, device_id);

CREATE TABLE nonces (
    device_id   TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_expiry ON nonces (expires_at);

CREATE TABLE bundles (
    id          INTEGER PRIMARY KEY,
    digest      TEXT NOT NULL UNIQUE,
    model       TEXT NOT NULL,
    version     TEXT NOT NULL,
    counter     INTEGER NOT NULL,
    arches      TEXT NOT NULL,
    min_runtime TEXT NOT NULL,
    arena_bytes INTEGER NOT NULL,
    flash_bytes INTEGER NOT NULL,
    ops         TEXT NOT NULL,
    size        INTEGER NOT NULL,
    encrypted   INTEGER NOT NULL,
    signer_id   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    uploaded_at INTEGER NOT NULL,
    rank        INTEGER NOT NULL DEFAULT 0,
    data        BLOB NOT NULL
);
CREATE INDEX bundles_model ON bundles (model, version);

CREATE TABLE deployments (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    rollback_of  INTEGER NOT NULL DEFAULT 0,
    model        TEXT NOT NULL,
    version      TEXT NOT NULL,
    target       TEXT NOT NULL,
    waves        TEXT NOT NULL,
    soak_ms      INTEGER NOT NULL,
    max_failures INTEGER NOT NULL,
    state        TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    current_wave INTEGER NOT NULL DEFAULT 0,
    wave_done_at INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL
);
CREATE INDEX deployments_state ON deployments (state);

CREATE TABLE assignments (
    deployment_id  INTEGER NOT NULL REFERENCES deployments (id),
    device_id      TEXT NOT NULL,
    wave           INTEGER NOT NULL,
    bundle_id      INTEGER NOT NULL,
    prev_bundle_id INTEGER NOT NULL,
    state          TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, device_id)
) WITHOUT ROWID;
CREATE INDEX assignments_device ON assignments (device_id, deployment_id);
CREATE INDEX assignments_wave ON assignments (deployment_id, wave, state);
