-- Notices with receipts (上情下达), meeting notices and bound Telegram groups.
CREATE TABLE notices (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('notice', 'meeting')),
    sender_id        INTEGER NOT NULL REFERENCES members(id),
    unit_code        TEXT NOT NULL,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL DEFAULT '',
    urgent           INTEGER NOT NULL DEFAULT 0,
    receipt_required INTEGER NOT NULL DEFAULT 1,
    audience         TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL,
    due_at           TEXT,
    meeting_at       TEXT,
    meeting_place    TEXT,
    last_resend_at   TEXT,
    finished_at      TEXT,
    status_outbox_id INTEGER
);
CREATE INDEX notices_sender ON notices(sender_id, id);

CREATE TABLE notice_attachments (
    id         INTEGER PRIMARY KEY,
    notice_id  INTEGER NOT NULL REFERENCES notices(id),
    kind       TEXT NOT NULL CHECK (kind IN ('document', 'photo')),
    file_id    TEXT NOT NULL
);

-- One row per addressee; asked_id signs for them (their stand-in while on approved leave).
CREATE TABLE notice_recipients (
    notice_id       INTEGER NOT NULL REFERENCES notices(id),
    member_id       INTEGER NOT NULL REFERENCES members(id),
    unit_code       TEXT NOT NULL,
    asked_id        INTEGER NOT NULL REFERENCES members(id),
    on_leave        INTEGER NOT NULL DEFAULT 0,
    acked_at        TEXT,
    reminded        INTEGER NOT NULL DEFAULT 0,
    attendance      TEXT CHECK (attendance IN ('attend', 'leave', 'proxy')),
    attendance_note TEXT,
    PRIMARY KEY (notice_id, member_id)
);
CREATE INDEX notice_recipients_asked ON notice_recipients(asked_id, notice_id);

-- Groups the bot was added to and an admin or unit head bound (unit_code NULL: whole district).
CREATE TABLE bound_groups (
    chat_id    INTEGER PRIMARY KEY,
    title      TEXT NOT NULL DEFAULT '',
    unit_code  TEXT REFERENCES units(code),
    can_pin    INTEGER NOT NULL DEFAULT 0,
    bound_by   INTEGER REFERENCES members(id),
    bound_at   TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE notice_group_posts (
    notice_id  INTEGER NOT NULL REFERENCES notices(id),
    chat_id    INTEGER NOT NULL,
    outbox_id  INTEGER,
    PRIMARY KEY (notice_id, chat_id)
);

-- Each group member who pressed 收到 under a group post.
CREATE TABLE notice_group_receipts (
    notice_id    INTEGER NOT NULL REFERENCES notices(id),
    chat_id      INTEGER NOT NULL,
    telegram_id  INTEGER NOT NULL,
    name         TEXT NOT NULL,
    member_id    INTEGER REFERENCES members(id),
    acked_at     TEXT NOT NULL,
    PRIMARY KEY (notice_id, chat_id, telegram_id)
);
