"""The rules of the office, as plain Python: no Telegram, no database."""
