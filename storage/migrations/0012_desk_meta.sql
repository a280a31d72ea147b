-- Facts about this installation learnt at run time that the command line needs without
-- reaching Telegram: the bot's username from getMe (invite links, `dutydesk invite`).
CREATE TABLE desk_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
