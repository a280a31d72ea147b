"""How incidents read in messages: the facts block, the alert, stage lines. Pure rendering."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot import callbacks as cb
from bot.domain.accountability import whole_minutes
from bot.domain.casualties import Casualties
from bot.domain.incidents import Incident, Stage, StageState, stage_state
from bot.domain.record import Source, unit_reported
from bot.fmt import esc
from bot.services.base import Services


def casualties_text(s: Services, c: Casualties) -> str:
    unk = s.texts("incident.unknown_mark")
    if not c.any_known:
        return unk
    return s.texts(
        "incident.casualties_fmt",
        deaths=unk if c.deaths is None else c.deaths,
        injured=unk if c.injured is None else c.injured,
        missing=unk if c.missing is None else c.missing,
    )


def place_text(s: Services, place: str, lat: float | None, lon: float | None) -> str:
    out = esc(place) if place else ""
    if lat is not None and lon is not None:
        out = (out + " " if out else "") + s.texts("incident.place_gps", lat=lat, lon=lon)
    return out or s.texts("incident.open_mark")


def facts(
    s: Services, *, unit_code: str, category: str, occurred_at: datetime, learnt_at: datetime, place: str,
    latitude: float | None, longitude: float | None, casualties: Casualties, description: str,
) -> str:
    return s.texts(
        "incident.facts",
        unit=esc(s.unit_name(unit_code)),
        category=s.texts(f"incident.cat.{category}"),
        occurred=s.fmt.dt(occurred_at),
        learnt=s.fmt.dt(learnt_at),
        place=place_text(s, place, latitude, longitude),
        casualties=casualties_text(s, casualties),
        description=esc(description) or s.texts("incident.open_mark"),
    )


def incident_facts(s: Services, inc: Incident) -> str:
    return facts(
        s, unit_code=inc.unit_code, category=inc.category.value, occurred_at=inc.occurred_at,
        learnt_at=inc.learnt_at, place=inc.place, latitude=inc.latitude, longitude=inc.longitude,
        casualties=inc.casualties, description=inc.description,
    )


def next_deadline_text(s: Services, inc: Incident, now: datetime) -> str:
    nxt = inc.next_deadline(now)
    if nxt is None:
        return s.texts("incident.alert.no_next")
    return s.texts("incident.alert.next", stage=s.texts(f"incident.stage.{nxt.stage}"), due=s.fmt.dt(nxt.due_at))


def first_late_flag(s: Services, inc: Incident) -> str:
    """「首报迟报 N 分钟」 in the alert's title when the first report came after its deadline."""
    first = inc.stage(Stage.FIRST)
    if first is None or first.delay is None:
        return ""
    return s.texts("incident.alert.first_late", minutes=whole_minutes(first.delay))


def source_text(s: Services, inc: Incident) -> str:
    """How the office learnt of a recorded event: 「单位电话报告（王芳，138 0000 0000）」."""
    name = s.texts(f"record.source.{inc.source}")
    if inc.source == Source.PHONE and (inc.caller_name or inc.caller_phone):
        name += s.texts("record.caller", name=esc(inc.caller_name), phone=esc(inc.caller_phone))
    return name


def reporter_line(s: Services, inc: Incident, reporter: str) -> str:
    """Who reported it: the unit's officer, or the source and the duty officer who put it on record."""
    if not inc.recorded:
        return s.texts("incident.alert.reporter", reporter=esc(reporter))
    line: str = s.texts("record.alert_line", source=source_text(s, inc), recorder=esc(reporter),
                   time=s.fmt.dt(inc.received_at))
    if not unit_reported(inc.source):
        line += "\n" + s.texts("record.alert_unreported", unit=esc(s.unit_name(inc.unit_code)))
    return line


def alert_text(s: Services, inc: Incident, reporter: str, now: datetime, status_lines: list[str]) -> str:
    title = s.texts(
        "incident.alert.title", number=inc.number,
        major=s.texts("incident.alert.major") if inc.is_major(s.policy) else "",
    ) + first_late_flag(s, inc)
    body = s.texts(
        "incident.alert.body", title=title, facts=incident_facts(s, inc), reporter=reporter_line(s, inc, reporter),
        next=next_deadline_text(s, inc, now),
    )
    return "\n".join([body, *status_lines])


