-- Channels besides Telegram (issue 25).
-- A member's phone number, for SMS: set by admins only, never shown to anyone else.
ALTER TABLE members ADD COLUMN phone TEXT;

-- Messages to group robots (DingTalk, WeCom, Feishu) and SMS, written in the transaction of the
-- event that causes them and sent by bot/channels/sender.py, like the Telegram outbox. One row per
-- recipient (a robot, or a member by SMS) and thing: the UNIQUE key keeps a message that several
-- paths ask for (an escalation step, a failover) from going twice on the same channel.
CREATE TABLE channel_outbox (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,               -- robot | sms
    target      TEXT NOT NULL,               -- the robot's name, or member:<id>
    member_id   INTEGER REFERENCES members(id),
    ref_kind    TEXT NOT NULL DEFAULT '',
    ref_id      INTEGER NOT NULL DEFAULT 0,
    tag         TEXT NOT NULL DEFAULT '',
    payload     TEXT NOT NULL,               -- {"title": …, "text": …, "number": …}
    status      TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  REAL NOT NULL DEFAULT 0,     -- epoch seconds of the bot's clock
    error       TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    UNIQUE (channel, target, ref_kind, ref_id, tag)
);
CREATE INDEX channel_outbox_pending ON channel_outbox(id) WHERE status = 'pending';
CREATE INDEX channel_outbox_ref ON channel_outbox(ref_kind, ref_id);
