import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot import config as cfg
from bot.cli import example_config
from bot.config import ConfigError, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200), ("3d", 259200), ("1.5h", 5400)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "15", "m", "2 hours", "-1h", "1w"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_example_config_loads_with_seed_units() -> None:
    c = cfg.loads(example_config())
    names = [u.name for u in c.units]
    for seed in ("建设路街道", "棉纺路街道", "须水街道", "教体局", "环保局", "建设局"):
        assert seed in names
    assert any(u.kind == "office" for u in c.units)
    assert c.incident.first_report == timedelta(hours=1)
    assert c.incident.written_report == timedelta(hours=2)
    assert c.incident.full_report == timedelta(hours=3)
    assert c.general.timezone == "Asia/Shanghai"


def test_defaults_without_file_sections() -> None:
    c = cfg.loads("")
    assert c.general.language == "zh"
    assert c.incident.remind_before == (timedelta(minutes=15),)


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        cfg.loads(text, "site.toml")
    return err.value


def test_unknown_key_names_file_line_and_key() -> None:
    err = _error('[general]\nlanguage = "zh"\ntimezon = "Asia/Shanghai"\n')
    assert err.path == "site.toml" and err.key == "general.timezon" and err.line == 3
    assert "unknown key" in str(err) and "site.toml:3" in str(err)


def test_bad_duration_is_reported_with_its_key() -> None:
    err = _error('[incident]\nfirst_report = "1 hour"\n')
    assert err.key == "incident.first_report" and err.line == 2
    assert "bad duration" in err.problem


def test_duplicate_unit_code() -> None:
    err = _error('[[units]]\ncode = "a"\nname = "甲"\n[[units]]\ncode = "a"\nname = "乙"\n')
    assert err.key == "units[1].code" and "duplicate" in err.problem


def test_syntax_error_has_line() -> None:
    err = _error('[general\n')
    assert err.key == "syntax" and err.line == 1


def test_bad_kind_language_timezone_and_order() -> None:
    assert "kind" in _error('[[units]]\ncode = "a"\nname = "甲"\nkind = "village"\n').key
    assert _error('[general]\nlanguage = "fr"\n').key == "general.language"
    assert _error('[general]\ntimezone = "Mars/Olympus"\n').key == "general.timezone"
    assert _error('[incident]\nfirst_report = "3h"\nwritten_report = "2h"\n').key == "incident"


def test_concurrent_updates_default_and_bounds() -> None:
    assert cfg.loads("").telegram.concurrent_updates == 64
    assert cfg.loads("[telegram]\nconcurrent_updates = 1\n").telegram.concurrent_updates == 1
    for bad in ("0", "1000"):
        assert _error(f"[telegram]\nconcurrent_updates = {bad}\n").key == "telegram.concurrent_updates"


def test_calendar_entries_take_toml_dates_or_strings() -> None:
    c = cfg.loads('[calendar]\nworkdays = [2027-02-14, "2027-02-20"]\n'
                  '[[calendar.holidays]]\nname = "春节"\nstart = 2027-02-05\nend = "2027-02-11"\n')
    assert c.calendar.workdays == (date(2027, 2, 14), date(2027, 2, 20))
    assert c.calendar.holidays[0] == cfg.HolidayPeriod("春节", date(2027, 2, 5), date(2027, 2, 11))
    assert cfg.loads("").calendar.check == "0 9 * * mon"


def test_bad_calendar_entries_name_their_key() -> None:
    err = _error('[calendar]\nworkdays = ["2027-13-01"]\n')
    assert err.key == "calendar.workdays" and "YYYY-MM-DD" in err.problem
    assert _error('[calendar]\nworkdays = [2027-02-14T09:00:00]\n').key == "calendar.workdays"
    err = _error('[[calendar.holidays]]\nname = "春节"\nstart = 2027-02-11\nend = 2027-02-05\n')
    assert err.key == "calendar.holidays[0].end"
    assert _error('[[calendar.holidays]]\nname = " "\nstart = 2027-02-05\nend = 2027-02-05\n').key == \
        "calendar.holidays[0].name"
    err = _error('[calendar]\nworkdays = [2027-02-06]\n[[calendar.holidays]]\nname = "春节"\n'
                 'start = 2027-02-05\nend = 2027-02-11\n')
    assert err.key == "calendar.workdays[0]" and "春节" in err.problem
    assert _error('[calendar]\ncheck = "monday"\n').key == "calendar.check"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        cfg.load(tmp_path / "nope.toml")
    assert "dutydesk init" in str(err.value)


