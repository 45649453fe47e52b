-- Schema version 3: revocation of devices and enrollment tokens
-- (docs/protocol.md P-8, P-12, P-20). A revoked device's requests are
-- refused and deployments skip it; a revoked enrollment token enrolls nobody.
-- 0 = not revoked, else the Unix milliseconds of the revocation.
ALTER TABLE devices ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN revoked_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE enrollment_tokens ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;
