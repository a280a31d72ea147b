"""Group robots and SMS end to end, against the fake platforms on 127.0.0.1 (bot/emulator/channels.py)."""

from __future__ import annotations

import logging

import pytest

from bot.harness import Desk
from storage import channels
from tests.e2e.channel_desk import channel_desk, give_phone, member_of
from tests.e2e.flows import file_report


async def _register(desk: Desk) -> dict[str, object]:
    return {
        "officer": await desk.register("officer", "李信息", "jianshelu", "officer"),
        "duty": await desk.register("duty", "陈值班", "office", "duty"),
        "director": await desk.register("director", "刘主任", "office", "director"),
        "admin": await desk.register("admin", "周管理", "office", "admin"),
    }


async def _rows(desk: Desk) -> list[channels.ChannelRow]:
    return [r for r in await channels.pending(desk.db.conn, 10_000)] + [
        channels._row(r) for r in await desk.db.conn.execute_fetchall(
            "SELECT * FROM channel_outbox WHERE status != 'pending' ORDER BY id")]


async def test_each_robot_kind_takes_the_alert_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch) as (desk, fakes):
        people = await _register(desk)
        number = await file_report(desk, people["officer"], category="交通事故",  # type: ignore[arg-type]
                                   description="两车相撞，无人员被困")
        await desk.settle()
        assert not fakes.refused
        for kind in ("dingtalk", "wecom", "feishu"):
            got = fakes.received(kind)
            assert len(got) == 1 and number in got[0].text, (kind, got)
            assert "建设路街道" in got[0].text and "交通事故" in got[0].text
        assert "两车相撞" in fakes.received("wecom")[0].text  # detail = "full"
        assert "两车相撞" not in fakes.received("dingtalk")[0].text  # summary
        assert {r.status for r in await _rows(desk)} == {"sent"}


async def test_a_rate_limited_robot_is_delivered_late_but_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=("dingtalk",)) as (desk, fakes):
        fakes.dingtalk("dtoken", "SEC0123456789abcdef-ding", per_minute=15)  # stricter than documented
        async with desk.services.uow() as tx:
            for i in range(25):
                await channels.enqueue(tx.conn, channels.ROBOT, "ding", {"title": f"第{i}条", "text": f"消息 {i}"},
                                       tx.now, ref_kind="test", ref_id=i)
            tx.wrote_outbox = True
        await desk.settle()
        assert len(fakes.received("dingtalk")) == 15
        assert any('"errcode": 130101' in said for _k, _n, said in fakes.refused)  # the platform said "too fast"
        await desk.advance(seconds=61)
        await desk.advance(seconds=61)
        texts = [a.text for a in fakes.received("dingtalk")]
        assert texts == [f"消息 {i}" for i in range(25)]  # every one, once, in order
        assert {r.status for r in await _rows(desk)} == {"sent"}


async def test_sms_template_and_success_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=()) as (desk, fakes):
        people = await _register(desk)
        await give_phone(desk, people["duty"], "13800001234")
        number = await file_report(desk, people["officer"], category="交通事故")  # type: ignore[arg-type]
        assert not fakes.received("sms")  # the first step is Telegram only
        await desk.advance(minutes=3, seconds=1)  # step 2: SMS to the duty officers on shift
        sms = fakes.received("sms")
        assert len(sms) == 1 and sms[0].name == "13800001234"
        assert sms[0].headers.get("X-Sms-Key") == "sms-key-7"
        assert number in sms[0].text and "Telegram" in sms[0].text and "<" not in sms[0].text
        assert [r.status for r in await _rows(desk) if r.channel == "sms"] == ["sent"]


async def test_an_sms_the_gateway_refuses_is_failed_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    # The gateway takes {"mobile", "content"}; a template that sends "text" is answered code 1001.
    async with channel_desk(monkeypatch, robots=(), body={"mobile": "{phone}", "text": "{text}"}) as (desk, fakes):
        people = await _register(desk)
        await give_phone(desk, people["duty"], "13800001234")
        await file_report(desk, people["officer"], category="交通事故")  # type: ignore[arg-type]
        await desk.advance(minutes=3, seconds=1)
        assert not fakes.received("sms") and fakes.calls == 1
        [row] = [r for r in await _rows(desk) if r.channel == "sms"]
        assert row.status == "failed" and "1001" in (row.error or "") and "13800001234" not in (row.error or "")