def test_token_only_from_environment() -> None:
    with pytest.raises(ConfigError):
        cfg.token_from_env({})
    assert cfg.token_from_env({"TELEGRAM_BOT_TOKEN": " 1:abc "}) == "1:abc"


# --- errors name the right line, also for keys in several sections ------------------------

_COMMENTED_TOML = re.compile(r"^# ((\[|[a-z_]+ = |  \{|\]|# ).*)?$")


def example_uncommented() -> str:
    """The example config with its commented-out sections ([leave], [roster], [calendar]) switched on."""
    return "\n".join(m.group(1) or "" if (m := _COMMENTED_TOML.match(line)) else line
                     for line in example_config().splitlines())


def test_the_commented_sections_of_the_example_load() -> None:
    text = example_uncommented()
    assert "\n[leave]\n" in text and "\n[[roster.shifts]]\n" in text and "\n[[calendar.holidays]]\n" in text
    c = cfg.loads(text)
    assert c.leave == cfg.LeavePolicy() and c.roster == cfg.RosterPolicy()  # they show the defaults


def _repeated_key_lines(text: str) -> list[int]:
    """Lines `key = <one-line value>` whose key name is on more than one line of the file."""
    keys = {n: m.group(1) for n, line in enumerate(text.splitlines(), 1)
            if (m := re.match(r"^([a-z_]+) = (?!\[\s*$)", line))}
    count = Counter(keys.values())
    return [n for n, k in keys.items() if count[k] > 1]


def test_every_repeated_key_is_reported_at_its_own_line() -> None:
    """`bulletin_chat_id` ([info], [supervision]), `name` (every [[units]], [[leave.posts]], …):
    a bad value on any one of their lines is reported at that line, not the key's first line."""
    text = example_uncommented()
    lines = _repeated_key_lines(text)
    names = {text.splitlines()[n - 1].split(" = ")[0] for n in lines}
    assert {"bulletin_chat_id", "code", "name", "label", "start", "end"} <= names
    for n in lines:
        rows = text.splitlines()
        key = rows[n - 1].split(" = ")[0]
        rows[n - 1] = f"{key} = {{ bad = 1 }}"
        err = _error("\n".join(rows))
        assert err.line == n and err.key.endswith(key), (n, rows[n - 1], str(err))


@pytest.mark.parametrize(("text", "line"), [
    ('[info]\nbulletin_chat_id = 0\n[supervision]\nbulletin_chat_id = "x"\n', 4),
    ('[[units]]\ncode = "a"\nname = "甲"\n[[units]]\ncode = "a"\nname = "乙"\n', 5),  # duplicate: the second
    ('[incident]\nfirst_report = "3h"\n', 1),  # a rule about the section: its header
    ('[leave]\nmax_days = 1\n[[leave.chains]]\nname = "a"\nsteps = [\n  { label = "x", who = ["bad"] },\n]\n', 5),
])
def test_error_lines(text: str, line: int) -> None:
    assert _error(text).line == line


def test_the_reporting_bulletins_crontabs_and_corrected_report_deadline() -> None:
    c = cfg.loads(example_config())
    assert c.incident.bulletin_cron == "0 9 1 * *" and c.incident.bulletin_weekly_cron == ""
    assert c.incident.corrected_report == timedelta(hours=1)
    weekly = cfg.loads('[incident]\nbulletin_weekly_cron = "0 9 * * 1"\n')
    assert weekly.incident.bulletin_weekly_cron == "0 9 * * 1"
    err = _error('[incident]\nbulletin_cron = "every month"\n')
    assert err.key == "incident.bulletin_cron" and "crontab" in err.problem
    err = _error('[incident]\nbulletin_weekly_cron = "0 9 1 * 1"\n')  # day and weekday: cron and APScheduler differ
    assert err.key == "incident.bulletin_weekly_cron"
    assert _error('[incident]\ncorrected_report = "0s"\n').key == "incident.corrected_report"


def test_the_retired_transport_key_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """An old config naming the removed hand-written transport still starts, and says what to do."""
    c = cfg.loads('[telegram]\ntransport = "lean"\n')
    assert c.telegram == cfg.Telegram()
    assert "telegram.transport = 'lean' is ignored" in caplog.text and "remove the line" in caplog.text


