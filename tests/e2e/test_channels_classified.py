"""密级 and the other platforms: a 秘密 notice goes out on Telegram as the office chose, but is never
mirrored to a DingTalk/WeCom/Feishu group; a 非密 one is."""

from __future__ import annotations

import pytest

from bot.domain.notices import Audience, AudienceSpec
from bot.services import notices
from tests.e2e.channel_desk import channel_desk, member_of
from tests.e2e.test_channels import _register


@pytest.mark.parametrize(("level", "mirrored"), [("none", True), ("secret", False)])
async def test_only_an_unclassified_notice_reaches_a_robot(monkeypatch: pytest.MonkeyPatch, level: str,
                                                          mirrored: bool) -> None:
    async with channel_desk(monkeypatch, robots=("dingtalk",), events={"dingtalk": ("notice",)}) as (desk, fakes):
        people = await _register(desk)
        director = await member_of(desk, people["director"])
        await notices.send_notice(desk.services, director, notices.NoticeDraft(
            title="关于节日值班的通知", body="请各单位严格落实值班制度。", classification=level,
            audience=AudienceSpec(Audience.ALL)))
        await desk.settle()
        assert bool(fakes.received("dingtalk")) is mirrored
        officer = people["officer"]
        assert any("关于节日值班的通知" in (m.text or "") for m in officer.inbox)  # type: ignore[attr-defined]
