"""Casualty figures: deaths / injured / missing, each possibly not known yet."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain import parse

UNKNOWN_WORDS = ("暂不清楚", "不清楚", "未知", "待核实", "unknown", "?", "？")
NONE_WORDS = ("无", "无伤亡", "没有", "none", "0/0/0")
_LABELLED = re.compile(r"(死亡|亡|死|受伤|伤|失踪|失联)\s*[:：]?\s*(\d+|\?|？)\s*人?", re.ASCII)
_SLASHED = re.compile(r"^(\d+|\?)\s*[/,，、 ]\s*(\d+|\?)\s*[/,，、 ]\s*(\d+|\?)$", re.ASCII)
MAX_COUNT = parse.MAX_COUNT


class CasualtyInputError(ValueError):
    pass


@dataclass(frozen=True)
class Casualties:
    deaths: int | None = None
    injured: int | None = None
    missing: int | None = None

    @property
    def known(self) -> bool:
        return None not in (self.deaths, self.injured, self.missing)

    @property
    def any_known(self) -> bool:
        return any(v is not None for v in (self.deaths, self.injured, self.missing))

    @property
    def major(self) -> bool:
        return bool(self.deaths) or bool(self.missing)


UNKNOWN = Casualties()
NONE = Casualties(0, 0, 0)


def _num(s: str) -> int | None:
    if s in ("?", "？"):
        return None
    n = parse.count(s)
    if n is None:
        raise CasualtyInputError(s)
    return n


def parse_casualties(text: str) -> Casualties:
    """`死亡1 受伤3 失踪0`, `1/3/0`, `无`, `暂不清楚`; unnamed parts of a labelled form stay unknown."""
    s = parse.normalise(text).lower()
    if s in UNKNOWN_WORDS:
        return UNKNOWN
    if s in NONE_WORDS:
        return NONE
    if m := _SLASHED.match(s):
        return Casualties(_num(m.group(1)), _num(m.group(2)), _num(m.group(3)))
    found = _LABELLED.findall(s)
    if found:
        # Everything must be consumed by labels, so "死亡1 火很大" is not half-read.
        rest = _LABELLED.sub("", s)
        if re.sub(r"[\s,，、;；。.]", "", rest):
            raise CasualtyInputError(text)
        values: dict[str, int | None] = {}
        for label, num in found:
            field = "deaths" if label in ("死亡", "亡", "死") else "injured" if label in ("受伤", "伤") else "missing"
            values[field] = _num(num)
        return Casualties(**values)
    raise CasualtyInputError(text)


def is_lone_number(text: str) -> bool:
    """Digits and nothing else (fullwidth too, not ²): the deaths, the other figures to be asked."""
    return re.fullmatch(r"\d+", parse.normalise(text), re.ASCII) is not None


def parse_count(text: str) -> int | None:
    """One number asked on its own; 暂不清楚 → None; anything else but a count raises."""
    s = parse.normalise(text).rstrip("人").strip()
    if s in UNKNOWN_WORDS:
        return None
    return _num(s)