def alert_keyboard(s: Services, inc: Incident, *, office: bool = True) -> dict[str, object]:
    """The alert's buttons. 已收到 / 已上报市委 / 要求补充 are the office's (`office`); the unit's
    own head, who sees the alert too, gets 详情 only."""
    rows: list[list[tuple[str, str]]] = []
    row: list[tuple[str, str]] = []
    if office and inc.acked_by is None:
        row.append((s.texts("incident.btn.ack"), cb.incident(cb.ACK, inc.id)))
    if office and inc.forwarded_by is None:
        row.append((s.texts("incident.btn.forward"), cb.incident(cb.FORWARD, inc.id)))
    if row:
        rows.append(row)
    detail = (s.texts("incident.btn.detail"), cb.incident(cb.DETAIL, inc.id))
    rows.append([(s.texts("incident.btn.ask"), cb.incident(cb.ASK, inc.id)), detail] if office else [detail])
    return cb.keyboard(rows)


# A stage the unit still owes, the button that opens it, in the order they fall due.
UNIT_STAGE_BUTTONS = ((Stage.FIRST, cb.FIRST), (Stage.CORRECTED, cb.CORRECTED), (Stage.WRITTEN, cb.WRITTEN),
                      (Stage.FULL, cb.FULL))


def unit_keyboard(s: Services, inc: Incident) -> dict[str, object]:
    """What the unit's own reporters can do next on an open incident. On an event the office
    learnt of elsewhere, the first report comes first (先报"事")."""
    rows: list[list[tuple[str, str]]] = []
    first = inc.stage(Stage.FIRST)
    first_owed = first is not None and first.filed_at is None
    for stage, action in UNIT_STAGE_BUTTONS:
        rec = inc.stage(stage)
        if rec is not None and rec.filed_at is None and (stage is Stage.FIRST or not first_owed):
            rows.append([(s.texts(f"incident.btn.{stage.value}"), cb.incident(action, inc.id))])
    last = [] if first_owed else [(s.texts("incident.btn.followup"), cb.incident(cb.FOLLOWUP, inc.id))]
    rows.append([*last, (s.texts("incident.btn.close"), cb.incident(cb.CLOSE, inc.id))])
    return cb.keyboard(rows)


def stage_line(s: Services, inc: Incident, now: datetime) -> str:
    parts = []
    for rec in inc.stages:
        state = stage_state(rec, now)
        name = s.texts(f"incident.stage.{rec.stage}")
        if state is StageState.FILED_LATE:
            parts.append(s.texts("incident.views.filed_late", stage=name, delay=s.fmt.dur(rec.delay or now - now)))
        elif state is StageState.PENDING:
            parts.append(s.texts("incident.views.pending", stage=name, left=s.fmt.dur(rec.due_at - now)))
        elif state is StageState.OVERDUE:
            parts.append(s.texts("incident.views.overdue", stage=name, delay=s.fmt.dur(now - rec.due_at)))
        else:
            parts.append(s.texts(f"incident.views.{state.value}", stage=name))
    return " ".join(parts)


def event_text(s: Services, kind: str, d: dict[str, Any]) -> str:
    """One timeline entry of an incident (incident_events row), in the catalog's words."""
    kw: dict[str, str] = {k: esc(v) for k, v in d.items()}
    if "stage" in d:
        kw["stage"] = s.texts(f"incident.stage.{d['stage']}")
    if "seconds" in d:
        kw["elapsed"] = s.fmt.dur(timedelta(seconds=int(d["seconds"])))
    if "source" in d:
        kw["source"] = s.texts(f"record.source.{d['source']}")
    if "finding" in d:
        kw["finding"] = s.texts(f"incident.marks.kind.{d['finding']}")
    if kind in ("first", "written", "full", "corrected"):
        delay = int(d.get("delay") or 0)
        late = s.fmt.dur(timedelta(seconds=delay))
        kw["late"] = s.texts("incident.alert.late_suffix", delay=late) if delay > 0 else ""
    key = f"incident.event.{kind}"
    return s.texts(key, **kw) if s.texts.has(key) else esc(kind)
