-- Document handling (办文): 收文登记 → 拟办 → 批办 (or 电话请示, then 补签) → 办结, with its limit.
-- A document classified 机密 or above never has its content or files here (the seed: 密级在机密以上的
-- 公文不得以电子公文的形式传输): the CHECK and the trigger hold that even against a bug upstream.
CREATE TABLE documents (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    year            INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    title           TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    doc_no          TEXT NOT NULL DEFAULT '',
    classification  TEXT NOT NULL CHECK (classification IN ('none', 'secret', 'confidential', 'top_secret')),
    urgency         TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', 'very_urgent')),
    received_at     TEXT NOT NULL,
    registered_by   INTEGER NOT NULL REFERENCES members(id),
    registered_at   TEXT NOT NULL,
    summary         TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'registered'
                    CHECK (state IN ('registered', 'proposed', 'assigned', 'done')),
    due_at          TEXT,
    proposal        TEXT NOT NULL DEFAULT '',
    proposed_by     INTEGER REFERENCES members(id),
    proposed_at     TEXT,
    leader_id       INTEGER REFERENCES members(id),
    handler_id      INTEGER REFERENCES members(id),
    handler_unit    TEXT,
    assigned_by     INTEGER REFERENCES members(id),
    assigned_at     TEXT,
    phone_at        TEXT,
    sign_due_at     TEXT,
    signed_at       TEXT,
    done_by         INTEGER REFERENCES members(id),
    done_at         TEXT,
    result          TEXT NOT NULL DEFAULT '',
    overdue_at      TEXT,
    UNIQUE (year, seq),
    CHECK (classification IN ('none', 'secret') OR summary = '')
);
CREATE INDEX documents_open ON documents(state, due_at) WHERE state != 'done';
CREATE INDEX documents_handler ON documents(handler_id, state);

CREATE TABLE document_files (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES documents(id),
    kind         TEXT NOT NULL CHECK (kind IN ('document', 'photo')),
    file_id      TEXT NOT NULL,
    file_name    TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER document_files_unclassified_only BEFORE INSERT ON document_files
WHEN (SELECT classification FROM documents WHERE id = NEW.document_id) != 'none'
BEGIN
    SELECT RAISE(ABORT, 'files are kept for non-classified documents only');
END;

CREATE TABLE document_events (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES documents(id),
    at           TEXT NOT NULL,
    actor_id     INTEGER REFERENCES members(id),
    kind         TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX document_events_document ON document_events(document_id, id);

-- Notices ask for their 密级 too; content marked 机密 or above is never sent.
ALTER TABLE notices ADD COLUMN classification TEXT NOT NULL DEFAULT 'none'
    CHECK (classification IN ('none', 'secret'));
