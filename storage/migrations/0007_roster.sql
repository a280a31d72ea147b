-- Duty roster (值班表 / 领导带班): who holds each post of each shift of a duty day.
-- A night shift belongs to the day it starts. The UTC window is fixed when the slot is set,
-- so alert routing asks one question — who is on at this moment — without the config.
CREATE TABLE roster_slots (
    day         TEXT NOT NULL,              -- duty day, Beijing date YYYY-MM-DD
    shift       TEXT NOT NULL,              -- a configured shift name, or 'leader' (带班领导)
    post        INTEGER NOT NULL,           -- 1, 2 … (双岗); 1 for the leader
    member_id   INTEGER NOT NULL REFERENCES members(id),
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  INTEGER REFERENCES members(id),
    PRIMARY KEY (day, shift, post)
);
CREATE INDEX roster_slots_window ON roster_slots(starts_at, ends_at);

-- Days on which an alert found nobody rostered; the admins are told once per day.
CREATE TABLE roster_gaps (
    day       TEXT PRIMARY KEY,
    found_at  TEXT NOT NULL,
    told_at   TEXT
);

-- What alert routing needs of the config to name a duty day and word the admins' notice
-- (it runs inside other features' transactions, without the config): written at start-up.
CREATE TABLE roster_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
