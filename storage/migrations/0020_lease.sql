-- Active / standby of `dutydesk run` (issue 28): every running instance's row, upserted on each
-- heartbeat (bot/lease.py), read by `dutydesk status`. Twin: migrations/postgresql/0020_lease.sql.
CREATE TABLE desk_instances (
    instance     TEXT PRIMARY KEY,           -- host:pid
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    role         TEXT NOT NULL,              -- active | standby
    started_at   TEXT NOT NULL,              -- UTC ISO text, as everywhere (storage/db.py to_db)
    active_since TEXT,
    heartbeat_at TEXT NOT NULL
);