async def test_a_wrong_robot_secret_is_logged_and_told_once(monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    async with channel_desk(monkeypatch, robots=("dingtalk",), ding_secret="SECwrong") as (desk, fakes):
        people = await _register(desk)
        with caplog.at_level(logging.ERROR, logger="bot.channels.sender"):
            await file_report(desk, people["officer"], category="交通事故")  # type: ignore[arg-type]
            await desk.settle()
        assert any("ding" in r.getMessage() and "sign not match" in r.getMessage() for r in caplog.records)
        notice = await people["admin"].wait_for("拒收")  # type: ignore[attr-defined]
        assert "TEST_DING_SECRET" in (notice.text or "")
        await file_report(desk, people["officer"], category="交通事故")  # type: ignore[arg-type]
        await desk.advance(minutes=1)
        assert fakes.calls == 2  # one try per message: a refusal is not retried in a loop
        assert [r.status for r in await _rows(desk)] == ["failed", "failed"]
        admin_notices = [m for m in desk.emu.messages(people["admin"].id) if "拒收" in (m.text or "")]  # type: ignore[attr-defined]
        assert len(admin_notices) == 1


async def test_admins_set_phones_shown_masked_and_incident_shows_each_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=("wecom",)) as (desk, fakes):
        people = await _register(desk)
        admin, duty = people["admin"], people["duty"]
        duty_member = await member_of(desk, duty)
        await duty.send_command("/phone", f"{duty_member.id} 13800001234")  # type: ignore[attr-defined]
        await duty.wait_for(lambda m: "/phone" not in (m.text or ""))  # type: ignore[attr-defined]
        assert not await channels.phones(desk.db.conn, [duty_member.id])  # not an admin: nothing changed
        # A Chinese phone keyboard types fullwidth digits: read as ASCII, stored as ASCII.
        await admin.send_command("/phone", f"{duty_member.id} １３８－００００－１２３４")  # type: ignore[attr-defined]
        done = await admin.wait_for("已登记")  # type: ignore[attr-defined]
        assert "13800001234" in (done.text or "")
        for bad in ("12ab", "¹³⁸00001234"):
            await admin.send_command("/phone", f"{duty_member.id} {bad}")  # type: ignore[attr-defined]
            await admin.wait_for("格式不对")  # type: ignore[attr-defined]
        assert await channels.phones(desk.db.conn, [duty_member.id]) == {duty_member.id: "13800001234"}
        await admin.send_command("/members")  # type: ignore[attr-defined]
        listing = await admin.wait_for("人员名单")  # type: ignore[attr-defined]
        assert "138****1234" in (listing.text or "") and "13800001234" not in (listing.text or "")
        audit = await desk.db.conn.execute_fetchall("SELECT detail FROM audit_log WHERE action='phone'")
        assert [r[0] for r in audit] == [f"#{duty_member.id}: 138****1234"]

        number = await file_report(desk, people["officer"], category="交通事故")  # type: ignore[arg-type]
        await desk.advance(minutes=3, seconds=1)
        await duty.send_command("/incident", number)  # type: ignore[attr-defined]
        shown = await duty.wait_for("送达情况")  # type: ignore[attr-defined]
        text = shown.text or ""
        assert "陈值班：Telegram 已发送" in text and "陈值班：短信 已发送" in text and "wecom：群机器人 已发送" in text
        assert "13800001234" not in text
        await people["officer"].send_command("/incident", number)  # type: ignore[attr-defined]
        mine = await people["officer"].wait_for(number)  # type: ignore[attr-defined]
        assert "送达情况" not in (mine.text or "")  # the reporting unit does not see the office's delivery


async def test_robots_mirror_the_events_they_are_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """A robot given `notice` and `breach` (not `incident`) gets the notice and the 迟报, not the alert."""
    from bot.domain.notices import Audience, AudienceSpec
    from bot.services import notices

    async with channel_desk(monkeypatch, robots=("wecom",), events={"wecom": ("notice", "breach")}) as (desk, fakes):
        people = await _register(desk)
        number = await file_report(desk, people["officer"], category="交通事故")  # type: ignore[arg-type]
        assert not fakes.received("wecom")
        director = await member_of(desk, people["director"])
        await notices.send_notice(desk.services, director, notices.NoticeDraft(
            title="关于节日值班的通知", body="请各单位严格落实值班制度。", audience=AudienceSpec(Audience.ALL)))
        await desk.settle()
        [notice] = fakes.received("wecom")
        assert "关于节日值班的通知" in notice.text and "严格落实" in notice.text  # detail = "full"
        await desk.advance(hours=2, seconds=1)  # the written report is late: 迟报
        texts = [a.text for a in fakes.received("wecom")]
        assert len(texts) == 2 and number in texts[1] and "<" not in texts[1]


async def test_a_feishu_bot_is_paced_to_five_a_second_without_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=("feishu",)) as (desk, fakes):
        async with desk.services.uow() as tx:
            for i in range(12):
                await channels.enqueue(tx.conn, channels.ROBOT, "feishu", {"title": "T", "text": f"消息 {i}"},
                                       tx.now, ref_kind="test", ref_id=i)
            tx.wrote_outbox = True
        await desk.settle()
        assert len(fakes.received("feishu")) == 5
        await desk.advance(seconds=1)
        assert len(fakes.received("feishu")) == 10
        await desk.advance(seconds=1)
        assert [a.text.splitlines()[-1] for a in fakes.received("feishu")] == [f"消息 {i}" for i in range(12)]
        assert not fakes.refused  # paced by the bot, never by the platform's 11232


async def test_a_blocked_person_without_a_phone_goes_to_the_robot_group(monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=("wecom",), events={"wecom": ("failover",)}) as (desk, fakes):
        people = await _register(desk)
        people["duty"].block()  # type: ignore[attr-defined]
        number = await file_report(desk, people["officer"], category="交通事故")  # type: ignore[arg-type]
        told = await people["admin"].wait_for("未登记手机号")  # type: ignore[attr-defined]
        assert "陈值班" in (told.text or "")
        await desk.settle()
        [group] = fakes.received("wecom")
        assert number in group.text and "Telegram" in group.text and not fakes.received("sms")


