-- Organisation, registration, the outbox, the deadline table and PTB persistence.
CREATE TABLE units (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('street', 'bureau', 'office')),
    active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE members (
    id           INTEGER PRIMARY KEY,
    telegram_id  INTEGER NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    username     TEXT,
    unit_code    TEXT NOT NULL REFERENCES units(code),
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    deactivated_at TEXT
);
CREATE INDEX members_unit ON members(unit_code);

CREATE TABLE member_roles (
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    PRIMARY KEY (member_id, role)
);
CREATE INDEX member_roles_role ON member_roles(role);

CREATE TABLE invites (
    code        TEXT PRIMARY KEY,
    unit_code   TEXT NOT NULL REFERENCES units(code),
    role        TEXT NOT NULL,
    name        TEXT,
    created_by  INTEGER REFERENCES members(id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    used_by     INTEGER REFERENCES members(id)
);

-- Every message that matters is a row, committed with the change that caused it.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    method      TEXT NOT NULL,
    payload     TEXT NOT NULL,
    ref_kind    TEXT,
    ref_id      INTEGER,
    tag         TEXT,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  REAL NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    message_id  INTEGER,
    error       TEXT
);
CREATE INDEX outbox_pending ON outbox(id) WHERE status = 'pending';
CREATE INDEX outbox_ref ON outbox(ref_kind, ref_id, tag);

-- Pending deadlines: the scheduler is rebuilt from these rows at start-up.
CREATE TABLE deadlines (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    ref_id       INTEGER NOT NULL,
    stage        TEXT NOT NULL DEFAULT '',
    due_at       TEXT NOT NULL,
    payload      TEXT NOT NULL DEFAULT '{}',
    fired_at     TEXT,
    cancelled_at TEXT
);
CREATE INDEX deadlines_due ON deadlines(due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX deadlines_ref ON deadlines(kind, ref_id);

-- python-telegram-bot conversation states (storage/persistence.py).
CREATE TABLE ptb_conversations (
    name   TEXT NOT NULL,
    key    TEXT NOT NULL,
    state  TEXT NOT NULL,
    PRIMARY KEY (name, key)
);

-- Answers given so far in a multi-step dialogue, one row per member and dialogue.
CREATE TABLE drafts (
    telegram_id INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (telegram_id, kind)
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor_id   INTEGER,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
);
