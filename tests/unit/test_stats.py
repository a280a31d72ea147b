"""Statistics rules: periods, stage states, per-unit figures from plain rows, the chart font."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain import stats as st

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 Beijing


def bj(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(("arg", "first", "last"), [
    ("", date(2026, 11, 1), date(2026, 11, 23)),
    ("month", date(2026, 11, 1), date(2026, 11, 23)),
    ("week", date(2026, 11, 23), date(2026, 11, 23)),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("2025-12", date(2025, 12, 1), date(2025, 12, 31)),
    ("2026-11-01..2026-11-15", date(2026, 11, 1), date(2026, 11, 15)),
    # The forms parse.year_month and parse.DATE read, as /infostats does: a bare month is this year's
    # (or last year's, when not reached yet); fullwidth digits are digits.
    ("11", date(2026, 11, 1), date(2026, 11, 30)),
    ("2026年2月", date(2026, 2, 1), date(2026, 2, 28)),
    ("２０２６－０２", date(2026, 2, 1), date(2026, 2, 28)),
    ("11-01..11-15", date(2026, 11, 1), date(2026, 11, 15)),
    ("2025-12-20..01-05", date(2025, 12, 20), date(2026, 1, 5)),
])
def test_parse_period(arg: str, first: date, last: date) -> None:
    p = st.parse_period(arg, NOW, TZ)
    assert p is not None and (p.first, p.last) == (first, last)
    assert p.start == datetime.combine(first, datetime.min.time(), TZ)
    assert p.end - timedelta(days=1) == datetime.combine(last, datetime.min.time(), TZ)


@pytest.mark.parametrize("arg", ["2026-13", "year", "2026-11-15..2026-11-01", "2026-02-30..2026-03-01", "13",
                                 "0000-01", "9999-12", "0001-01-01..0001-01-02", "²", "2026-①", "2026-²",
                                 "99999999999999999999", "-1", "2027-02-29..2027-03-01"])
def test_parse_period_rejects(arg: str) -> None:
    assert st.parse_period(arg, NOW, TZ) is None


def test_period_edges_are_beijing_midnight() -> None:
    p = st.parse_period("2026-11", NOW, TZ)
    assert p is not None
    assert p.holds(bj(1, 0, 0)) and not p.holds(bj(1, 0) - timedelta(seconds=1))
    assert not p.holds(datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # 12-01 00:00 Beijing


def test_stage_status() -> None:
    due = bj(23, 9)
    assert st.stage_status(st.StageRow(1, "first", due, due, False), NOW) == "on_time"
    assert st.stage_status(st.StageRow(1, "first", due, due + timedelta(seconds=1), False), NOW) == "late"
    assert st.stage_status(st.StageRow(1, "first", due, None, True), NOW) == "missed"
    assert st.stage_status(st.StageRow(1, "first", due, None, False), NOW) == "late"  # overdue, still unfiled
    assert st.stage_status(st.StageRow(1, "full", bj(23, 12), None, False), NOW) == "pending"


def test_compute_per_unit_figures() -> None:
    period = st.parse_period("month", NOW, TZ)
    assert period is not None
    incidents = [
        st.IncidentRow(1, "2026-0001", "a", "fire", bj(20, 8, 10), bj(20, 8), bj(20, 8, 18), "closed"),
        st.IncidentRow(2, "2026-0002", "a", "traffic", bj(21, 9, 30), bj(21, 9), None, "open"),
        st.IncidentRow(3, "2026-0003", "b", "fire", bj(22, 9), bj(22, 9), bj(22, 9, 4), "open"),
        st.IncidentRow(4, "2025-0100", "a", "fire", bj(1, 0) - timedelta(hours=1), bj(1, 0), None, "closed"),
    ]
    stages = [
        st.StageRow(1, "first", bj(20, 9), bj(20, 8, 10), False),
        st.StageRow(1, "written", bj(20, 10), bj(20, 10, 30), False),
        st.StageRow(1, "full", bj(20, 11), None, True),
        st.StageRow(2, "first", bj(21, 10), bj(21, 9, 30), False),
        st.StageRow(3, "first", bj(22, 10), bj(22, 9), False),
        st.StageRow(4, "first", bj(1, 1), None, True),  # an incident of last month: not counted
    ]
    leave = [st.LeaveRow("a", bj(20, 0), bj(23, 0), "approved", True),
             st.LeaveRow("a", datetime(2026, 10, 30, tzinfo=TZ), bj(2, 0), "approved", False),
             st.LeaveRow("b", bj(20, 0), bj(23, 0), "refused", False)]
    receipts = [st.ReceiptRow("a", bj(20, 8), bj(20, 8, 20)), st.ReceiptRow("a", bj(20, 8), bj(20, 8, 40)),
                st.ReceiptRow("a", bj(20, 8), None), st.ReceiptRow("b", datetime(2026, 10, 1, tzinfo=TZ), None)]
    tasks = [st.TaskRow("b", bj(10, 18), "done", bj(9, 18)), st.TaskRow("b", bj(11, 18), "done", bj(12, 18)),
             st.TaskRow("b", bj(20, 18), "accepted"), st.TaskRow("b", bj(23, 18), "assigned"),
             st.TaskRow("b", bj(30, 18), "accepted")]
    info = [st.InfoRow("b", bj(3, 9), "city"), st.InfoRow("b", bj(4, 9), "instruction"),
            st.InfoRow("b", bj(5, 9), "rejected"), st.InfoRow("zz", bj(5, 9), "city")]
    a, b = st.compute(["a", "b"], period, NOW, TZ, incidents=incidents, stages=stages, leave=leave,
                      receipts=receipts, tasks=tasks, info=info)
    assert a.incidents == 2 and b.incidents == 1
    assert a.stages == {"first": {"on_time": 2}, "written": {"late": 1}, "full": {"missed": 1}}
    assert a.on_time_rate == pytest.approx(0.5)
    assert a.first_report_minutes == 20.0  # (10 + 30) / 2
    assert a.forward_minutes == 8.0 and b.forward_minutes == 4.0
    assert a.leave_days == 3 + 1 and a.away_now == 1 and b.leave_days == 0  # 20–22 Nov, and 1 Nov
    assert (a.receipts_due, a.receipts_done, a.receipt_minutes) == (3, 2, 30.0)
    assert a.receipt_rate == pytest.approx(2 / 3) and b.receipts_due == 0 and b.receipt_rate is None
    assert (b.tasks_on_time, b.tasks_overdue, b.tasks_open) == (1, 2, 1)
    assert (b.info_submitted, b.info_adopted, b.info_score) == (3, 2, 8)
    assert not a.empty and st.compute(["c"], period, NOW, TZ)[0].empty


def test_task_status_counts_from_the_submission_and_keeps_earlier_lateness() -> None:
    due, now = bj(20, 18), bj(22, 10)
    # Submitted in time, approved two days after the deadline: the director's delay is not the unit's.
    assert st.task_status(st.TaskRow("b", due, "done", bj(20, 17)), now) == "on_time"
    assert st.task_status(st.TaskRow("b", due, "submitted", bj(20, 17)), now) == "open"  # awaiting review
    assert st.task_status(st.TaskRow("b", due, "submitted", bj(20, 19)), now) == "overdue"
    # Late once, then returned with a later deadline and finished within it: still late.
    assert st.task_status(st.TaskRow("b", bj(25, 18), "done", bj(22, 9), late=True), now) == "overdue"
    assert st.task_status(st.TaskRow("b", bj(25, 18), "accepted", late=True), now) == "overdue"
    assert st.task_status(st.TaskRow("b", bj(25, 18), "accepted"), now) == "open"


def test_leave_days_clip_to_the_period() -> None:
    p = st.period_of(date(2026, 11, 1), date(2026, 11, 30), TZ)
    row = st.LeaveRow("a", bj(29, 0), datetime(2026, 12, 3, tzinfo=TZ), "approved", False)
    assert st.leave_days(row, p, TZ) == 2
    assert st.leave_days(st.LeaveRow("a", bj(5, 9), bj(5, 18), "approved", False), p, TZ) == 1


def test_chart_font_draws_every_unit_name_and_is_a_packaged_file() -> None:
    from bot.cli import example_config
    from bot.config import loads
    from bot.services.stats_chart import font_path, missing_glyphs

    cfg = loads(example_config())
    assert font_path().is_file() and font_path().suffix == ".otf"
    names = "".join(u.name for u in cfg.units)
    assert len(names) > 40
    assert missing_glyphs(names + "各单位突发事件报送及时率（%）无事件") == set()
    assert missing_glyphs("\U0001f600") == {"\U0001f600"}  # the check can fail
