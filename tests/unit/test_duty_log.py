"""Duty log and handover rules: typed entry times, who may hand over and take over, the order of
a day's lines, every shift start a handover."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.duty_log import (
    EntryTimeError,
    Handover,
    HandoverRefusal,
    LogDraft,
    LogLine,
    may_hand,
    may_take,
    merged,
    needs_alert,
    parse_entry_time,
)
from bot.domain.roster import rules_from, shift_changes

BJ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BJ).astimezone(UTC)


@pytest.mark.parametrize(("text", "want"), [
    ("9:05", datetime(2026, 11, 24, 9, 5, tzinfo=BJ)),
    ("９：０５", datetime(2026, 11, 24, 9, 5, tzinfo=BJ)),
    ("9点", datetime(2026, 11, 24, 9, 0, tzinfo=BJ)),
    ("11-23 22:40", datetime(2026, 11, 23, 22, 40, tzinfo=BJ)),
    ("11月23日 22:40", datetime(2026, 11, 23, 22, 40, tzinfo=BJ)),
])
def test_entry_times(text: str, want: datetime) -> None:
    assert parse_entry_time(text, NOW, BJ) == want


@pytest.mark.parametrize(("text", "code"), [
    ("下午", "time_bad"), ("24:00", "time_bad"), ("13-01 09:00", "time_bad"), ("02-30 09:00", "time_bad"),
    ("10:30", "time_future"), ("11-21 09:00", "time_old"),
])
def test_bad_entry_times(text: str, code: str) -> None:
    with pytest.raises(EntryTimeError) as err:
        parse_entry_time(text, NOW, BJ)
    assert err.value.code == code


H = Handover(id=1, at=NOW, outgoing=(1, 2), incoming=(3,))


def test_only_the_shifts_own_officers_hand_over_and_take_over() -> None:
    assert may_hand(H, 1) is None and may_hand(H, 3) is HandoverRefusal.NOT_OUTGOING
    assert may_take(H, 3) is HandoverRefusal.NOT_HANDED  # 接班 waits for 交班
    handed = Handover(**{**H.__dict__, "handed_by": 1, "handed_at": NOW})
    assert may_hand(handed, 2) is HandoverRefusal.ALREADY_HANDED
    assert may_take(handed, 3) is None and may_take(handed, 1) is HandoverRefusal.NOT_INCOMING
    taken = Handover(**{**handed.__dict__, "taken_by": 3, "taken_at": NOW})
    assert may_take(taken, 3) is HandoverRefusal.ALREADY_TAKEN and not needs_alert(taken)
    first = Handover(id=2, at=NOW, outgoing=(), incoming=(3,))  # nobody before: ready to take
    assert may_take(first, 3) is None and needs_alert(first)


def test_a_days_lines_in_time_order_written_first_on_a_tie() -> None:
    a = LogLine(NOW, "call", {}, 1)
    b = LogLine(NOW, "incident", {})
    c = LogLine(datetime(2026, 11, 24, 1, 0, tzinfo=UTC), "notice", {})
    assert merged([a], [b, c]) == [c, a, b]


def test_a_handover_at_every_shift_start() -> None:
    r = rules_from(BJ, [("day", "白班", "08:30", "17:30"), ("night", "夜班", "17:30", "08:30")], ["一岗"])
    assert shift_changes(r) == [time(8, 30), time(17, 30)]
    three = rules_from(BJ, [("a", "早", "08:00", "16:00"), ("b", "中", "16:00", "00:00"),
                            ("c", "夜", "00:00", "08:00")], ["一岗"])
    assert shift_changes(three) == [time(0, 0), time(8, 0), time(16, 0)]


def test_draft_needs_kind_time_source_and_content() -> None:
    d = LogDraft(kind="call", at=NOW.isoformat(), source="x", content="y")
    assert d.complete() and LogDraft.from_dict(d.to_dict()) == d
    assert not LogDraft(kind="gossip", at=NOW.isoformat(), source="x", content="y").complete()