async def _queue_sms(desk: Desk, people: list[object], text: str = "短信") -> None:
    async with desk.services.uow() as tx:
        for i, user in enumerate(people):
            m = await member_of(desk, user)
            await channels.enqueue(tx.conn, channels.SMS, channels.member_target(m.id), {"text": f"{text} {i}",
                                   "number": "2026-0009"}, tx.now, member_id=m.id, ref_kind="test", ref_id=i)
        tx.wrote_outbox = True


async def test_an_sms_taken_but_not_answered_is_not_sent_twice(monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    async with channel_desk(monkeypatch, robots=()) as (desk, fakes):
        people = await _register(desk)
        await give_phone(desk, people["duty"], "13800001234")
        fakes.drop_answer_next = 1  # the gateway takes the SMS, and the answer is lost on the way back
        with caplog.at_level(logging.ERROR, logger="bot.channels.sender"):
            await _queue_sms(desk, [people["duty"]])
            await desk.settle()
            await desk.advance(minutes=10)
        assert len(fakes.received("sms")) == 1 and fakes.calls == 1  # never sent again
        [row] = await _rows(desk)
        assert row.status == "failed" and "not sent again" in (row.error or "")
        assert any("not sent again" in r.getMessage() and "13800001234" not in r.getMessage() for r in caplog.records)
        notice = await people["admin"].wait_for("不再重发")  # type: ignore[attr-defined]
        assert "陈值班" in (notice.text or "") and "138****1234" in (notice.text or "")


async def test_an_sms_refused_before_it_left_is_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=()) as (desk, fakes):
        people = await _register(desk)
        await give_phone(desk, people["duty"], "13800001234")
        await fakes.stop()  # nobody listens: the connection is refused, so nothing reached the gateway
        await _queue_sms(desk, [people["duty"]])
        await desk.settle()
        [row] = await _rows(desk)
        assert row.status == "pending" and row.attempts == 1 and "ConnectError" in (row.error or "")


async def test_a_busy_sms_gateway_is_waited_for_as_it_says_not_counted_as_failing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with channel_desk(monkeypatch, robots=()) as (desk, fakes):
        people = await _register(desk)
        fakes.sms("sms-key-7", per_minute=2)  # stricter than the config's 60 a minute
        fakes.sms_retry_after = 60  # when its minute frees
        await give_phone(desk, people["duty"], "13800001234")
        await give_phone(desk, people["director"], "13900001234")
        await give_phone(desk, people["admin"], "13700001234")
        await _queue_sms(desk, [people["duty"], people["director"], people["admin"]])
        await desk.settle()
        assert len(fakes.received("sms")) == 2 and fakes.calls == 3  # the third was answered 429
        await desk.advance(seconds=58)
        assert fakes.calls == 3  # held for the gateway's Retry-After, not tried again after 2 s, 4 s …
        await desk.advance(seconds=3)
        assert len(fakes.received("sms")) == 3
        rows = await _rows(desk)
        assert {r.status for r in rows} == {"sent"} and [r.attempts for r in rows] == [1, 1, 1]  # 429: not a try


async def test_a_secret_the_gateway_echoes_is_neither_logged_nor_stored(monkeypatch: pytest.MonkeyPatch,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    async with channel_desk(monkeypatch, robots=(), body={"mobile": "{phone}", "text": "{text}"}) as (desk, fakes):
        people = await _register(desk)
        fakes.echo = " (key sms-key-7)"
        await give_phone(desk, people["duty"], "13800001234")
        with caplog.at_level(logging.ERROR, logger="bot.channels.sender"):
            await _queue_sms(desk, [people["duty"]])
            await desk.settle()
        [row] = await _rows(desk)
        assert row.status == "failed" and "<secret>" in (row.error or "") and "sms-key-7" not in (row.error or "")
        assert caplog.records and not any("sms-key-7" in r.getMessage() for r in caplog.records)


async def test_typed_text_cannot_write_markdown_into_the_robots(monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = "看[详情](http://evil) ![](http://evil/x.png)\n### 伪造 <@all> <font color=red>红</font> **粗**"
    async with channel_desk(monkeypatch, events={"dingtalk": ("incident",)}) as (desk, fakes):
        people = await _register(desk)
        await file_report(desk, people["officer"], category="交通事故", description=hostile)  # type: ignore[arg-type]
        await desk.settle()
        wecom = fakes.received("wecom")[0].text  # detail = "full"
        assert "](" not in wecom.replace("\\](", "") and "<" not in wecom and "\n### 伪造" not in wecom
        assert "\\[详情\\]\\(http://evil\\)" in wecom and "＜@all＞" in wecom
        [feishu] = fakes.received("feishu")
        assert "###" not in feishu.text and "**" not in feishu.text  # no markdown markers on Feishu
        assert feishu.body["content"]["post"]["zh_cn"]["title"].startswith("突发事件")
