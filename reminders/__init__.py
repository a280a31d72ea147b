"""Deadlines: the table is the truth; the scheduler only wakes up when the next row is due."""
