"""Names are text (issue #23 item 8): every catalog template, rendered with hostile names and typed
text in every placeholder that can carry them, is still HTML the Bot API takes.

Escaping happens in one place, bot/i18n.Texts: a placeholder in TEXT_FIELDS is escaped when the
text is rendered, unless its value is already Html (esc()'s result, another rendered text). Every
other placeholder is listed below as not text, with why; a new placeholder must be put in one of
the two, so a name can never reach a template unescaped by oversight.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from bot.emulator import HtmlParseError, parse_html
from bot.i18n import LANGUAGES, TEXT_FIELDS, Html, Texts, esc, load_catalog, placeholders, plain

HOSTILE = ["<b>&x</i>", "a<b", "&amp;", "<张&三>", "</code>&#", "<a href='x'>"]

# Placeholders that never carry a name or typed text, and what they carry instead.
NOT_TEXT = {
    # numbers and counts
    "adopted", "count", "days", "deaths", "done", "failed", "files", "id", "incidents", "injured", "instruction",
    "limit", "met", "missing", "n", "photos", "points", "province", "quota", "rank", "row", "score", "sent",
    "slots", "submitted", "total", "weeks", "year", "years", "month", "day", "hour", "minute", "minutes", "lat",
    "lon", "on_time", "rate", "mean", "away", "city",  # city: the district's city from the config, on a button too
    "breaches", "concealed", "wrong", "late_stages", "missed_stages", "fired", "seconds", "port", "example", "no",
    "numbers",  # incident numbers (区-年-序号), joined
    "pid", "ago", "lease",  # `dutydesk status` and the lease (bot/lease.py): numbers
    "heartbeat",  # a time the CLI formats
    # times, dates and durations, rendered by bot.fmt.Fmt
    "created", "current", "date", "deadline", "delay", "due", "elapsed", "end", "expires", "first", "forward",
    "last", "learnt", "left", "next", "occurred", "old_due", "start", "time", "wait", "waited", "within", "period",
    "back", "since", "taken", "gap", "over", "received", "forwarded", "round", "tg", "sms", "robots", "channel",
    # catalog words (a category, a status, a role …), rendered by Texts
    "category", "kind", "mark", "mode", "receipt", "result", "roles", "source", "stage", "state", "status",
    "urgency", "urgent", "major", "late", "how", "pin", "default", "inactive", "weekday", "open", "missed",
    "field", "via", "finding", "signed", "what", "level", "icon", "go", "drop", "then", "closed", "before", "after",
    # before/after: roles (Fmt.roles) or a rendered 补报 line; username: the bot's (Telegram allows [A-Za-z0-9_]);
    # timezone: a zoneinfo key the config check accepted
    "username", "timezone",
    # HTML put together from rendered texts and escaped values (Html)
    "attachments", "audience", "card", "casualties", "deadlines", "extensions", "facts", "fields", "full",
    "groups", "help", "hint", "holidays", "ids", "items", "label", "lines", "link", "meeting", "number", "overdue",
    "plan", "problem", "rows", "stages", "timeline", "trail",
    "changes", "figures", "versions", "office", "handed", "members", "notices", "unforwarded",
    "pending",  # 待办: esc()'d where typed (duty.line_pending, duty.done), else rendered lines joined
    # dutydesk migrate-db and backup: table names of our own schema, an environment variable's name,
    # schema and pg_dump versions, an exit code; the PostgreSQL server's version and the least the lease needs
    "table", "tables", "env", "expected", "found", "exit", "version", "least",
    "old", "new",  # a fact before/after, rendered by incident_versions.field_value (escaped there); a dialogue's name
}


def _catalog_placeholders() -> set[str]:
    return {p for lang in LANGUAGES for t in load_catalog(lang).values() for p in placeholders(t)}


def test_every_placeholder_is_text_or_said_not_to_be() -> None:
    found = _catalog_placeholders()
    unclassified = sorted(found - TEXT_FIELDS - NOT_TEXT)
    assert not unclassified, (f"placeholders neither in bot.i18n.TEXT_FIELDS (escaped) nor in NOT_TEXT here: "
                              f"{unclassified}. A name or typed text goes in TEXT_FIELDS.")
    assert not TEXT_FIELDS & NOT_TEXT, sorted(TEXT_FIELDS & NOT_TEXT)


def _benign(template: str) -> dict[str, object]:
    """A harmless value per placeholder: a number where the template formats one."""
    values: dict[str, object] = {}
    for _, name, spec, _conv in string.Formatter().parse(template):
        if name and name not in TEXT_FIELDS:
            values[name] = 1 if spec else "x"
    return values


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_template_takes_hostile_names(lang: str, hostile: str) -> None:
    t = Texts(lang)
    refused = {}
    for key, template in sorted(load_catalog(lang).items()):
        names = placeholders(template) & TEXT_FIELDS
        if not names:
            continue
        text = t(key, **_benign(template), **{name: hostile for name in names})
        try:
            shown, _entities = parse_html(text)
        except HtmlParseError as exc:
            refused[key] = f"{exc}: {text[:120]!r}"
            continue
        assert hostile in shown, f"{lang} {key}: the name does not read back as typed: {shown[:120]!r}"
    assert not refused, f"{lang}: the Bot API would refuse {len(refused)} texts: {refused}"


def test_escaped_once_only() -> None:
    t = Texts("zh")
    welcome = t("core.welcome_back", name="<张&三>", unit="建设路街道", roles="信息员")
    assert welcome.startswith("您好，&lt;张&amp;三&gt;（")
    assert t("core.welcome_back", name=esc("<张&三>"), unit="x", roles="y").startswith("您好，&lt;张&amp;三&gt;（")
    nested = t("notice.tally_pending", names=t("core.list_sep").join([esc("a&b"), esc("c")]))
    assert "a&amp;b、c" in nested and "&amp;amp;" not in nested
    assert isinstance(t("core.cancelled"), Html) and isinstance(esc("x") + t("core.cancelled"), Html)


def test_plain_for_toasts() -> None:
    assert plain(Texts("zh")("incident.alert.ack_already", name="<张&三>", time="11-23 10:00")).count("<张&三>") == 1


@pytest.mark.parametrize("value", [Path("R&D/<备份>.sqlite3"), ValueError("<b>"), ["<a>"]])
def test_a_text_placeholder_escapes_any_value_not_only_str(value: object) -> None:
    """A path, an exception or a list in a text placeholder is escaped like a str would be."""
    shown, _entities = parse_html(Texts("zh")("cli.backup_done", path=value))
    assert str(value) in shown
