-- The office's side of emergency reporting (issue #24).

-- Events the duty room put on record (代报/登记): how the office learnt of it, when, from whom.
-- 'unit' is the unit's own /report; 'phone' a call from the unit (its first report); any other
-- source means the unit had not reported (未报).
ALTER TABLE incidents ADD COLUMN source TEXT NOT NULL DEFAULT 'unit';
ALTER TABLE incidents ADD COLUMN recorded_by INTEGER REFERENCES members(id);
ALTER TABLE incidents ADD COLUMN office_learnt_at TEXT;
ALTER TABLE incidents ADD COLUMN caller_name TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN caller_phone TEXT NOT NULL DEFAULT '';

-- Every version of the facts, never overwritten: a full snapshot (JSON) per change, who gave
-- it, when, and through which stage ('first', 'written', …, 'record', 'wrong').
CREATE TABLE incident_versions (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    no           INTEGER NOT NULL,
    at           TEXT NOT NULL,
    actor_id     INTEGER REFERENCES members(id),
    via          TEXT NOT NULL,
    facts        TEXT NOT NULL,
    UNIQUE (incident_id, no)
);
-- Incidents filed before versions were kept: their facts as held now are their first version.
INSERT INTO incident_versions(incident_id, no, at, actor_id, via, facts)
SELECT id, 1, created_at, reporter_id, 'upgrade', json_object(
    'category', category, 'occurred_at', replace(replace(occurred_at, 'Z', '+00:00'), ' ', 'T'),
    'learnt_at', replace(replace(learnt_at, 'Z', '+00:00'), ' ', 'T'), 'place', place,
    'latitude', latitude, 'longitude', longitude, 'casualties', json_array(deaths, injured, missing),
    'description', description)
FROM incidents;

-- Findings against an incident: 迟报, 漏报, 误报, 瞒报, 未报, and the office's own 超时上报.
-- One of each kind per stage (per forward clock for 超时上报: ref), so nothing is marked twice.
CREATE TABLE incident_marks (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    unit_code    TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('late', 'missed', 'wrong', 'concealed', 'unreported', 'forward_late')),
    stage        TEXT NOT NULL DEFAULT '',
    ref          INTEGER NOT NULL DEFAULT 0,
    minutes      INTEGER,
    reason       TEXT NOT NULL DEFAULT '',
    at           TEXT NOT NULL,
    by_id        INTEGER REFERENCES members(id),
    UNIQUE (incident_id, kind, stage, ref)
);
CREATE INDEX incident_marks_at ON incident_marks(at);

-- A director's notes on a mark (约谈, 通报批评 …), shown in the 通报.
CREATE TABLE incident_mark_notes (
    id           INTEGER PRIMARY KEY,
    mark_id      INTEGER NOT NULL REFERENCES incident_marks(id),
    text         TEXT NOT NULL,
    at           TEXT NOT NULL,
    by_id        INTEGER REFERENCES members(id)
);
CREATE INDEX incident_mark_notes_mark ON incident_mark_notes(mark_id);

-- The office's 10-minute clocks to the city: one per stage received (the first report, then
-- each written, full, follow-up and corrected report).
CREATE TABLE incident_forwards (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    stage        TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    forwarded_at TEXT,
    forwarded_by INTEGER REFERENCES members(id),
    breached_at  TEXT
);
CREATE INDEX incident_forwards_incident ON incident_forwards(incident_id, id);
INSERT INTO incident_forwards(incident_id, stage, started_at, forwarded_at, forwarded_by)
SELECT id, 'first', created_at, forwarded_at, forwarded_by FROM incidents;
