-- The message that asked the question a dialogue step waits on, written with the step (the same
-- statement). A message the person sent before it (an older id: Telegram numbers a chat's
-- messages in the order they arrive) was typed before that question was on their screen, and is
-- never taken as its answer (handlers/answers.py).
ALTER TABLE ptb_conversations ADD COLUMN asked_message_id INTEGER;
