"""The review of an incident's facts, pre-filled, to confirm or correct one by one: the written
report (书面报告), the unit's first report on an event the office put on record (with when it
learnt of it), the corrected written report owed after a 误报 mark, a director's 误报
correction (handlers/marks.py asks the reason first) and the duty room's correction of the facts
it holds. Each correction is committed to the draft."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.context import DeskContext
from bot.domain.casualties import Casualties, CasualtyInputError, parse_casualties
from bot.domain.incidents import Category, Stage
from bot.domain.members import Action
from bot.domain.report_draft import MAX_DESCRIPTION, MAX_PLACE
from bot.domain.timeparse import TimeBounds, TimeInputError, parse_event_time
from bot.services import incident_text as txt
from bot.services.errors import ServiceError
from bot.services.incident_findings import mark_wrong
from bot.services.incident_record import correct_facts, file_unit_first
from bot.services.incidents import file_written
from handlers.common import (
    ButtonStep,
    DialogKind,
    DraftRows,
    Rows,
    acted_at,
    answer_query,
    buttons_only,
    guard,
    read_text,
    refuse,
    say,
)
from handlers.stages import KIND, StageDraft, _draft, _finish, _open, _save, stray
from storage import incidents


class Step(IntEnum):
    """The review's steps; a purpose's state is its base plus the step (`state`)."""

    REVIEW = 0
    TIME = 1
    PLACE = 2
    CASUALTIES = 3
    DESCRIPTION = 4
    LEARNT = 5  # the first report only: when the unit learnt of it
    CATEGORY = 6


# One review of the facts, pre-filled, to confirm or correct, for five purposes: the written
# report; the unit's first report on an event the office put on record (plus when it learnt of
# it); the corrected written report owed after a 误报 mark; a director's 误报 correction
# (handlers/marks.py asks the reason first); the duty room's correction of the facts it holds.
WRITTEN, FIRST, CORRECTED, WRONG, OFFICE = "written", "first", "corrected", "wrong", "office"
NOTHING_CORRECTED = ("incident.marks.no_correction", "record.no_correction")
PURPOSE_ACTION = {WRITTEN: Action.FILE_STAGE, FIRST: Action.FILE_STAGE, CORRECTED: Action.FILE_STAGE,
                  WRONG: Action.MARK_INCIDENT, OFFICE: Action.CORRECT_FACTS}
# Each purpose has states of its own, so the state alone says which review is open: the dialogue
# map asks before the reviews that file a stage (emergency answers) are left, and sets the office's
# own aside. stages.py holds 210–230, marks.py the 260s.
BASE = {WRITTEN: 200, FIRST: 240, CORRECTED: 250, WRONG: 270, OFFICE: 280}
FILES_A_STAGE = (WRITTEN, FIRST, CORRECTED)
_FIXES = {Step.TIME: "time", Step.LEARNT: "learnt", Step.PLACE: "place", Step.CASUALTIES: "casualties",
          Step.DESCRIPTION: "description", Step.CATEGORY: "category"}
_STEP_OF_FIX = {f"iw:{fix}": step for step, fix in _FIXES.items()}


class S(IntEnum):
    """The written report's states, by name (every purpose's: `state(purpose, step)`)."""

    W_REVIEW = BASE[WRITTEN] + Step.REVIEW
    W_TIME = BASE[WRITTEN] + Step.TIME
    W_PLACE = BASE[WRITTEN] + Step.PLACE
    W_CASUALTIES = BASE[WRITTEN] + Step.CASUALTIES
    W_DESCRIPTION = BASE[WRITTEN] + Step.DESCRIPTION
    W_CATEGORY = BASE[WRITTEN] + Step.CATEGORY


def steps(purpose: str) -> tuple[Step, ...]:
    return tuple(st for st in Step if st is not Step.LEARNT or purpose == FIRST)


def state(purpose: str, step: Step) -> int:
    return BASE[purpose] + step


def states_of(purpose: str) -> frozenset[int]:
    return frozenset(state(purpose, st) for st in steps(purpose))


def _purpose(draft: StageDraft) -> str:
    purpose = draft.purpose or WRITTEN
    return purpose if purpose in BASE else WRITTEN


async def _start_review(update: Update, ctx: DeskContext, purpose: str, stage: Stage | None) -> int:
    opened = await _open(update, ctx, PURPOSE_ACTION[purpose])
    if opened is None:
        return ConversationHandler.END
    _member, inc = opened
    rec = inc.stage(stage) if stage is not None else None
    if stage is not None and (rec is None or rec.filed_at is not None):
        await say(update, ctx, ctx.t("incident.stages.already_filed", number=inc.number,
                                     stage=ctx.t(f"incident.stage.{stage.value}")))
        return ConversationHandler.END
    await _save(update, ctx, StageDraft(inc.id, purpose=purpose, corrections={}))
    return await show_written(update, ctx)


async def start_written(update: Update, ctx: DeskContext) -> int:
    """Entry from 📝 书面报告: show the first report's facts, pre-filled, to confirm or correct."""
    return await _start_review(update, ctx, WRITTEN, None)


