-- Emergency information (重要紧急信息报送).
CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    year          INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    unit_code     TEXT NOT NULL REFERENCES units(code),
    reporter_id   INTEGER NOT NULL REFERENCES members(id),
    category      TEXT NOT NULL,
    occurred_at   TEXT NOT NULL,
    learnt_at     TEXT NOT NULL,
    place         TEXT NOT NULL DEFAULT '',
    latitude      REAL,
    longitude     REAL,
    deaths        INTEGER,
    injured       INTEGER,
    missing       INTEGER,
    description   TEXT NOT NULL DEFAULT '',
    cause         TEXT,
    background    TEXT,
    development   TEXT,
    handling      TEXT,
    consequences  TEXT,
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at    TEXT NOT NULL,
    acked_by      INTEGER REFERENCES members(id),
    acked_at      TEXT,
    forwarded_by  INTEGER REFERENCES members(id),
    forwarded_at  TEXT,
    closed_by     INTEGER REFERENCES members(id),
    closed_at     TEXT,
    outcome       TEXT,
    UNIQUE (year, seq)
);
CREATE INDEX incidents_unit ON incidents(unit_code, status);

-- One row per staged obligation: when due, when filed, and how late.
CREATE TABLE incident_stages (
    incident_id   INTEGER NOT NULL REFERENCES incidents(id),
    stage         TEXT NOT NULL,
    due_at        TEXT NOT NULL,
    filed_at      TEXT,
    filed_by      INTEGER REFERENCES members(id),
    late_flagged_at TEXT,
    missed        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (incident_id, stage)
);

CREATE TABLE incident_events (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    at           TEXT NOT NULL,
    actor_id     INTEGER REFERENCES members(id),
    kind         TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_incident ON incident_events(incident_id, id);

CREATE TABLE incident_casualties (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    at           TEXT NOT NULL,
    stage        TEXT NOT NULL,
    deaths       INTEGER,
    injured      INTEGER,
    missing      INTEGER
);

CREATE TABLE incident_photos (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    stage        TEXT NOT NULL,
    file_id      TEXT NOT NULL
);

CREATE TABLE incident_questions (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    asker_id     INTEGER NOT NULL REFERENCES members(id),
    question     TEXT NOT NULL,
    asked_at     TEXT NOT NULL,
    answer       TEXT,
    answered_by  INTEGER REFERENCES members(id),
    answered_at  TEXT,
    asker_message_id INTEGER
);

-- Optional upstream push outcomes ([upstream] webhook_url).
CREATE TABLE upstream_pushes (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    event        TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    done_at      TEXT
);
