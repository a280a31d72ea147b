-- Leave that is reported, not requested. The heads of the 人大/政府/政协 bodies report in writing to
-- the party secretary, and the party secretary's own absence is recorded: in effect at once, approved
-- by nobody (filing 'report'; status 'approved' means in effect, as for approved requests).
ALTER TABLE leave_requests ADD COLUMN filing TEXT NOT NULL DEFAULT 'request'
    CHECK (filing IN ('request', 'report'));

-- 节假日离京报备: a district leader leaving the city over a statutory holiday reports in advance to the
-- party committee and the government. A report, not a request: delivered at once, never approved;
-- one sent after departure is accepted and marked late. `request_id`: it came with a leave request.
CREATE TABLE holiday_reports (
    id           INTEGER PRIMARY KEY,
    member_id    INTEGER NOT NULL REFERENCES members(id),
    unit_code    TEXT NOT NULL REFERENCES units(code),
    start_at     TEXT NOT NULL,
    end_at       TEXT NOT NULL,
    destination  TEXT NOT NULL,
    contact      TEXT NOT NULL DEFAULT '',
    holidays     TEXT NOT NULL DEFAULT '',
    late         INTEGER NOT NULL DEFAULT 0,
    request_id   INTEGER REFERENCES leave_requests(id),
    created_at   TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE INDEX holiday_reports_period ON holiday_reports(start_at, end_at);
CREATE INDEX holiday_reports_member ON holiday_reports(member_id, start_at);