async def start_first(update: Update, ctx: DeskContext) -> int:
    """Entry from 🚨 首报 on an event the office put on record: the unit's own first report."""
    return await _start_review(update, ctx, FIRST, Stage.FIRST)


async def start_corrected(update: Update, ctx: DeskContext) -> int:
    """Entry from 📝 更正书面报告, owed after a director's 误报 mark."""
    return await _start_review(update, ctx, CORRECTED, Stage.CORRECTED)


async def start_office(update: Update, ctx: DeskContext) -> int:
    """Entry from ✏️ 更正要素: the duty room corrects the facts it holds (not a finding)."""
    return await _start_review(update, ctx, OFFICE, None)


def _when(c: dict[str, Any], key: str, default: datetime) -> datetime:
    return datetime.fromisoformat(c[key]) if key in c else default


def _review_rows(ctx: DeskContext, purpose: str) -> Rows:
    """The purpose's confirm button, then one button per fact that may be corrected."""
    buttons = [(ctx.t(f"incident.stage_btn.{_FIXES[st]}"), f"iw:{_FIXES[st]}") for st in steps(purpose) if st in _FIXES]
    pairs = (buttons[i:i + 2] for i in range(0, len(buttons), 2))
    return [[(ctx.t(f"incident.stage_btn.ok_{purpose}"), "iw:ok")], *pairs]


async def review_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    return ButtonStep(_review_rows(ctx, _purpose(await _draft(update, ctx))))


async def category_buttons(update: Update, ctx: DeskContext) -> ButtonStep:
    names = [(ctx.t(f"incident.cat.{c.value}"), f"iwc:{c.value}") for c in Category]
    return ButtonStep([names[i:i + 2] for i in range(0, len(names), 2)])


async def show_written(update: Update, ctx: DeskContext) -> int:
    s = ctx.services
    draft = await _draft(update, ctx)
    assert draft.incident_id is not None
    inc = await incidents.get(s.db.read, draft.incident_id)
    assert inc is not None
    c = draft.corrections or {}
    purpose = _purpose(draft)
    facts = txt.facts(
        s, unit_code=inc.unit_code, category=c.get("category", inc.category.value),
        occurred_at=_when(c, "occurred_at", inc.occurred_at), learnt_at=_when(c, "learnt_at", inc.learnt_at),
        place=c.get("place", inc.place), latitude=c.get("latitude", inc.latitude),
        longitude=c.get("longitude", inc.longitude),
        casualties=Casualties(*c["casualties"]) if "casualties" in c else inc.casualties,
        description=c.get("description", inc.description),
    )
    await say(update, ctx, ctx.t(f"incident.stages.{purpose}_intro", number=inc.number, facts=facts),
              cb.keyboard(_review_rows(ctx, purpose)))
    return state(purpose, Step.REVIEW)


async def ask_correction(update: Update, ctx: DeskContext, purpose: str, step: Step) -> int:
    """The question of one correction step (written_choice opens it; resume asks it again)."""
    if step is Step.DESCRIPTION:
        await say(update, ctx, ctx.t("incident.ask_description", limit=MAX_DESCRIPTION))
    elif step is Step.CATEGORY:
        await say(update, ctx, ctx.t("incident.stages.ask_category"),
                  cb.keyboard((await category_buttons(update, ctx)).rows))
    else:
        key = {Step.TIME: "incident.ask_occurred", Step.LEARNT: "incident.stages.ask_unit_learnt",
               Step.PLACE: "incident.ask_place", Step.CASUALTIES: "incident.ask_casualties"}[step]
        await say(update, ctx, ctx.t(key))
    return state(purpose, step)


