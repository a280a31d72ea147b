"""[general] database: a SQLite file or a PostgreSQL address, never with its password in the file."""

from __future__ import annotations

import pytest

from bot import config as cfg


def _load(database: str) -> cfg.Config:
    return cfg.loads(f'[general]\ndatabase = "{database}"\n', "<test>")


@pytest.mark.parametrize("database", [
    "dutydesk.sqlite3", "/srv/dutydesk/desk.sqlite3", "postgresql://dutydesk@10.0.0.5:5432/dutydesk",
    "postgres://dutydesk@db/dutydesk?search_path=zhongyuan",
])
def test_accepted(database: str) -> None:
    c = _load(database)
    assert c.database_target.endswith(database.rsplit("/", 1)[-1])
    assert (c.database_url is not None) == database.startswith("postgres")


@pytest.mark.parametrize(("database", "says"), [
    ("postgresql://dutydesk:s3cret@10.0.0.5/dutydesk", "DUTYDESK_DATABASE_PASSWORD"),
    ("postgresql://dutydesk@10.0.0.5/dutydesk?password=s3cret", "DUTYDESK_DATABASE_PASSWORD"),
    ("postgresql://dutydesk@10.0.0.5/dutydesk?search_path=a;drop", "plain schema name"),
    ("postgresql://dutydesk@10.0.0.5:99999/dutydesk", "bad PostgreSQL address"),
    ("postgresql:///dutydesk", "names no server"),
    ("mysql://root@localhost/desk", "only postgresql://"),
    ("  ", "is empty"),
])
def test_refused_with_the_reason(database: str, says: str) -> None:
    with pytest.raises(cfg.ConfigError) as err:
        _load(database)
    assert says in str(err.value)
    assert "s3cret" not in str(err.value)
