-- Active / standby of `dutydesk run` (issue 28): the twin of storage/migrations/0020_lease.sql.
CREATE TABLE desk_instances (
    instance     TEXT PRIMARY KEY,           -- host:pid
    host         TEXT NOT NULL,
    pid          BIGINT NOT NULL,
    role         TEXT NOT NULL,              -- active | standby
    started_at   TEXT NOT NULL,
    active_since TEXT,
    heartbeat_at TEXT NOT NULL
);
