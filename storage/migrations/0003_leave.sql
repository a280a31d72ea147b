-- Leave and return (请销假): the request, who was asked at each step, and the trail.
CREATE TABLE leave_requests (
    id              INTEGER PRIMARY KEY,
    member_id       INTEGER NOT NULL REFERENCES members(id),
    unit_code       TEXT NOT NULL REFERENCES units(code),
    kind            TEXT NOT NULL,
    start_at        TEXT NOT NULL,
    end_at          TEXT NOT NULL,
    destination     TEXT NOT NULL DEFAULT '',
    leaves_city     INTEGER NOT NULL DEFAULT 0,
    reason          TEXT NOT NULL DEFAULT '',
    standin_id      INTEGER REFERENCES members(id),
    chain           TEXT NOT NULL,
    holidays        TEXT NOT NULL DEFAULT '',   -- statutory holidays covered while out of the city
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'refused', 'cancelled')),
    step            INTEGER NOT NULL DEFAULT 0,
    on_leave        INTEGER NOT NULL DEFAULT 0, -- 1 while an approved leave is under way (alert routing)
    created_at      TEXT NOT NULL,
    decided_at      TEXT,
    returned_at     TEXT,                       -- 销假
    back_alerted_at TEXT
);
CREATE INDEX leave_requests_member ON leave_requests(member_id, status);
CREATE INDEX leave_requests_period ON leave_requests(status, start_at, end_at);
CREATE INDEX leave_requests_on_leave ON leave_requests(member_id) WHERE on_leave = 1;

-- Who was asked at each step (resolved when the step opened), for whom, and what they decided.
CREATE TABLE leave_approvers (
    request_id   INTEGER NOT NULL REFERENCES leave_requests(id),
    step         INTEGER NOT NULL,
    member_id    INTEGER NOT NULL REFERENCES members(id),
    on_behalf_of INTEGER REFERENCES members(id),
    asked_at     TEXT NOT NULL,
    decision     TEXT CHECK (decision IN ('approved', 'refused')),
    comment      TEXT,
    decided_at   TEXT,
    PRIMARY KEY (request_id, step, member_id)
);

CREATE TABLE leave_events (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES leave_requests(id),
    at          TEXT NOT NULL,
    actor_id    INTEGER REFERENCES members(id),
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX leave_events_request ON leave_events(request_id, id);
