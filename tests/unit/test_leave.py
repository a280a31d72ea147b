"""Leave rules: typed dates, the period checks, the holiday calendar, return day, approval chains."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import LeavePolicy
from bot.domain import cron
from bot.domain.holidays import STATE_COUNCIL as CAL
from bot.domain.holidays import HolidayCalendar
from bot.domain.leave import (
    Approver,
    DayPoint,
    Decision,
    LeaveDraft,
    LeaveInputError,
    approval_chain_for,
    back_deadlines,
    check_period,
    check_start,
    departed,
    holiday_names,
    is_workday,
    last_day,
    overlaps,
    parse_day,
    parse_selector,
    return_day,
    select,
    statutory_holidays,
    step_outcome,
    with_standins,
)
from bot.domain.members import Member, Role

BJ = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=BJ).astimezone(UTC)
CHAINS = LeavePolicy().chains


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ).astimezone(UTC)  # type: ignore[misc]


def member(id_: int, unit: str, *roles: str, active: bool = True) -> Member:
    return Member(id_, 10000 + id_, f"m{id_}", unit, frozenset(Role(r) for r in roles), active)


# --- typed dates ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("今天", DayPoint(MONDAY)),
    ("明天", DayPoint(date(2026, 11, 24))),
    ("后天下午", DayPoint(date(2026, 11, 25), "pm")),
    ("11-25", DayPoint(date(2026, 11, 25))),
    ("11-25 下午", DayPoint(date(2026, 11, 25), "pm")),
    ("11-27 上午", DayPoint(date(2026, 11, 27), "am")),
    ("2026-12-01", DayPoint(date(2026, 12, 1))),
    ("12月1日 14:30", DayPoint(date(2026, 12, 1), at=time(14, 30))),
    ("１２－０１", DayPoint(date(2026, 12, 1))),  # full-width digits from a Chinese keyboard
    ("01-05", DayPoint(date(2027, 1, 5))),  # early January typed in late November is next year
])
def test_parse_day(text: str, expected: DayPoint) -> None:
    assert parse_day(text, MONDAY) == expected


@pytest.mark.parametrize("text", ["下周吧", "13-45", "02-30 ", "2026-02-30", "11-25 25:00", "", "11-25 晚上"])
def test_parse_day_refuses(text: str) -> None:
    with pytest.raises(LeaveInputError) as err:
        parse_day(text, MONDAY)
    assert err.value.code == "bad_date"


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "2029-01-01"])
def test_parse_day_refuses_years_far_off(text: str) -> None:
    """9999-12-31 once overflowed the end-of-day arithmetic (an OverflowError, not an answer)."""
    with pytest.raises(LeaveInputError) as err:
        parse_day(text, MONDAY).end(ZoneInfo("Asia/Shanghai"))
    assert err.value.code == "year_out_of_range"


def test_day_point_bounds() -> None:
    day = DayPoint(date(2026, 11, 25))
    assert day.start(BJ) == bj(2026, 11, 25, 0, 0)
    assert day.end(BJ) == bj(2026, 11, 26, 0, 0)
    assert DayPoint(day.day, "pm").start(BJ) == bj(2026, 11, 25, 12, 0)
    assert DayPoint(day.day, "am").end(BJ) == bj(2026, 11, 25, 12, 0)
    assert DayPoint(day.day, at=time(9, 30)).end(BJ) == bj(2026, 11, 25, 9, 30)
    assert last_day(bj(2026, 11, 26, 0, 0), BJ) == date(2026, 11, 25)
    assert last_day(bj(2026, 11, 25, 12, 0), BJ) == date(2026, 11, 25)


# --- period checks ------------------------------------------------------------------------


def _check(kind: str, start: datetime, end: datetime) -> None:
    check_period(kind, start, end, NOW, BJ, sick_grace=timedelta(days=3), max_days=60)


def test_period_rules() -> None:
    _check("personal", bj(2026, 11, 23, 0, 0), bj(2026, 11, 24, 0, 0))  # today counts as in advance
    with pytest.raises(LeaveInputError) as err:
        _check("personal", bj(2026, 11, 25, 0, 0), bj(2026, 11, 25, 0, 0))
    assert err.value.code == "end_before_start"
    with pytest.raises(LeaveInputError) as err:
        _check("personal", bj(2026, 11, 20, 0, 0), bj(2026, 11, 24, 0, 0))
    assert err.value.code == "start_past"
    with pytest.raises(LeaveInputError) as err:
        _check("annual", bj(2026, 12, 1, 0, 0), bj(2027, 2, 1, 0, 0))
    assert err.value.code == "too_long" and err.value.kw == {"days": 60}


def test_sick_leave_after_the_fact_within_grace() -> None:
    check_start("sick", bj(2026, 11, 20, 0, 0), NOW, BJ, sick_grace=timedelta(days=3))
    with pytest.raises(LeaveInputError) as err:
        check_start("sick", bj(2026, 11, 19, 0, 0), NOW, BJ, sick_grace=timedelta(days=3))
    assert err.value.code == "sick_too_old"


def test_overlaps_is_half_open() -> None:
    a = (bj(2026, 11, 24, 0, 0), bj(2026, 11, 26, 0, 0))
    assert overlaps(*a, bj(2026, 11, 25, 12, 0), bj(2026, 11, 28, 0, 0))
    assert not overlaps(*a, bj(2026, 11, 26, 0, 0), bj(2026, 11, 27, 0, 0))  # back-to-back is fine


# --- the holiday calendar (chinese-calendar) --------------------------------------------


def test_statutory_holidays_from_the_calendar() -> None:
    days = statutory_holidays(date(2026, 9, 30), date(2026, 10, 4), CAL)
    assert [d for d, _ in days] == [date(2026, 10, d) for d in range(1, 5)]
    assert {n for _, n in days} == {"National Day"}
    assert holiday_names(date(2026, 9, 28), date(2026, 10, 11), CAL) == ["National Day"]
    # ordinary weekends are not statutory holidays
    assert statutory_holidays(date(2026, 11, 28), date(2026, 11, 29), CAL) == []
    assert "Spring Festival" in holiday_names(date(2026, 2, 14), date(2026, 2, 20), CAL)


def test_workdays_include_make_up_days() -> None:
    assert is_workday(date(2026, 11, 23), CAL)  # Monday
    assert not is_workday(date(2026, 11, 28), CAL)  # Saturday
    assert not is_workday(date(2026, 10, 5), CAL)  # National Day week, a Monday
    assert is_workday(date(2026, 10, 10), CAL)  # Saturday made a working day (调休上班)


# entries as an office types them from a yearly notice the package does not have (dates illustrative)
ENTERED = HolidayCalendar([("元旦", date(2027, 1, 1), date(2027, 1, 3)), ("春节", date(2027, 2, 5), date(2027, 2, 11))],
                          [date(2027, 2, 14)])


def test_a_year_the_package_lacks_is_unknown_until_entered() -> None:
    assert CAL.day(date(2027, 1, 1)) is None
    assert not CAL.covers(2027) and CAL.covers(2026)
    assert statutory_holidays(date(2026, 12, 30), date(2027, 1, 3), CAL) == []  # the rule cannot see 元旦 2027
    assert is_workday(date(2027, 1, 1), CAL)  # falls back to Monday–Friday (a Friday)
    assert CAL.missing_years(date(2026, 11, 23), timedelta(days=60)) == [2027]
    assert CAL.missing_years(date(2026, 10, 1), timedelta(days=60)) == []


def test_entered_notice_describes_its_year_whole() -> None:
    assert ENTERED.covers(2027) and ENTERED.missing_years(date(2026, 11, 23), timedelta(days=60)) == []
    assert holiday_names(date(2026, 12, 31), date(2027, 2, 28), ENTERED) == ["New Year's Day", "Spring Festival"]
    assert [d for d, _ in statutory_holidays(date(2026, 12, 30), date(2027, 1, 5), ENTERED)] == [
        date(2027, 1, d) for d in (1, 2, 3)]
    assert not is_workday(date(2027, 1, 1), ENTERED)  # a Friday entered as a day off
    assert is_workday(date(2027, 2, 14), ENTERED)  # a Sunday entered as 调休上班
    assert not is_workday(date(2027, 3, 6), ENTERED)  # an ordinary Saturday of the entered year
    assert is_workday(date(2027, 3, 8), ENTERED)
    assert ENTERED.day(date(2026, 10, 1)) == (True, "National Day")  # years the package has are untouched
    # back on the first working day after the Spring Festival week
    assert return_day(bj(2027, 2, 5, 0, 0), BJ, ENTERED) == date(2027, 2, 12)
    assert return_day(bj(2027, 2, 5, 0, 0), BJ, CAL) == date(2027, 2, 5)


def test_unknown_holiday_names_are_kept_as_written() -> None:
    cal = HolidayCalendar([("抗战胜利纪念日", date(2027, 9, 3), date(2027, 9, 3))])
    assert cal.day(date(2027, 9, 3)) == (True, "抗战胜利纪念日")


def test_departed_for_the_holiday_rule() -> None:
    now = bj(2026, 9, 30, 10, 0)
    assert not departed(bj(2026, 9, 30, 0, 0), now, BJ)  # a whole-day start: today is still in time
    assert departed(bj(2026, 9, 29, 0, 0), now, BJ)
    assert departed(bj(2026, 9, 30, 8, 0), now, BJ)  # a start with a time: that moment
    assert not departed(bj(2026, 9, 30, 12, 0), now, BJ)


# --- report back ----------------------------------------------------------------------------


def test_return_day_skips_weekends_and_holidays() -> None:
    assert return_day(bj(2026, 11, 26, 0, 0), BJ, CAL) == date(2026, 11, 26)  # to Wed → back Thu
    assert return_day(bj(2026, 11, 28, 0, 0), BJ, CAL) == date(2026, 11, 30)  # to Fri → back Mon
    assert return_day(bj(2026, 11, 25, 12, 0), BJ, CAL) == date(2026, 11, 25)  # to Wed morning → Wed
    assert return_day(bj(2026, 10, 1, 0, 0), BJ, CAL) == date(2026, 10, 8)  # to 9-30 → after National Day
    assert return_day(bj(2026, 10, 10, 0, 0), BJ, CAL) == date(2026, 10, 10)  # to Fri 10-09 → the make-up Saturday


NINE = cron.parse("0 9 * * *")  # [leave] back_remind_at


def test_back_deadlines() -> None:
    remind, due = back_deadlines(bj(2026, 11, 26, 0, 0), BJ, NINE, timedelta(hours=9), CAL)
    assert remind == bj(2026, 11, 26, 9, 0)
    assert due == bj(2026, 11, 27, 9, 0)  # the end of the return day + grace
    remind, _ = back_deadlines(bj(2026, 11, 25, 12, 0), BJ, NINE, timedelta(hours=9), CAL)
    assert remind == bj(2026, 11, 25, 12, 0)  # never before the leave has ended


def test_back_deadlines_of_leave_approved_after_its_return_day() -> None:
    """A sick leave (Mon–Tue) asked for afterwards and approved on Friday 15:00: not overdue at once,
    reminded at approval, alerted only after the same grace (Saturday 09:00)."""
    approved = bj(2026, 11, 27, 15, 0)
    remind, due = back_deadlines(bj(2026, 11, 25, 0, 0), BJ, NINE, timedelta(hours=9), CAL, approved)
    assert remind == approved and due == bj(2026, 11, 28, 9, 0)
    # approved before the leave: nothing changes
    early = back_deadlines(bj(2026, 11, 26, 0, 0), BJ, NINE, timedelta(hours=9), CAL,
                           bj(2026, 11, 20, 10, 0))
    assert early == (bj(2026, 11, 26, 9, 0), bj(2026, 11, 27, 9, 0))


# --- approval chains ----------------------------------------------------------------------------


def test_parse_selector() -> None:
    assert parse_selector("role:director@zhengfu").unit == "zhengfu"
    assert parse_selector("post:district_head").kind == "post"
    assert parse_selector("member:12").value == "12"
    for bad in ("member:x", "post:a@b", "boss", "role:"):
        with pytest.raises(ValueError):
            parse_selector(bad)


@pytest.mark.parametrize(("who", "chain"), [
    (member(1, "jianshelu", "unit_chief"), "unit_chiefs"),  # 街道办事处主任
    (member(2, "jiaoti", "unit_chief"), "unit_chiefs"),  # 局长
    (member(9, "jianshelu", "unit_head"), "unit_office_heads"),  # 街道党政办主任 → the unit's chief
    (member(10, "jiaoti", "unit_head"), "unit_office_heads"),
    (member(3, "renda", "leader"), "renda"),
    (member(4, "zhengfu", "leader"), "zhengfu"),
    (member(5, "zhengxie", "leader"), "zhengxie"),
    (member(6, "quwei", "leader"), "committee"),
    (member(7, "jianshelu", "officer"), "staff"),
    (member(8, "zhengfu", "director"), "staff"),
])
def test_chain_by_role_and_body(who: Member, chain: str) -> None:
    kinds = {"jianshelu": "street", "jiaoti": "bureau"}
    found = approval_chain_for(who, kinds.get(who.unit_code, "body"), CHAINS)
    assert found is not None and found.name == chain


def test_select_resolves_roles_units_and_posts() -> None:
    people = [member(1, "jianshelu", "unit_head"), member(2, "jianshelu", "officer"),
              member(3, "zhengfu", "director"), member(4, "zhengfu", "leader"),
              member(5, "office", "director", active=False)]
    posts = {"district_head": (4,)}
    assert [m.id for m in select(["role:director@zhengfu", "post:district_head"], "x", people, posts)] == [3, 4]
    assert [m.id for m in select(["role:unit_head@own"], "jianshelu", people, posts)] == [1]
    assert [m.id for m in select(["role:director"], "x", people, posts)] == [3]  # the inactive one is not asked
    assert select(["role:director@office", "member:99"], "x", people, posts) == []


def test_with_standins() -> None:
    people = [member(1, "a", "leader"), member(2, "a", "leader"), member(3, "a", "leader")]
    away = {1: 5, 2: None}
    assert with_standins(people, away) == [Approver(5, 1), Approver(3)]
    assert with_standins(people, away, exclude=[5]) == [Approver(3)]  # the requester does not approve
    assert with_standins(people[:1], {1: 2, 2: None}) == []  # a stand-in on leave too


def test_step_outcome() -> None:
    assert step_outcome("any", [None, None]) is None
    assert step_outcome("any", [None, "approved"]) is Decision.APPROVED
    assert step_outcome("any", ["refused", None]) is Decision.REFUSED
    assert step_outcome("all", ["approved", None]) is None
    assert step_outcome("all", ["approved", "approved"]) is Decision.APPROVED
    assert step_outcome("all", ["approved", "refused"]) is Decision.REFUSED


def test_draft_round_trip() -> None:
    draft = LeaveDraft(kind="sick", start_at=bj(2026, 11, 24, 0, 0).isoformat(),
                       end_at=bj(2026, 11, 25, 0, 0).isoformat(), destination="家中", leaves_city=False, reason="发烧")
    assert not draft.complete()  # the stand-in question is still open
    draft.standin_chosen = True
    again = LeaveDraft.from_dict({**draft.to_dict(), "unknown": 1})
    assert again == draft and again.complete()
    assert again.start == bj(2026, 11, 24, 0, 0)
