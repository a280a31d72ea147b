"""Channels besides Telegram: group robots and SMS, sent from the channel outbox (storage/channels.py)."""
