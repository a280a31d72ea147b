"""Two people acting on the same thing at once (updates of different users now run interleaved):
one wins, the other gets the answer they would get a moment later, and nothing is recorded or
sent twice. Real services on a temp-file database; each pair runs under asyncio.gather."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot import config as cfg
from bot.cli import example_config
from bot.clock import FakeClock
from bot.domain.leave import Decision, LeaveDraft
from bot.domain.members import Member, Role
from bot.domain.notices import Audience, AudienceSpec
from bot.domain.report_draft import ReportDraft
from bot.domain.roster import DayEdit
from bot.i18n import Texts
from bot.services import incident_alerts, registration
from bot.services import incidents as incident_svc
from bot.services import leave as leave_svc
from bot.services import notices as notice_svc
from bot.services import roster as roster_svc
from bot.services.base import Services
from bot.services.errors import ServiceError
from storage import leave as leave_store
from storage import members, outbox
from storage.db import Database
from storage.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing


@dataclass
class Cast:
    officer: Member  # 建设路街道
    head1: Member  # its two unit heads: either may approve its staff's leave
    head2: Member
    dir1: Member  # office directors
    dir2: Member
    duty: Member
    admin: Member


@pytest.fixture
async def s(tmp_path: Path) -> AsyncIterator[Services]:
    db = await Database(tmp_path / "race.sqlite3").open()
    config = cfg.loads(example_config())
    async with db.tx() as conn:
        await members.sync_units(conn, config.units)
    clock = FakeClock(NOW)
    yield Services(config=config, db=db, uow=UnitOfWork(db, clock.now), clock=clock, texts=Texts("zh"))
    await db.close()


@pytest.fixture
async def cast(s: Services) -> Cast:
    async with s.uow() as tx:
        async def make(tid: int, name: str, unit: str, *roles: Role) -> Member:
            return await members.create(tx.conn, telegram_id=tid, name=name, username=None, unit_code=unit,
                                        roles=roles, now=tx.now)

        return Cast(
            officer=await make(1, "报告人", "jianshelu", Role.OFFICER),
            head1=await make(2, "主任甲", "jianshelu", Role.UNIT_HEAD),
            head2=await make(3, "主任乙", "jianshelu", Role.UNIT_HEAD),
            dir1=await make(4, "处长甲", "office", Role.DIRECTOR),
            dir2=await make(5, "处长乙", "office", Role.DIRECTOR),
            duty=await make(6, "值班员", "office", Role.DUTY),
            admin=await make(7, "管理员", "office", Role.ADMIN),
        )


async def _scalar(s: Services, sql: str, *params: object) -> int:
    row = await s.db.fetchone(sql, params)
    return int(row[0]) if row else 0


async def test_two_directors_acknowledge_one_alert_once(s: Services, cast: Cast) -> None:
    draft = ReportDraft(category="fire", occurred_at=(NOW - timedelta(minutes=30)).isoformat(), place="中原路",
                        description="仓库起火")
    inc = await incident_svc.file_first_report(s, cast.officer, draft, at=s.now())
    alerts = [r for r in await outbox.pending(s.db.read) if r.tag == incident_svc.ALERT_TAG]
    async with s.db.tx() as conn:  # delivered: an acknowledgement edits each of them
        for i, row in enumerate(alerts):
            await outbox.mark_sent(conn, row.id, 9000 + i, NOW)

    outcomes = await asyncio.gather(incident_alerts.acknowledge(s, cast.dir1, inc.id, at=s.now()),
                                    incident_alerts.acknowledge(s, cast.dir2, inc.id, at=s.now()))

    assert sorted(o.first for o in outcomes) == [False, True]
    winner = cast.dir1 if outcomes[0].first else cast.dir2
    loser_text = next(o.text for o in outcomes if not o.first)
    assert winner.name in loser_text  # "处长甲 已于 … 确认收到": who won, not a second success
    assert await _scalar(s, "SELECT acked_by FROM incidents WHERE id=?", inc.id) == winner.id
    assert await _scalar(s, "SELECT count(*) FROM incident_events WHERE incident_id=? AND kind='acked'", inc.id) == 1
    # One refresh of the delivered alerts, not two.
    assert await _scalar(s, "SELECT count(*) FROM outbox WHERE tag='alert_edit'") == len(alerts) > 0


async def _leave_request(s: Services, cast: Cast) -> int:
    start = NOW + timedelta(days=2)
    draft = LeaveDraft(kind="personal", start_at=start.isoformat(), end_at=(start + timedelta(days=1)).isoformat(),
                       destination="郑州", leaves_city=False, reason="家事", standin_chosen=True)
    req = await leave_svc.submit(s, cast.officer, draft, at=s.now())
    assert req.pending and req.chain == "staff"  # one step: either unit head decides it
    return req.id


async def test_two_approvers_decide_the_same_step_once(s: Services, cast: Cast) -> None:
    req_id = await _leave_request(s, cast)
    cards = [r for r in await outbox.pending(s.db.read) if r.tag == f"{leave_svc.ASK_TAG}0"]
    async with s.db.tx() as conn:  # delivered: the decision edits both approvers' cards
        for i, row in enumerate(cards):
            await outbox.mark_sent(conn, row.id, 9000 + i, NOW)
    # Both pressed 批准/不批准 on their own card: both pass the early check on committed rows.
    for head in (cast.head1, cast.head2):
        await leave_svc.check_can_decide(s, head, req_id)

    results = await asyncio.gather(leave_svc.decide(s, cast.head1, req_id, Decision.APPROVED, None),
                                   leave_svc.decide(s, cast.head2, req_id, Decision.REFUSED, "不同意"),
                                   return_exceptions=True)

    errors = [r for r in results if isinstance(r, ServiceError)]
    assert len(errors) == 1 and sum(isinstance(r, str) for r in results) == 1, results
    final = await leave_store.get(s.db.read, req_id)
    assert final is not None and not final.pending
    # The loser hears the request's real outcome, as they would a moment later — not "审批中".
    assert errors[0].key == "leave.err_already_decided"
    assert errors[0].kw["status"] == s.texts(f"leave.status.{final.status}")
    decided = [a for a in await leave_store.approvers(s.db.read, req_id) if a.decision is not None]
    assert len(decided) == 1
    assert await _scalar(s, "SELECT count(*) FROM outbox WHERE ref_kind='leave' AND tag='result'") == 1
    assert await _scalar(s, "SELECT count(*) FROM outbox WHERE ref_kind='leave' AND tag='card_edit'") == len(cards) == 2
    finals = await _scalar(s, "SELECT count(*) FROM leave_events WHERE request_id=? AND kind IN "
                             "('approved_final', 'refused_final')", req_id)
    assert finals == 1


async def test_two_people_chase_one_notice_once(s: Services, cast: Cast) -> None:
    draft = notice_svc.NoticeDraft(title="防汛值班", body="请各单位落实", audience=AudienceSpec(Audience.UNITS,
                                                                                       units=("jianshelu",)))
    n = await notice_svc.send_notice(s, cast.dir1, draft)

    results = await asyncio.gather(notice_svc.resend_to_pending(s, cast.dir1, n.id),
                                   notice_svc.resend_to_pending(s, cast.dir2, n.id), return_exceptions=True)

    sent = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert len(sent) == 1 and len(refused) == 1 and refused[0].key == "notice.resend_too_soon", results
    assert await _scalar(s, "SELECT count(*) FROM outbox WHERE ref_kind='notice' AND tag=?", notice_svc.RESENT) \
        == sent[0] == 3  # the officer and both heads, once each
    assert await _scalar(s, "SELECT max(reminded) FROM notice_recipients WHERE notice_id=?", n.id) == 1


async def test_a_member_deactivated_meanwhile_is_not_rostered(s: Services, cast: Cast) -> None:
    day = date(2026, 11, 24)
    edit = DayEdit(day, "day", (cast.duty.name,))
    results = await asyncio.gather(registration.set_active(s, cast.admin, cast.duty.id, False),
                                   roster_svc.set_shift(s, cast.dir1, edit), return_exceptions=True)

    assert isinstance(results[0], Member) and not results[0].active
    assert isinstance(results[1], ServiceError) and results[1].key == "roster.err.unknown_name", results[1]
    assert await _scalar(s, "SELECT count(*) FROM roster_slots WHERE member_id=?", cast.duty.id) == 0
