"""The office's side of an alert: acknowledge, forward upstream, ask the reporter, answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import callbacks as cb
from bot.domain.members import Action, Member
from bot.fmt import esc
from bot.services import escalation
from bot.services.base import Services
from bot.services.errors import ServiceError, Stale
from bot.services.incidents import REF, entitled, load_for, refresh_alerts
from bot.services.routing import unit_reporters
from storage import incidents, members


@dataclass(frozen=True)
class Outcome:
    """`first` is False when someone else had already done it; `text` explains either way."""

    first: bool
    text: str


async def acknowledge(s: Services, member: Member, incident_id: int, *, at: datetime) -> Outcome:
    """已收到, pressed `at` (never before the alert existed)."""
    async with s.uow() as tx:
        inc = await load_for(s, tx.conn, member, incident_id, Action.ACK_ALERT)
        pressed = min(max(at, inc.created_at), tx.now)
        if not await incidents.acknowledge(tx.conn, inc.id, member.id, pressed):
            who = await members.by_id(tx.conn, inc.acked_by or 0)
            return Outcome(False, s.texts("incident.alert.ack_already", name=who.name if who else "?",
                                          time=s.fmt.dt(inc.acked_at)))
        await incidents.add_event(tx.conn, inc.id, pressed, member.id, "acked", name=member.name)
        await escalation.stop(s, tx, inc, member)
        fresh = await incidents.get(tx.conn, inc.id)
        assert fresh is not None
        await refresh_alerts(s, tx, fresh)
        return Outcome(True, s.texts("incident.alert.ack_done"))


async def check_can_ask(s: Services, member: Member, incident_id: int) -> str:
    """Before asking for the question text: may this member ask? Returns the prompt."""
    inc = await load_for(s, s.db.read, member, incident_id, Action.ASK_REPORTER)
    return s.texts("incident.alert.ask_prompt", unit=esc(s.unit_name(inc.unit_code)), number=inc.number)


async def ask_reporter(s: Services, member: Member, incident_id: int, question: str,
                       asker_message_id: int | None) -> str:
    async with s.uow() as tx:
        inc = await load_for(s, tx.conn, member, incident_id, Action.ASK_REPORTER)
        qid = await incidents.add_question(tx.conn, inc.id, member.id, question, tx.now, asker_message_id)
        if inc.recorded:
            # Put on record by the duty room: the question goes to the unit's reporting members.
            asked = entitled(inc, await unit_reporters(tx.conn, inc.unit_code))
        else:
            asked = entitled(inc, [await members.by_id(tx.conn, inc.reporter_id)])
        if not asked:
            raise Stale()
        await incidents.add_event(tx.conn, inc.id, tx.now, member.id, "asked", name=member.name, question=question)
        text = s.texts("incident.alert.question", number=inc.number, asker=esc(member.name), question=esc(question))
        markup = cb.keyboard([[(s.texts("incident.btn.reply"), cb.incident(cb.ANSWER, qid))]])
        await tx.send_text_all([m.telegram_id for m in asked], text, markup=markup, ref_kind=REF, ref_id=inc.id,
                               tag="question")
        return s.texts("incident.alert.asked")


async def check_can_answer(s: Services, member: Member, question_id: int) -> str:
    q = await incidents.question(s.db.read, question_id)
    if q is None or q["answer"] is not None:
        raise ServiceError("incident.alert.question_gone")
    inc = await load_for(s, s.db.read, member, q["incident_id"], Action.FILE_STAGE)
    return s.texts("incident.alert.answer_prompt", number=inc.number)


async def answer_question(s: Services, member: Member, question_id: int, answer: str) -> str:
    async with s.uow() as tx:
        q = await incidents.question(tx.conn, question_id)
        if q is None:
            raise Stale()
        inc = await load_for(s, tx.conn, member, q["incident_id"], Action.FILE_STAGE)
        if not await incidents.answer_question(tx.conn, question_id, member.id, answer, tx.now):
            raise ServiceError("incident.alert.question_gone")
        asker = await members.by_id(tx.conn, q["asker_id"])
        await incidents.add_event(tx.conn, inc.id, tx.now, member.id, "answered", name=member.name, answer=answer)
        told = entitled(inc, [asker])  # nobody, if the asker was deactivated (or moved) since asking
        for who in told:
            text = s.texts("incident.alert.answer", number=inc.number, name=esc(member.name),
                           question=esc(q["question"]), answer=esc(answer))
            # Threaded under the alert the question was asked from.
            await tx.send_text(who.telegram_id, text, ref_kind=REF, ref_id=inc.id, tag="answer",
                               reply_to=q["asker_message_id"] or None)
        key = "incident.alert.answered" if told else "incident.alert.answered_kept"
        return s.texts(key, asker=esc(asker.name if asker else "?"))
