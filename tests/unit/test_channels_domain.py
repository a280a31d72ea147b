"""Escalation stepping, robot signatures and payloads, the SMS template and success test, pacing, phones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import config as cfg
from bot.domain import channels as ch
from bot.domain.escalation import Policy, Step, Target, parse_target
from bot.i18n import LANGUAGES, TEXT_FIELDS, Texts, load_catalog, placeholders

M = timedelta(minutes=1)


def _policy(repeat: int = 0) -> Policy:
    return Policy("p", (Step((Target("tg", "duty@shift"),), 3 * M), Step((Target("sms", "duty@shift"),), 7 * M),
                        Step((Target("robot", "*"),), 10 * M)), repeat)


def test_policy_steps_then_repeats_then_stops() -> None:
    p = _policy(repeat=1)
    assert p.after(0, 0) == (1, 0) and p.after(2, 0) == (0, 1) and p.after(2, 1) is None
    assert [(s, r, at // M) for s, r, at in p.plan()] == [(0, 0, 0), (1, 0, 3), (2, 0, 10), (0, 1, 20), (1, 1, 23),
                                                          (2, 1, 30)]
    assert [(s, r) for s, r, _at in _policy().plan()] == [(0, 0), (1, 0), (2, 0)]


@pytest.mark.parametrize(("text", "target"), [
    ("duty@shift", Target("tg", "duty@shift")), ("sms:leader@duty", Target("sms", "leader@duty")),
    ("tg:role:director", Target("tg", "role:director")), ("role:unit_head@unit", Target("tg", "role:unit_head@unit")),
    ("sms:member:12", Target("sms", "member:12")), ("robot:office", Target("robot", "office")),
    ("robot:*", Target("robot", "*")), ("sms:waiting", Target("sms", "waiting")),
])
def test_targets(text: str, target: Target) -> None:
    assert parse_target(text) == target


@pytest.mark.parametrize("text", ["", "fax:duty@shift", "duty", "role:", "robot:", "member:x", "sms:robot:a"])
def test_bad_targets(text: str) -> None:
    with pytest.raises(ValueError):
        parse_target(text)


def test_dingtalk_signature_is_hmac_of_timestamp_and_secret() -> None:
    secret, ts = "SECabc", 1700000000123
    want = base64.b64encode(hmac.new(b"SECabc", b"1700000000123\nSECabc", hashlib.sha256).digest()).decode()
    assert ch.dingtalk_sign(secret, ts) == want
    req = ch.robot_request("dingtalk", "标题", "正文", secret, ts / 1000)
    assert req.params == {"timestamp": "1700000000123", "sign": want}
    assert req.body == {"msgtype": "markdown", "markdown": {"title": "标题", "text": "正文"}}
    assert ch.robot_request("dingtalk", "t", "x", "", 1.0).params == {}  # no 加签 configured


def test_feishu_signature_keys_the_hmac_with_timestamp_and_secret() -> None:
    want = base64.b64encode(hmac.new(b"1700000000\nsec", b"", hashlib.sha256).digest()).decode()
    assert ch.feishu_sign("sec", 1700000000) == want
    body = ch.robot_request("feishu", "T", "一\n\n二", "sec", 1700000000.9).body
    assert body["timestamp"] == "1700000000" and body["sign"] == want and body["msg_type"] == "post"
    assert body["content"]["post"]["zh_cn"]["content"] == [
        [{"tag": "text", "text": "一"}], [{"tag": "text", "text": "二"}]]
    assert ch.robot_request("wecom", "T", "x", "", 0).body == {"msgtype": "markdown", "markdown": {"content": "x"}}


@pytest.mark.parametrize(("kind", "status", "answer", "outcome"), [
    ("dingtalk", 200, {"errcode": 0, "errmsg": "ok"}, "ok"),
    ("dingtalk", 200, {"errcode": 130101, "errmsg": "send too fast"}, "later"),
    ("dingtalk", 200, {"errcode": 310000, "errmsg": "sign not match"}, "fatal"),
    ("wecom", 200, {"errcode": 45009, "errmsg": "api freq out of limit"}, "later"),
    ("wecom", 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, "fatal"),
    ("feishu", 200, {"code": 0, "msg": "success", "data": {}}, "ok"),
    ("feishu", 200, {"code": 11232, "msg": "frequency limited"}, "later"),
    ("feishu", 200, {"code": 19021, "msg": "sign match fail"}, "fatal"),
    ("feishu", 502, None, "retry"),
    ("wecom", 404, None, "fatal"),
])
def test_robot_outcomes(kind: str, status: int, answer: object, outcome: str) -> None:
    assert ch.robot_outcome(kind, status, answer)[0] == outcome


def test_sms_template_rendering_and_success() -> None:
    body = ch.render_body({"mobile": "{phone}", "content": "{text}", "sig": "值班台"},
                          {"phone": "13800001234", "text": "事件 {x} 请处理", "number": "1", "secret": "k"})
    assert body == {"mobile": "13800001234", "content": "事件 {x} 请处理", "sig": "值班台"}  # values are not re-read
    assert ch.sms_succeeded(200, {"result": {"code": 0}}, "result.code", "0")
    assert not ch.sms_succeeded(200, {"result": {"code": 17}}, "result.code", "0")
    assert not ch.sms_succeeded(200, {"other": 1}, "result.code", "0")
    assert ch.sms_succeeded(200, {"success": True}, "success", "true")
    assert ch.sms_succeeded(204, None, "", "") and not ch.sms_succeeded(500, None, "", "")
    ch.check_template("Bearer {secret}")
    with pytest.raises(ValueError, match="unknown placeholder"):
        ch.check_template("{mobile}")


def test_pacer_holds_to_each_window() -> None:
    p = ch.Pacer(ch.LIMITS["feishu"])
    for _ in range(5):
        assert p.wait(100.0) == 0
        p.take(100.0)
    assert p.wait(100.0) == pytest.approx(1.0)  # 5 a second
    ding = ch.Pacer(ch.LIMITS["dingtalk"])
    for i in range(20):
        ding.take(float(i))
    assert ding.wait(20.0) == pytest.approx(40.0)  # the first of the 20 leaves the minute at 60 s
    assert ding.wait(60.5) == 0


def test_long_texts_are_cut_to_the_platforms_limit() -> None:
    long = "情况" * 3000  # 18,000 bytes
    wecom = ch.robot_request("wecom", "T", long, "", 0).body["markdown"]["content"]
    assert len(wecom.encode()) <= 4096 and wecom.endswith("…") and wecom.startswith("情况")
    assert ch.clip_bytes("短", 10) == "短" and ch.clip_bytes("一二三", 7) == "一…"


def test_phones() -> None:
    assert ch.normalise_phone("138 0000-1234") == "13800001234"
    with pytest.raises(ValueError):
        ch.normalise_phone("12ab")
    assert ch.mask_phone("13800001234") == "138****1234" and ch.mask_phone(None) == ""


@pytest.mark.parametrize(("text", "key", "line"), [
    ('[[robots]]\nname = "a"\nkind = "slack"\nurl = "https://x"\n', "robots[0].kind", 3),
    ('[[robots]]\nname = "a"\nkind = "wecom"\nurl = "qyapi.weixin.qq.com/x"\n', "robots[0].url", 4),
    ('[sms]\nurl = "https://sms"\nbody = { mobile = "{mobile}" }\n', "sms.body.mobile", 3),
    ('[[escalation.policies]]\nname = "p"\n[[escalation.policies.steps]]\ntargets = ["robot:none"]\n',
     "escalation.policies[0].steps[0].targets", 4),
    ('[escalation]\nincident = "nope"\n', "escalation.incident", 2),
    ('[escalation]\nnotice_urgent = "nope"\n', "escalation.notice_urgent", 2),
    ('[[escalation.policies]]\nname = "p"\n[[escalation.policies.steps]]\ntargets = ["role:king"]\n',
     "escalation.policies[0].steps[0].targets", 4),
])
def test_bad_channel_config_is_refused_with_file_line_and_key(text: str, key: str, line: int) -> None:
    with pytest.raises(cfg.ConfigError) as err:
        cfg.loads(text, "desk.toml")
    assert err.value.key == key and err.value.line == line and str(err.value).startswith(f"desk.toml:{line}: [{key}]")


def test_robot_and_gateway_secrets_come_from_the_environment_or_a_file(tmp_path: object) -> None:
    from pathlib import Path

    from bot.channels.sender import SMS_SECRET, read_secrets

    config = cfg.loads('[[robots]]\nname = "office"\nkind = "dingtalk"\nurl = "https://x/robot/send?access_token=t"\n'
                       'secret_env = "ROBOT_SEC"\n[sms]\nurl = "https://sms"\nsecret_env = "SMS_SEC"\n')
    with pytest.raises(cfg.ConfigError, match="ROBOT_SEC.*is not set"):
        read_secrets(config, {"SMS_SEC": "k"})
    secret_file = Path(str(tmp_path)) / "robot.secret"
    secret_file.write_text("SECfromfile\n", encoding="utf-8")
    secret_file.chmod(0o600)
    assert read_secrets(config, {"ROBOT_SEC_FILE": str(secret_file), "SMS_SEC": "k"}) == {
        "office": "SECfromfile", SMS_SECRET: "k"}


# --- typed values in robot markdown -----------------------------------------------------------

_ESCAPED = re.compile(r"\\.")
_LINK = re.compile(r"\[[^\]]*\]\s*\(")  # [text](url) and ![alt](url)
_IMAGE = re.compile(r"!\[")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s|$)|^\s{0,3}(=+|-+)\s*$", re.MULTILINE)  # ATX and setext
_MENTION = re.compile(r"<@|<font|<[a-zA-Z/!]")


def _markup(markdown: str) -> list[str]:
    """The links, images, headings, HTML and mentions a markdown text makes (escaped characters are text)."""
    bare = _ESCAPED.sub("x", markdown)
    return [m.group() for rx in (_LINK, _IMAGE, _HEADING, _MENTION) for m in rx.finditer(bare)]


_TEMPLATE = "### 突发事件 2026-0001\n- 地点：{place}\n- 简要情况：{description}\n\n请打开 Telegram 值班台。"
_typed = st.lists(st.sampled_from([*"[]()!#<>@*_-=+`\\|~ \n\r\u2028ahttp:/.详情", "\r\n", "<@", "<font", "### "]),
                  max_size=20).map("".join) | st.text(max_size=20)


@given(place=_typed, description=_typed)
@pytest.mark.parametrize("kind", ["dingtalk", "wecom", "feishu"])
def test_no_typed_value_makes_a_link_an_image_a_heading_or_a_mention(kind: str, place: str, description: str) -> None:
    clean = _TEMPLATE.format(place="-", description="-")
    text = _TEMPLATE.format(place=ch.neutralise(kind, place), description=ch.neutralise(kind, description))
    assert _markup(text) == _markup(clean)
    assert text.count("\n") == clean.count("\n")  # a newline in a field is flattened
    if kind == "wecom":
        assert "<" not in text and ">" not in text


@given(value=_typed)
def test_feishu_shows_a_typed_value_as_typed_and_the_catalog_without_markers(value: str) -> None:
    title, lines = ch.feishu_lines("T", f"### 突发事件 1\n- **情况**：{ch.neutralise('feishu', value)}**")
    assert title == "突发事件 1"
    assert lines == [f"- 情况：{ch.one_line(value)}".strip()]


def test_feishu_post_has_no_markdown_markers() -> None:
    body = ch.robot_request("feishu", "T", "### 突发事件 1\n\n**已 3 分钟无人确认收到**\n\n- 单位：甲", "", 0).body
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == "突发事件 1"
    assert post["content"] == [[{"tag": "text", "text": "已 3 分钟无人确认收到"}],
                               [{"tag": "text", "text": "- 单位：甲"}]]


def test_neutralised_values_keep_ordinary_text() -> None:
    assert ch.neutralise("dingtalk", "2026-0007 建设路 3.5 米") == "2026-0007 建设路 3.5 米"
    assert ch.neutralise("wecom", "a<b>\nc") == "a＜b＞ c"
    assert ch.neutralise("dingtalk", "[详情](http://evil)") == "\\[详情\\]\\(http://evil\\)"


# --- phones, pace, Retry-After ------------------------------------------------------------------


def test_phones_take_fullwidth_digits_and_store_ascii() -> None:
    assert ch.normalise_phone("１３８ ００００ １２３４") == "13800001234"
    assert ch.normalise_phone("＋８６１３８００００１２３４") == "+8613800001234"
    for bad in ("¹³⁸00001234", "①③⑧00001234", "138 0000 123²"):
        with pytest.raises(ValueError):
            ch.normalise_phone(bad)


@given(st.lists(st.characters(categories=["Nd"]) | st.sampled_from([*" -()+", "\u3000", "²", "①"]), min_size=6,
                max_size=18).map("".join))
def test_a_stored_phone_is_ascii_digits(text: str) -> None:
    # Decimal digits of any script (fullwidth, Arabic-Indic …), separators, now and then a superscript or circled one.
    try:
        phone = ch.normalise_phone(text)
    except ValueError:
        assert "²" in text or "①" in text or not 6 <= sum(c.isdecimal() for c in text) <= 15 or "+" in text
        return
    assert re.fullmatch(r"\+?[0-9]{6,15}", phone, re.ASCII)


def test_a_hold_lasts_its_span() -> None:
    p = ch.Pacer(ch.LIMITS["feishu"])
    p.hold(100.0, 60.0)  # Feishu 11232: its window is a minute, not the 5-a-second second
    assert p.wait(100.0) == pytest.approx(60.0) and p.wait(130.0) == pytest.approx(30.0) and p.wait(160.0) == 0


def test_retry_after() -> None:
    assert ch.retry_after("30") == 30 and ch.retry_after(None) == 60 and ch.retry_after("soon") == 60
    assert ch.retry_after("0") == 1 and ch.retry_after("99999") == 3600 and ch.retry_after("nan") == 60


def test_the_log_keeps_out_the_channel_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from bot.cli_run import _Redact, channel_secrets

    config = cfg.loads('[[robots]]\nname = "office"\nkind = "dingtalk"\nurl = "https://x/robot/send?access_token=t"\n'
                       'secret_env = "ROBOT_SEC"\n[sms]\nurl = "https://sms"\nsecret_env = "SMS_SEC"\n')
    monkeypatch.setenv("ROBOT_SEC", "SECrobot")
    monkeypatch.setenv("SMS_SEC", "smskey")
    assert sorted(channel_secrets(config)) == ["SECrobot", "smskey"]
    record = logging.LogRecord("x", logging.ERROR, "", 0, "said %s and %s", ("SECrobot", "smskey"), None)
    _Redact(channel_secrets(config)).filter(record)
    assert record.getMessage() == "said <secret> and <secret>"


def test_a_webhooks_own_token_is_a_secret_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx logs each request's URL: a DingTalk access_token, a WeCom key, a Feishu hook id stay out."""
    import logging

    from bot.cli_run import _Redact, channel_secrets

    assert ch.url_tokens("https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789") == ["abcdef0123456789"]
    assert ch.url_tokens("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx") == ["693a91f6-7xxx"]
    assert ch.url_tokens("https://open.feishu.cn/open-apis/bot/v2/hook/2d6a1f5e-93b1") == ["2d6a1f5e-93b1"]
    assert ch.url_tokens("https://sms.example/send?v=2") == []
    config = cfg.loads('[[robots]]\nname = "office"\nkind = "wecom"\n'
                       'url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"\n')
    record = logging.LogRecord("httpx", logging.INFO, "", 0, "HTTP Request: POST %s", (config.robots[0].url,), None)
    _Redact(channel_secrets(config)).filter(record)
    assert "693a91f6" not in record.getMessage()


_ROBOT_KEYS = sorted(k for k in load_catalog("zh") if k.startswith("channels.robot."))


@settings(max_examples=30)
@given(value=_typed)
@pytest.mark.parametrize("kind", ch.ROBOT_KINDS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_typed_value_in_any_robot_text_makes_markup(lang: str, kind: str, value: str) -> None:
    """Every robot text of the catalog, its typed placeholders (TEXT_FIELDS) filled with anything."""
    from types import SimpleNamespace

    from bot.services.channel_messages import robot_text

    s: Any = SimpleNamespace(texts=Texts(lang))
    for key in _ROBOT_KEYS:
        names = placeholders(load_catalog(lang)[key])
        clean = robot_text(s, kind, key, **{n: "x" if n in TEXT_FIELDS else "1" for n in names})
        text = robot_text(s, kind, key, **{n: value if n in TEXT_FIELDS else "1" for n in names})
        assert _markup(text) == _markup(clean), key
        assert text.count("\n") == clean.count("\n"), key
