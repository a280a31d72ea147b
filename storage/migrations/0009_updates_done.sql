-- Handled updates one by one, not as a "handled through" mark: people's updates are handled side
-- by side (bot/sender_order.py), so a later update can finish before an earlier one, and a mark
-- would then also skip the earlier one when Telegram delivers both again after a kill -9.
-- updates_handled stays as the floor it was (everything at or below it was handled, in order).
-- Polls confirm only handled batches (at most 100 updates), so an update 1,000 ids back can never
-- come again: the trigger keeps the table that short.
CREATE TABLE updates_done (update_id INTEGER PRIMARY KEY);
CREATE TRIGGER updates_done_prune AFTER INSERT ON updates_done
BEGIN
    DELETE FROM updates_done WHERE update_id < NEW.update_id - 1000;
END;

-- A dialogue step and the update that moved it, in ONE statement: the state row names its update
-- and these triggers mark it handled within the same statement (storage/persistence.py). Each
-- step of a report would otherwise take BEGIN, state, mark, COMMIT: four trips to the database
-- thread where one does.
ALTER TABLE ptb_conversations ADD COLUMN update_id INTEGER;
CREATE TRIGGER ptb_conversations_marks_insert AFTER INSERT ON ptb_conversations
WHEN NEW.update_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO updates_done(update_id) VALUES (NEW.update_id);
END;
CREATE TRIGGER ptb_conversations_marks_update AFTER UPDATE ON ptb_conversations
WHEN NEW.update_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO updates_done(update_id) VALUES (NEW.update_id);
END;
