-- Schema version 4: device sessions (docs/protocol.md P-30..P-35). One
-- session per device, on its row: opening a new one replaces the old.
-- session_counter is the highest request counter accepted so far.
ALTER TABLE devices ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN session_key BLOB;
ALTER TABLE devices ADD COLUMN session_expires INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN session_counter INTEGER NOT NULL DEFAULT 0;