async def written_choice(update: Update, ctx: DeskContext) -> int:
    """确认… files it (or records the finding, or the office's correction); the others ask for one correction."""
    choice = (update.callback_query.data or "") if update.callback_query else ""
    await answer_query(update)
    draft = await _draft(update, ctx)
    incident_id = draft.incident_id
    if incident_id is None:
        await say(update, ctx, ctx.t("incident.draft_lost"))
        return ConversationHandler.END
    purpose = _purpose(draft)
    step = _STEP_OF_FIX.get(choice)
    if step is not None and step in steps(purpose):
        return await ask_correction(update, ctx, purpose, step)
    member = await guard(update, ctx, PURPOSE_ACTION[purpose])
    if member is None:
        return await _finish(update, ctx)
    c = dict(draft.corrections or {})
    if "casualties" in c:
        c["casualties"] = Casualties(*c["casualties"])
    for key in ("occurred_at", "learnt_at"):
        if key in c:
            c[key] = datetime.fromisoformat(c[key])
    s = ctx.services
    try:
        if purpose in (WRONG, OFFICE):
            at = await acted_at(update, ctx)
            done = await (mark_wrong(s, member, incident_id, draft.reason or "", c, at=at)
                          if purpose == WRONG else correct_facts(s, member, incident_id, c))
            await say(update, ctx, done)
            return await _finish(update, ctx)
        if purpose == FIRST:
            late = await file_unit_first(s, member, incident_id, c, at=await acted_at(update, ctx))
        else:
            late = await file_written(s, member, incident_id, c, at=await acted_at(update, ctx),
                                      stage=Stage.CORRECTED if purpose == CORRECTED else Stage.WRITTEN)
    except ServiceError as err:
        if err.key in NOTHING_CORRECTED:  # nothing corrected yet: stay in the review
            await say(update, ctx, ctx.t(err.key, **err.kw))
            return state(purpose, Step.REVIEW)
        await refuse(update, ctx, err)
        return await _finish(update, ctx)
    inc = await incidents.get(s.db.read, incident_id)
    assert inc is not None
    await say(update, ctx, ctx.t(f"incident.stages.{purpose}_done", number=inc.number, late=late),
              txt.unit_keyboard(s, inc))
    return await _finish(update, ctx)


async def _correct(update: Update, ctx: DeskContext, **changes: Any) -> int:
    draft = await _draft(update, ctx)
    draft.corrections = {**(draft.corrections or {}), **changes}
    await _save(update, ctx, draft)
    return await show_written(update, ctx)


async def _stay(update: Update, ctx: DeskContext, step: Step) -> int:
    """The step the person is on (the purpose is the draft's)."""
    return state(_purpose(await _draft(update, ctx)), step)


async def _typed_time(update: Update, ctx: DeskContext) -> datetime | None:
    s = ctx.services
    text = await read_text(update, ctx, limit=64)
    if text is None:
        return None
    try:
        return parse_event_time(text, s.now(), s.config.tz, TimeBounds(s.config.incident.max_backdate))
    except TimeInputError as err:
        await say(update, ctx, ctx.t(f"incident.time_{err.code}", days=s.config.incident.max_backdate.days))
        return None


async def written_time(update: Update, ctx: DeskContext) -> int:
    """Reads the corrected time of the event."""
    when = await _typed_time(update, ctx)
    if when is None:
        return await _stay(update, ctx, Step.TIME)
    return await _correct(update, ctx, occurred_at=when.isoformat())


async def written_learnt(update: Update, ctx: DeskContext) -> int:
    """Reads when the unit learnt of the event (its deadlines count from then)."""
    when = await _typed_time(update, ctx)
    if when is None:
        return await _stay(update, ctx, Step.LEARNT)
    return await _correct(update, ctx, learnt_at=when.isoformat())


async def written_category(update: Update, ctx: DeskContext) -> int:
    """Reads the corrected category (a button)."""
    value = (update.callback_query.data or "").removeprefix("iwc:") if update.callback_query else ""
    if value not in {c.value for c in Category}:
        await answer_query(update, ctx.t("core.stale_button"), alert=True)
        return await _stay(update, ctx, Step.CATEGORY)
    await answer_query(update)
    return await _correct(update, ctx, category=value)


async def written_place(update: Update, ctx: DeskContext) -> int:
    """Reads the corrected place (text or location)."""
    msg = update.effective_message
    if msg is not None and msg.location is not None:
        return await _correct(update, ctx, latitude=msg.location.latitude, longitude=msg.location.longitude)
    text = await read_text(update, ctx, limit=MAX_PLACE)
    if text is None:
        return await _stay(update, ctx, Step.PLACE)
    return await _correct(update, ctx, place=text)


