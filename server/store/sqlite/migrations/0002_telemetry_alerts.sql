-- Schema version 2: monitoring reports and their per-device bookkeeping,
-- alerts, settings (alert rules), deployment health gates and device
-- encryption keys (docs/server.md "Telemetry", docs/protocol.md P-21..P-27).

-- One row per report as uploaded (windows = 1) or per roll-up of one
-- device's windows of one model (windows > 1). The scalar columns copy the
-- report's fields for queries; data is the report itself (REPORT format).
CREATE TABLE telemetry (
    id              INTEGER PRIMARY KEY,
    device_id       TEXT NOT NULL,
    seq_first       INTEGER NOT NULL,
    seq_last        INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    bundle_id       INTEGER NOT NULL,
    model           TEXT NOT NULL,
    version         TEXT NOT NULL,
    digest          TEXT NOT NULL,
    windows         INTEGER NOT NULL,
    inferences      INTEGER NOT NULL,
    errors          INTEGER NOT NULL,
    out_inf         INTEGER NOT NULL,
    events          INTEGER NOT NULL,
    dropped         INTEGER NOT NULL,
    lost_inferences INTEGER NOT NULL,
    drift           REAL NOT NULL,
    acc_est         REAL NOT NULL,
    p95_us          INTEGER NOT NULL,
    latency         BLOB NOT NULL,
    data            BLOB NOT NULL,
    CHECK (seq_last >= seq_first)
);
CREATE UNIQUE INDEX telemetry_device_seq ON telemetry (device_id, seq_first);
CREATE INDEX telemetry_at ON telemetry (at);
CREATE INDEX telemetry_device_at ON telemetry (device_id, at);

-- Dedup survives pruning: every sequence number <= seq_floor was received.
CREATE TABLE telemetry_devices (
    device_id       TEXT PRIMARY KEY,
    seq_floor       INTEGER NOT NULL DEFAULT -1,
    last_at         INTEGER NOT NULL DEFAULT 0,
    last_received   INTEGER NOT NULL DEFAULT 0,
    reports         INTEGER NOT NULL DEFAULT 0,
    duplicates      INTEGER NOT NULL DEFAULT 0,
    dropped         INTEGER NOT NULL DEFAULT 0,
    lost_inferences INTEGER NOT NULL DEFAULT 0,
    inferences      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    digest      TEXT NOT NULL DEFAULT '',
    model       TEXT NOT NULL DEFAULT '',
    version     TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    message     TEXT NOT NULL,
    value       REAL NOT NULL,
    threshold   REAL NOT NULL,
    opened_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    acked_at    INTEGER NOT NULL DEFAULT 0,
    acked_by    TEXT NOT NULL DEFAULT '',
    resolved_at INTEGER NOT NULL DEFAULT 0,
    resolved_by TEXT NOT NULL DEFAULT ''
);
-- At most one unresolved alert per (device, kind, model).
CREATE UNIQUE INDEX alerts_active ON alerts (device_id, kind, digest) WHERE state != 'resolved';
CREATE INDEX alerts_updated ON alerts (updated_at);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE deployment_gates (
    deployment_id INTEGER PRIMARY KEY REFERENCES deployments (id),
    policy        TEXT NOT NULL,
    result        TEXT NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE device_enc_keys (
    device_id   TEXT PRIMARY KEY,
    public_key  BLOB NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
