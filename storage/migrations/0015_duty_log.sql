-- The duty log (值班记录): what the officers on shift wrote down — a call, a report, a document, a
-- visitor — from whom, what was done, what is pending. What reached the duty room by itself
-- (incidents, notices, escalations) is read from where it was recorded, not copied here.
CREATE TABLE duty_log (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('call', 'report', 'document', 'visitor', 'other')),
    source          TEXT NOT NULL DEFAULT '',
    content         TEXT NOT NULL,
    action          TEXT NOT NULL DEFAULT '',
    pending         TEXT NOT NULL DEFAULT '',
    pending_done_at TEXT,
    pending_done_by INTEGER REFERENCES members(id),
    author_id       INTEGER NOT NULL REFERENCES members(id),
    created_at      TEXT NOT NULL
);
CREATE INDEX duty_log_at ON duty_log(at);
CREATE INDEX duty_log_pending ON duty_log(id) WHERE pending != '' AND pending_done_at IS NULL;

CREATE TABLE duty_log_photos (
    id        INTEGER PRIMARY KEY,
    entry_id  INTEGER NOT NULL REFERENCES duty_log(id),
    file_id   TEXT NOT NULL
);

-- One row per shift change (交接班): who went off and who came on (member ids, comma-separated, as the
-- roster said at that moment), the outgoing officers' notes, when it was handed over and taken over.
CREATE TABLE handovers (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL UNIQUE,
    outgoing    TEXT NOT NULL DEFAULT '',
    incoming    TEXT NOT NULL DEFAULT '',
    notes       TEXT NOT NULL DEFAULT '',
    handed_by   INTEGER REFERENCES members(id),
    handed_at   TEXT,
    taken_by    INTEGER REFERENCES members(id),
    taken_at    TEXT,
    alerted_at  TEXT,
    created_at  TEXT NOT NULL
);
