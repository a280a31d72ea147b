-- When someone who is not an active member was last told, in a group, to register in a private
-- chat: at most one such line a day per person and group, however many commands they send there.
CREATE TABLE group_hints (
    chat_id     INTEGER NOT NULL,
    telegram_id INTEGER NOT NULL,
    hinted_at   TEXT NOT NULL,
    PRIMARY KEY (chat_id, telegram_id)
);
