"""Use cases: load, apply the domain rules, commit state and the messages it causes together."""
