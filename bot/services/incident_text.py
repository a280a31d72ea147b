"""How incidents read in messages: the facts block, the alert, stage lines. Pure rendering."""

from __future__ import annotations

from datetime import datetime

from bot import callbacks as cb
from bot.domain.casualties import Casualties
from bot.domain.incidents import Incident, Stage, StageState, stage_state
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


def alert_text(s: Services, inc: Incident, reporter: str, now: datetime, status_lines: list[str]) -> str:
    title = s.texts(
        "incident.alert.title", number=inc.number,
        major=s.texts("incident.alert.major") if inc.is_major(s.policy) else "",
    )
    body = s.texts(
        "incident.alert.body", title=title, facts=incident_facts(s, inc), reporter=esc(reporter),
        next=next_deadline_text(s, inc, now),
    )
    return "\n".join([body, *status_lines])


def alert_keyboard(s: Services, inc: Incident) -> dict[str, object]:
    row: list[tuple[str, str]] = []
    if inc.acked_by is None:
        row.append((s.texts("incident.btn.ack"), cb.incident(cb.ACK, inc.id)))
    if inc.forwarded_by is None:
        row.append((s.texts("incident.btn.forward"), cb.incident(cb.FORWARD, inc.id)))
    rows = [row] if row else []
    rows.append([
        (s.texts("incident.btn.ask"), cb.incident(cb.ASK, inc.id)),
        (s.texts("incident.btn.detail"), cb.incident(cb.DETAIL, inc.id)),
    ])
    return cb.keyboard(rows)


def unit_keyboard(s: Services, inc: Incident) -> dict[str, object]:
    """What the unit's own reporters can do next on an open incident."""
    rows: list[list[tuple[str, str]]] = []
    for stage, action in ((Stage.WRITTEN, cb.WRITTEN), (Stage.FULL, cb.FULL)):
        rec = inc.stage(stage)
        if rec is not None and rec.filed_at is None:
            rows.append([(s.texts(f"incident.btn.{stage.value}"), cb.incident(action, inc.id))])
    rows.append([
        (s.texts("incident.btn.followup"), cb.incident(cb.FOLLOWUP, inc.id)),
        (s.texts("incident.btn.close"), cb.incident(cb.CLOSE, inc.id)),
    ])
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
