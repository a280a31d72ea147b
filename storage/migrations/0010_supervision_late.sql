-- An assignment that was ever past a deadline it owed work on stays late: a return (退回) with a
-- new deadline or an extension granted after the fact sets what the unit is held to next, but
-- does not wash out the delay that already happened (bulletins, /stats and the export read it).
ALTER TABLE supervision_assignments ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
UPDATE supervision_assignments SET late = 1
 WHERE overdue_at IS NOT NULL OR (submitted_at IS NOT NULL AND submitted_at > due_at);