async def written_casualties(update: Update, ctx: DeskContext) -> int:
    """Reads corrected casualty figures."""
    text = await read_text(update, ctx, limit=100)
    if text is None:
        return await _stay(update, ctx, Step.CASUALTIES)
    try:
        c = parse_casualties(text)
    except CasualtyInputError:
        await say(update, ctx, ctx.t("incident.casualties_bad"))
        return await _stay(update, ctx, Step.CASUALTIES)
    return await _correct(update, ctx, casualties=[c.deaths, c.injured, c.missing])


async def written_description(update: Update, ctx: DeskContext) -> int:
    """Reads the corrected description."""
    text = await read_text(update, ctx, limit=MAX_DESCRIPTION)
    if text is None:
        return await _stay(update, ctx, Step.DESCRIPTION)
    return await _correct(update, ctx, description=text)


TEXT = filters.TEXT & ~filters.COMMAND


def entry_points() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(start_written, pattern=cb.pattern(cb.INCIDENT, (cb.WRITTEN,))),
        CallbackQueryHandler(start_first, pattern=cb.pattern(cb.INCIDENT, (cb.FIRST,))),
        CallbackQueryHandler(start_corrected, pattern=cb.pattern(cb.INCIDENT, (cb.CORRECTED,))),
        CallbackQueryHandler(start_office, pattern=cb.pattern(cb.INCIDENT, (cb.FIX,))),
    ]


def review_states(purpose: str) -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    """One purpose's steps (marks.py adds the 误报 correction's to its own dialogue)."""
    other = [CallbackQueryHandler(stray, pattern=r"^(iw|iwc):"), MessageHandler(~filters.COMMAND, stray)]
    found: dict[object, list[BaseHandler]] = {  # type: ignore[type-arg]
        state(purpose, Step.REVIEW): [
            CallbackQueryHandler(written_choice,
                                 pattern=r"^iw:(ok|time|learnt|place|casualties|description|category)$"),
            other[0], MessageHandler(~filters.COMMAND, buttons_only(review_buttons))],
        state(purpose, Step.TIME): [MessageHandler(TEXT, written_time), *other],
        state(purpose, Step.CATEGORY): [CallbackQueryHandler(written_category, pattern=r"^iwc:[a-z]{1,16}$"),
                                        other[0], MessageHandler(~filters.COMMAND, buttons_only(category_buttons))],
        state(purpose, Step.PLACE): [MessageHandler(TEXT | filters.LOCATION, written_place), *other],
        state(purpose, Step.CASUALTIES): [MessageHandler(TEXT, written_casualties), *other],
        state(purpose, Step.DESCRIPTION): [MessageHandler(TEXT, written_description), *other],
    }
    if purpose == FIRST:
        found[state(purpose, Step.LEARNT)] = [MessageHandler(TEXT, written_learnt), *other]
    return found


def states() -> dict[object, list[BaseHandler]]:  # type: ignore[type-arg]
    return {k: v for purpose in (WRITTEN, FIRST, CORRECTED, OFFICE) for k, v in review_states(purpose).items()}


# --- what the dialogue map needs to keep these answers (handlers/dialogs.py) -------------------


def _corrections(rows: DraftRows) -> int:
    return len(StageDraft.from_dict(rows.get(KIND, {})).corrections or {})


async def resume(update: Update, ctx: DeskContext, at: int) -> int:
    """The question of the step again; the draft keeps every correction."""
    draft = await _draft(update, ctx)
    inc = await incidents.get(ctx.services.db.read, draft.incident_id) if draft.incident_id is not None else None
    if inc is None:
        await say(update, ctx, ctx.t("incident.draft_lost"))
        return await _finish(update, ctx)
    if not inc.open:  # closed meanwhile: nothing left to file or correct
        await say(update, ctx, ctx.t("incident.stages.already_closed", number=inc.number))
        return await _finish(update, ctx)
    purpose = _purpose(draft)
    step = Step(at - BASE[purpose]) if at in states_of(purpose) else Step.REVIEW
    if step is Step.REVIEW:
        return await show_written(update, ctx)
    return await ask_correction(update, ctx, purpose, step)


def kind(purpose: str, start: Any, **extra: Any) -> DialogKind:
    """The dialogue of one purpose: the reviews that file a stage are emergency answers."""
    return DialogKind(purpose, states_of(purpose), (KIND,), (start,), _corrections, resume,
                      urgent=purpose in FILES_A_STAGE, **extra)


def dialogs() -> list[DialogKind]:
    # The 误报 correction is marks.py's dialogue: its reason comes first.
    return [kind(WRITTEN, start_written), kind(FIRST, start_first), kind(CORRECTED, start_corrected),
            kind(OFFICE, start_office)]
