"""The duty room puts an event on record (代报 / 登记): where the office learnt of it, and what
that means for the unit.

A phone call from the unit is the unit's first report, made at the time of the call (the
commitment's first report is a phone call: 口头报告). Any other source — the 12345 hotline, the
media, a higher office, the public — means the unit has *not* reported: it is 未报, it owes every
stage, counted from when it learnt of the event or, while it has not said, from when the office
learnt of it. Whether that was concealment (瞒报) is a director's judgement, never automatic.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain import parse


class Source(StrEnum):
    UNIT = "unit"  # the unit's own /report from a phone
    PHONE = "phone"  # 单位电话报告
    HOTLINE = "hotline"  # 12345热线
    MEDIA = "media"  # 媒体/网络
    SUPERIOR = "superior"  # 上级通报
    PUBLIC = "public"  # 群众反映
    OTHER = "other"  # 其他


# What the duty room can choose when it puts an event on record, in menu order.
RECORD_SOURCES: tuple[Source, ...] = (Source.PHONE, Source.HOTLINE, Source.MEDIA, Source.SUPERIOR, Source.PUBLIC,
                                      Source.OTHER)


def parse_source(value: str) -> Source | None:
    try:
        source = Source(value)
    except ValueError:
        return None
    return source if source in RECORD_SOURCES else None


def unit_reported(source: str) -> bool:
    """Did the unit itself report the event (its own /report, or its phone call to the duty room)?"""
    return source in (Source.UNIT, Source.PHONE)


def first_report_at(source: str, office_learnt_at: datetime) -> datetime | None:
    """When a recorded event counts as the unit's first report: the call, for a phone report;
    otherwise not at all (the unit still owes it)."""
    return office_learnt_at if source == Source.PHONE else None


# --- phone numbers -----------------------------------------------------------------------

MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0[12]\d{9}|0[3-9]\d{9,10}")  # area code (010, 02x: three digits; else four) + number
LOCAL = re.compile(r"[2-9]\d{6,7}")  # a local number without the area code
SERVICE = re.compile(r"1(10|19|20|22|23\d\d)")  # 110, 119, 120, 122, 12345, 12315 …
_SEPARATORS = re.compile(r"[\s\-－—–()（）.·]")
_EXTENSION = re.compile(r"(?:转|ext\.?|x|#)(\d{1,6})$", re.IGNORECASE | re.ASCII)


def parse_phone(text: str) -> str | None:
    """A caller's phone number as the office writes it, or None if it is not one.

    Mobile (138 0000 0000, +86 138…), landline with area code (0371-6789 1234, 转 801),
    a local 7–8 digit number, or a service number (12345). Digits as bot/domain/parse.py reads them:
    full-width digits are digits, ² or ① are not (a number with one is refused); separators are dropped."""
    s = parse.normalise(text)
    ext = ""
    m = _EXTENSION.search(s)
    if m:
        ext, s = m.group(1), s[:m.start()]
    s = _SEPARATORS.sub("", s)
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    if not s.isascii() or not s.isdigit():
        return None
    if MOBILE.fullmatch(s) and not ext:
        return f"{s[:3]} {s[3:7]} {s[7:]}"
    if LANDLINE.fullmatch(s):
        area = 3 if s[1] in "12" else 4  # 010, 02x: three digits; elsewhere four (0371)
        number = f"{s[:area]}-{s[area:]}"
        return f"{number} 转{ext}" if ext else number
    if LOCAL.fullmatch(s):
        return f"{s} 转{ext}" if ext else s
    if SERVICE.fullmatch(s) and not ext:
        return s
    return None


# --- which unit ------------------------------------------------------------------------


def match_unit(text: str, units: Sequence[tuple[str, str]]) -> str | None:
    """The code of the unit typed as its code or name (or a part of the name that names one
    unit only: 建设路 → 建设路街道); None when nothing or more than one unit fits."""
    s = unicodedata.normalize("NFKC", text).strip().lower()
    if not s:
        return None
    for code, name in units:
        if s in (code.lower(), unicodedata.normalize("NFKC", name).lower()):
            return code
    found = [code for code, name in units if s in unicodedata.normalize("NFKC", name).lower()]
    return found[0] if len(found) == 1 else None


# --- times -----------------------------------------------------------------------------


class RecordTimeProblem(StrEnum):
    """Catalog key suffixes (record.time_…)."""

    OFFICE_BEFORE_OCCURRED = "office_before_occurred"  # the office cannot learn of it before it happened
    LEARNT_AFTER_CALL = "learnt_after_call"  # the unit called about it before it knew of it?


# Times are answered to the minute, one after the other ("刚刚" for the call, then "刚刚" for the
# event a few seconds later): within this slack they are the same moment, not a contradiction.
ANSWER_SLACK = timedelta(minutes=2)


def record_time_problem(source: str, occurred_at: datetime, learnt_at: datetime | None,
                        office_learnt_at: datetime) -> RecordTimeProblem | None:
    """What is impossible about the times of a recorded event, if anything."""
    if office_learnt_at < occurred_at - ANSWER_SLACK:
        return RecordTimeProblem.OFFICE_BEFORE_OCCURRED
    if source == Source.PHONE and learnt_at is not None and learnt_at > office_learnt_at + ANSWER_SLACK:
        return RecordTimeProblem.LEARNT_AFTER_CALL
    return None


def office_time(occurred_at: datetime, learnt_at: datetime | None, office_learnt_at: datetime) -> datetime:
    """The office's time of learning, never before the event or the unit's own learning it
    reported (answers within ANSWER_SLACK of each other are taken as the same moment)."""
    return max(office_learnt_at, occurred_at, learnt_at or occurred_at)


def deadline_base(source: str, occurred_at: datetime, unit_learnt_at: datetime | None,
                  office_learnt_at: datetime) -> datetime:
    """Where the unit's deadlines count from: when it learnt of the event, as it said (or, for a
    phone report, as the caller said: by default when it happened); if it has not said, the
    office's own time of learning."""
    if unit_learnt_at is not None:
        return unit_learnt_at
    return occurred_at if source == Source.PHONE else office_learnt_at


@dataclass(frozen=True)
class UnreportedGap:
    """未报: how long the unit knew of the event (or, while it has not said, how long the event
    had been going on) before the office learnt of it elsewhere; and how long after that the
    unit reported (None while it has not)."""

    before_office: timedelta
    after_office: timedelta | None


def unreported_gap(occurred_at: datetime, office_learnt_at: datetime, unit_learnt_at: datetime | None,
                   unit_reported_at: datetime | None) -> UnreportedGap:
    since = unit_learnt_at if unit_learnt_at is not None else occurred_at
    before = max(timedelta(0), office_learnt_at - since)
    after = None if unit_reported_at is None else max(timedelta(0), unit_reported_at - office_learnt_at)
    return UnreportedGap(before, after)
