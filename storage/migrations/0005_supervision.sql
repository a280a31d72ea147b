-- Supervision items (督查督办): tracked matters, one assignment per responsible unit.
CREATE TABLE supervision_tasks (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    source       TEXT NOT NULL,
    requirement  TEXT NOT NULL DEFAULT '',
    leader_id    INTEGER REFERENCES members(id),
    created_by   INTEGER NOT NULL REFERENCES members(id),
    created_at   TEXT NOT NULL,
    due_at       TEXT NOT NULL,
    chase_plan   TEXT NOT NULL DEFAULT '[]',   -- seconds before the deadline, JSON list
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    done_at      TEXT
);

-- What one responsible unit owes: its own state and deadline (an extension moves only its own).
CREATE TABLE supervision_assignments (
    id             INTEGER PRIMARY KEY,
    task_id        INTEGER NOT NULL REFERENCES supervision_tasks(id),
    unit_code      TEXT NOT NULL REFERENCES units(code),
    state          TEXT NOT NULL DEFAULT 'assigned'
                   CHECK (state IN ('assigned', 'accepted', 'submitted', 'done')),
    due_at         TEXT NOT NULL,
    accepted_at    TEXT,
    accepted_by    INTEGER REFERENCES members(id),
    submitted_at   TEXT,
    submitted_by   INTEGER REFERENCES members(id),
    summary        TEXT,
    done_at        TEXT,
    done_by        INTEGER REFERENCES members(id),
    overdue_at     TEXT,
    returned_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (task_id, unit_code)
);
CREATE INDEX supervision_assignments_unit ON supervision_assignments(unit_code, state);

CREATE TABLE supervision_events (
    id             INTEGER PRIMARY KEY,
    task_id        INTEGER NOT NULL REFERENCES supervision_tasks(id),
    assignment_id  INTEGER REFERENCES supervision_assignments(id),
    at             TEXT NOT NULL,
    actor_id       INTEGER REFERENCES members(id),
    kind           TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX supervision_events_task ON supervision_events(task_id, id);

CREATE TABLE supervision_attachments (
    id             INTEGER PRIMARY KEY,
    event_id       INTEGER NOT NULL REFERENCES supervision_events(id),
    kind           TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    file_id        TEXT NOT NULL,
    file_name      TEXT
);

-- Extension requests keep both dates, whatever the decision.
CREATE TABLE supervision_extensions (
    id             INTEGER PRIMARY KEY,
    assignment_id  INTEGER NOT NULL REFERENCES supervision_assignments(id),
    requested_by   INTEGER NOT NULL REFERENCES members(id),
    requested_at   TEXT NOT NULL,
    old_due_at     TEXT NOT NULL,
    new_due_at     TEXT NOT NULL,
    reason         TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by     INTEGER REFERENCES members(id),
    decided_at     TEXT
);

