-- Routine information (政务信息报送): items, their attachments, and each closed quota week.
CREATE TABLE info_items (
    id            INTEGER PRIMARY KEY,
    unit_code     TEXT NOT NULL REFERENCES units(code),
    author_id     INTEGER NOT NULL REFERENCES members(id),
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    submitted_at  TEXT NOT NULL,
    week_end      TEXT NOT NULL,  -- the weekly deadline this item counts towards
    mark          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (mark IN ('pending', 'district', 'city', 'province', 'instruction', 'rejected')),
    marked_by     INTEGER REFERENCES members(id),
    marked_at     TEXT
);
CREATE INDEX info_items_week ON info_items(week_end, unit_code);
CREATE INDEX info_items_submitted ON info_items(submitted_at);
CREATE INDEX info_items_marked ON info_items(marked_at);

CREATE TABLE info_attachments (
    id        INTEGER PRIMARY KEY,
    item_id   INTEGER NOT NULL REFERENCES info_items(id),
    kind      TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    file_id   TEXT NOT NULL
);
CREATE INDEX info_attachments_item ON info_attachments(item_id);

-- One row per unit and closed quota week; met = 0 is a week ended short.
CREATE TABLE info_weeks (
    unit_code    TEXT NOT NULL REFERENCES units(code),
    week_end     TEXT NOT NULL,
    submitted    INTEGER NOT NULL,
    quota        INTEGER NOT NULL,
    met          INTEGER NOT NULL,
    recorded_at  TEXT NOT NULL,
    PRIMARY KEY (unit_code, week_end)
);
