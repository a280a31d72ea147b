"""办文 rules: 密级 (no content or files from 机密 up, files for non-classified only), who may
拟办/批办/办结 and when (无签批不办), 电话请示 for urgent ones only, the limit by urgency, reminders,
the listing order and the counts per handler and unit."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.documents import (
    DUE,
    REMIND,
    Classification,
    DocRefusal,
    DocState,
    Document,
    Urgency,
    by_unit,
    due_for,
    listing_order,
    may_assign,
    may_attach,
    may_finish,
    may_phone,
    may_propose,
    may_sign,
    plan_reminders,
    tally,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
LIMITS = {"normal": timedelta(days=3), "urgent": timedelta(days=1), "very_urgent": timedelta(hours=4)}


def doc(**kw: object) -> Document:
    base = Document(id=1, number="2026-0001", title="t", issuer="i", doc_no="", classification=Classification.NONE,
                    urgency=Urgency.NORMAL, received_at=NOW, registered_by=1, registered_at=NOW,
                    state=DocState.REGISTERED, due_at=NOW + timedelta(days=3))
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("level", "electronic", "files", "refusal"), [
    (Classification.NONE, True, True, None),
    (Classification.SECRET, True, False, DocRefusal.FILES_UNCLASSIFIED_ONLY),
    (Classification.CONFIDENTIAL, False, False, DocRefusal.NO_FILES),
    (Classification.TOP_SECRET, False, False, DocRefusal.NO_FILES),
])
def test_classification(level: Classification, electronic: bool, files: bool, refusal: DocRefusal | None) -> None:
    assert level.electronic is electronic and level.attachments is files and may_attach(level) is refusal


def test_the_routing_in_order() -> None:
    d = doc()
    assert may_propose(d) is None and may_assign(d, 5) is DocRefusal.NOT_PROPOSED
    assert may_finish(d, 7) is DocRefusal.NOT_ASSIGNED  # 无签批不办
    proposed = dataclasses.replace(d, state=DocState.PROPOSED, leader_id=5, handler_id=7)
    assert may_propose(proposed) is DocRefusal.NOT_REGISTERED
    assert may_assign(proposed, 6) is DocRefusal.NOT_THE_LEADER and may_assign(proposed, 5) is None
    assert may_finish(proposed, 7) is DocRefusal.NOT_ASSIGNED
    assert may_phone(proposed) is DocRefusal.NOT_URGENT
    assert may_phone(dataclasses.replace(proposed, urgency=Urgency.URGENT)) is None
    assigned = dataclasses.replace(proposed, state=DocState.ASSIGNED, signed_at=NOW)
    assert may_finish(assigned, 8) is DocRefusal.NOT_THE_HANDLER and may_finish(assigned, 7) is None
    assert may_sign(assigned, 5) is DocRefusal.NOTHING_TO_SIGN
    by_phone = dataclasses.replace(assigned, signed_at=None, phone_at=NOW)
    assert may_sign(by_phone, 6) is DocRefusal.NOT_THE_LEADER and may_sign(by_phone, 5) is None
    done = dataclasses.replace(assigned, state=DocState.DONE, done_at=NOW + timedelta(days=1))
    assert may_finish(done, 7) is DocRefusal.DONE and done.late is False
    assert dataclasses.replace(done, done_at=NOW + timedelta(days=4)).late is True


def test_limit_by_urgency_and_reminders() -> None:
    assert due_for(NOW, Urgency.NORMAL, LIMITS) == NOW + timedelta(days=3)
    assert due_for(NOW, Urgency.VERY_URGENT, LIMITS) == NOW + timedelta(hours=4)
    plan = plan_reminders(NOW + timedelta(days=3), NOW, [timedelta(days=1), timedelta(hours=2)])
    assert [(k, w - NOW) for k, _s, w in plan] == [(REMIND, timedelta(days=2)), (REMIND, timedelta(days=2, hours=22)),
                                                    (DUE, timedelta(days=3))]
    short = plan_reminders(NOW + timedelta(hours=4), NOW, [timedelta(days=1), timedelta(hours=2)])
    assert [k for k, _s, _w in short] == [REMIND, DUE]  # a reminder already past is left out
    late = plan_reminders(NOW - timedelta(hours=1), NOW, [timedelta(hours=2)])
    assert late == [(DUE, "", NOW)]  # the due check at once


def test_listing_overdue_first_then_by_state() -> None:
    later = NOW + timedelta(days=5)
    a = doc(id=1, state=DocState.ASSIGNED)
    b = doc(id=2, state=DocState.REGISTERED, due_at=NOW + timedelta(days=4))
    c = doc(id=3, state=DocState.PROPOSED)
    done = doc(id=4, state=DocState.DONE)
    assert [d.id for d in listing_order([a, b, c, done], later)] == [2, 3, 1]  # all overdue: 待拟办, 待批办, 办理中
    assert [d.id for d in listing_order([a, b, c], NOW + timedelta(days=3, hours=1))] == [3, 1, 2]


def test_counts_per_handler_and_unit() -> None:
    now = NOW + timedelta(days=5)
    docs = [doc(id=1, state=DocState.DONE, handler_id=7, handler_unit="office", done_at=NOW + timedelta(days=1)),
            doc(id=2, state=DocState.DONE, handler_id=7, handler_unit="office", done_at=NOW + timedelta(days=4)),
            doc(id=3, state=DocState.ASSIGNED, handler_id=8, handler_unit="office"),
            doc(id=4, state=DocState.PROPOSED, handler_id=9, handler_unit="xushui")]  # not yet assigned: not counted
    found = tally(docs, now)
    assert [(t.handler_id, t.on_time, t.late, t.open, t.overdue) for t in found] == [(7, 1, 1, 0, 0), (8, 0, 0, 1, 1)]
    assert [(u.unit, u.handled, u.open) for u in by_unit(found)] == [("office", 2, 1)]