def test_proxy_and_telegram_limits() -> None:
    c = cfg.loads(example_config())
    assert (c.telegram.proxy, c.telegram.global_per_second, c.telegram.per_chat_per_second,
            c.telegram.group_per_minute) == ("", 30, 1, 20)
    assert cfg.loads('[telegram]\nproxy = "http://10.0.0.1:3128"\n').telegram.proxy == "http://10.0.0.1:3128"
    with pytest.raises(ConfigError, match="telegram.proxy"):
        cfg.loads('[telegram]\nproxy = "10.0.0.1:3128"\n')
    with pytest.raises(ConfigError, match="telegram.group_per_minute"):
        cfg.loads("[telegram]\ngroup_per_minute = -1\n")


# Every periodic time is a crontab line; the older notations name the line they meant.
@pytest.mark.parametrize(("text", "key", "old", "meant"), [
    ('[info]\ndeadline = "fri 17:00"\n', "info.deadline", "fri 17:00", "0 17 * * fri"),
    ('[info]\nreminders = ["0 17 * * thu", "fri 12:00"]\n', "info.reminders[1]", "fri 12:00", "0 12 * * fri"),
    ('[info]\nbulletin = "1 09:00"\n', "info.bulletin", "1 09:00", "0 9 1 * *"),
    ('[calendar]\ncheck = "mon 09:00"\n', "calendar.check", "mon 09:00", "0 9 * * mon"),
    ('[roster]\nhandover = "08:30"\n', "roster.handover", "08:30", "30 8 * * *"),
    ('[leave]\nback_remind_at = "9h"\n', "leave.back_remind_at", "9h", "0 9 * * *"),
    ('[supervision]\nbulletin_cron = "mon 09:00"\n', "supervision.bulletin_cron", "mon 09:00", "0 9 * * mon"),
])
def test_an_old_schedule_says_what_to_write_instead(text: str, key: str, old: str, meant: str) -> None:
    problem = _error(text)
    assert problem.key == key and f'write "{meant}"' in problem.problem and "old notation" in problem.problem
    assert str(problem).startswith("site.toml:2: ")  # the file and the line, then the key
    cfg.loads(text.replace(old, meant))  # what it says to write is taken


def test_schedules_are_crontabs_with_the_shape_their_rule_needs() -> None:
    c = cfg.loads("")
    assert (c.info.deadline, c.info.reminders, c.info.bulletin) == ("0 17 * * fri", ("0 17 * * thu", "0 12 * * fri"),
                                                                    "0 9 1 * *")
    assert (c.calendar.check, c.roster.handover, c.leave.back_remind_at) == ("0 9 * * mon", "shifts", "0 9 * * *")
    assert cfg.loads('[roster]\nhandover = "30 8 * * 1-5"\n').roster.handover == "30 8 * * 1-5"
    assert cfg.loads('[roster]\nhandover = ""\n').roster.handover == ""
    err = _error('[info]\ndeadline = "0 17 * * mon-fri"\n')  # the quota week ends once a week
    assert err.key == "info.deadline" and "once a week" in err.problem
    err = _error('[info]\nbulletin = "0 9 31 * *"\n')  # not every month has a 31st
    assert err.key == "info.bulletin" and "once every month" in err.problem
    err = _error('[calendar]\ncheck = "0 25 * * mon"\n')
    assert err.key == "calendar.check" and "bad crontab" in err.problem and "0 9 * * mon" in err.problem


def test_ha_lease_and_heartbeat_defaults_and_bounds() -> None:
    assert cfg.loads("").ha == cfg.HighAvailability(lease_seconds=15, heartbeat_seconds=2)
    assert cfg.loads("[ha]\nlease_seconds = 30\nheartbeat_seconds = 1.5\n").ha.heartbeat_seconds == 1.5
    assert cfg.loads(example_uncommented()).ha == cfg.HighAvailability()  # the example shows the defaults
    err = _error("[ha]\nlease_seconds = 6\n")  # 3 s margin + two heartbeats of 2 s is 7 s
    assert err.key == "ha.lease_seconds" and err.line == 2 and "at least 7 s" in err.problem
    err = _error("[ha]\nheartbeat_seconds = 0.1\n")
    assert err.key == "ha.heartbeat_seconds" and "at least 0.5 s" in err.problem
    for bad in ('"15s"', "true", "-1", "0"):
        err = _error(f"[ha]\nlease_seconds = {bad}\n")
        assert err.key == "ha.lease_seconds" and "seconds above 0" in err.problem, bad
    assert _error("[ha]\nlease = 15\n").key == "ha.lease"
