-- The highest Telegram update_id whose handling finished. Telegram forgets an update only when
-- the next getUpdates confirms it; a kill -9 after an update was handled but before that poll
-- makes Telegram deliver it again, and the restarted bot skips what this row already covers.
CREATE TABLE updates_handled (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL
);
