"""The written report (书面报告) as a Word file, in the layout an office uses for an upward
专报: title (关于……的报告), 报送单位 and time, the facts in the order 事 → 情 → 因 → 果,
casualties, handling, next steps, 报送人 and phone, the 签发人 line. One per stage with the
current facts, and a full incident file (every stage, every version, the timeline).

Built with python-docx; sent only to the person who pressed the button, in a private chat.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.fact_versions import revisions
from bot.domain.incidents import Incident, Stage, StageState, stage_state
from bot.domain.members import Action, Member
from bot.domain.record import Source
from bot.fmt import plain
from bot.services import incident_text as txt
from bot.services.base import Services
from bot.services.errors import ServiceError
from bot.services.incident_detail import filed_stages
from bot.services.incident_versions import field_value, via_text
from bot.services.incidents import load_for
from storage import incident_versions, incidents, members

DOC_STAGES = (Stage.FIRST, Stage.WRITTEN, Stage.FULL, Stage.CORRECTED)
ALL = "all"
BODY_FONT = "仿宋_GB2312"  # the body of a 公文
TITLE_FONT = "方正小标宋简体"  # its title
HEADING_FONT = "黑体"  # 一、二、… headings


@dataclass
class Doc:
    """A report as plain data: what the Word file says, in order (tests read this too)."""

    title: str
    subtitle: str
    meta: list[str]
    addressee: str
    sections: list[tuple[str, list[str]]]
    closing: list[str]
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)


def _t(s: Services, key: str, **kw: object) -> str:
    return plain(s.texts(key, **kw))


def _when(s: Services, at: datetime, key: str = "incident.docx.datetime") -> str:
    """A 公文's way of writing a time: 2026年11月23日10时20分."""
    local = at.astimezone(s.config.tz)
    return s.texts(key, year=local.year, month=local.month, day=local.day, hour=local.hour, minute=local.minute)


def _or_open(s: Services, value: str | None) -> str:
    return value if value else _t(s, "incident.docx.pending")


async def compose(s: Services, inc: Incident, kind: str) -> Doc:
    """The report of one stage (`kind` a Stage value) or the whole incident file (`all`)."""
    now = s.now()
    unit = s.unit_name(inc.unit_code)
    category = s.texts(f"incident.cat.{inc.category}")
    place = inc.place or plain(txt.place_text(s, inc.place, inc.latitude, inc.longitude))
    rec = inc.stage(Stage(kind)) if kind != ALL else None
    filed_at = rec.filed_at if rec is not None and rec.filed_at else now
    filer = await members.by_id(s.db.read, rec.filed_by) if rec is not None and rec.filed_by else None
    stage_label = s.texts(f"incident.stage.{kind}") if kind != ALL else _t(s, "incident.docx.file_label")
    reporter, phone = (filer.name if filer else ""), ""
    if kind == Stage.FIRST and inc.source == Source.PHONE:
        reporter, phone = inc.caller_name or reporter, inc.caller_phone
    c = inc.casualties
    unk = _t(s, "incident.unknown_mark")
    sections = [
        (_t(s, "incident.docx.h_event"), [_t(s, "incident.docx.event", occurred=_when(s, inc.occurred_at),
                                               place=place, category=category,
                                               description=_or_open(s, inc.description))]),
        (_t(s, "incident.docx.h_situation"), [_or_open(s, "；".join(x for x in (inc.full.get("background"),
                                                                                inc.full.get("development")) if x))]),
        (_t(s, "incident.docx.h_cause"), [_or_open(s, inc.full.get("cause"))]),
        (_t(s, "incident.docx.h_outcome"), [_or_open(s, inc.full.get("consequences"))]),
        (_t(s, "incident.docx.h_casualties"), [_t(s, "incident.docx.casualties",
                                                  deaths=unk if c.deaths is None else c.deaths,
                                                  injured=unk if c.injured is None else c.injured,
                                                  missing=unk if c.missing is None else c.missing)]),
        (_t(s, "incident.docx.h_handling"), [_or_open(s, inc.full.get("handling"))]),
        (_t(s, "incident.docx.h_next"), [next_steps(s, inc, now)]),
    ]
    doc = Doc(
        title=_t(s, "incident.docx.title", place=place, category=category),
        subtitle=_t(s, "incident.docx.subtitle", stage=stage_label, number=inc.number),
        meta=[_t(s, "incident.docx.unit", unit=unit),
              _t(s, "incident.docx.time", time=_when(s, filed_at)),
              _t(s, "incident.docx.number", number=inc.number)],
        addressee=_t(s, "incident.docx.addressee"),
        sections=sections,
        closing=[_t(s, "incident.docx.closing")],
        signature=[_t(s, "incident.docx.reporter", name=reporter or "＿＿＿＿", phone=phone or "＿＿＿＿＿＿＿＿"),
                   _t(s, "incident.docx.signer"),
                   _t(s, "incident.docx.sign_off", unit=unit, date=_when(s, filed_at, "incident.docx.date"))],
    )
    if kind == ALL:
        doc.tables = await file_tables(s, inc, now)
    return doc


def next_steps(s: Services, inc: Incident, now: datetime) -> str:
    owed = [r for r in inc.stages if r.filed_at is None and not r.missed]
    if not inc.open:
        return _t(s, "incident.docx.next_closed", outcome=inc.outcome or "")
    if not owed:
        return _t(s, "incident.docx.next_followup")
    items = "；".join(_t(s, "incident.docx.next_item", stage=s.texts(f"incident.stage.{r.stage}"),
                         due=plain(s.fmt.dt(r.due_at))) for r in owed)
    return _t(s, "incident.docx.next_owed", items=items)


async def file_tables(s: Services, inc: Incident, now: datetime) -> list[tuple[str, list[str], list[list[str]]]]:
    """The incident file's tables: the stages, every version of the facts, the timeline."""
    names: dict[int, str] = {}

    async def name(member_id: int | None) -> str:
        if member_id is None:
            return ""
        if member_id not in names:
            m = await members.by_id(s.db.read, member_id)
            names[member_id] = m.name if m else "?"
        return names[member_id]

    stage_rows = []
    for r in inc.stages:
        state = stage_state(r, now)
        note = _t(s, f"incident.docx.state_{state.value}")
        if state is StageState.FILED_LATE and r.delay is not None:
            note += plain(s.fmt.dur(r.delay))
        stage_rows.append([s.texts(f"incident.stage.{r.stage}"), plain(s.fmt.dt(r.due_at)),
                           plain(s.fmt.dt(r.filed_at)) if r.filed_at else "", await name(r.filed_by), note])
    version_rows = []
    for rev in revisions(await incident_versions.of(s.db.read, inc.id)):
        v = rev.version
        changes = "；".join(f"{_t(s, f'incident.versions.field.{c.field}')}：{plain(field_value(s, c.field, c.old))}"
                           f" → {plain(field_value(s, c.field, c.new))}" for c in rev.changes) \
            or _t(s, "incident.versions.first")
        version_rows.append([str(v.no), plain(s.fmt.dt(v.at)), await name(v.actor_id), plain(via_text(s, v.via)),
                             changes])
    timeline = [[plain(s.fmt.dt(at)), plain(txt.event_text(s, kind, d))]
                for at, _actor, kind, d in await incidents.events(s.db.read, inc.id)]
    return [
        (_t(s, "incident.docx.t_stages"), [_t(s, f"incident.docx.stage_h{i}") for i in range(5)], stage_rows),
        (_t(s, "incident.docx.t_versions"), [_t(s, f"incident.docx.version_h{i}") for i in range(5)], version_rows),
        (_t(s, "incident.docx.t_timeline"), [_t(s, "incident.docx.timeline_h0"), _t(s, "incident.docx.timeline_h1")],
         timeline),
    ]


def render(doc: Doc) -> bytes:
    """The Doc as a .docx file (A4, 公文 fonts)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    d = Document()
    for section in d.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)

    def para(text: str, *, font: str = BODY_FONT, size: float = 16, bold: bool = False,
             align: WD_ALIGN_PARAGRAPH | None = None, indent: bool = False) -> None:
        p = d.add_paragraph()
        if align is not None:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = Pt(size * 2)
        run = p.add_run(text)
        run.bold, run.font.size, run.font.name = bold, Pt(size), font
        # Chinese glyphs take the East Asian font, which python-docx's font.name does not set.
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)

    para(doc.title, font=TITLE_FONT, size=22, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc.subtitle, size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    for line in doc.meta:
        para(line)
    para(doc.addressee)
    for heading, paragraphs in doc.sections:
        para(heading, font=HEADING_FONT, indent=True)
        for text in paragraphs:
            para(text, indent=True)
    for line in doc.closing:
        para(line, indent=True)
    for title, header, rows in doc.tables:
        para(title, font=HEADING_FONT)
        table = d.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = text
        for row in rows:
            for cell, text in zip(table.add_row().cells, row, strict=True):
                cell.text = text
    for line in doc.signature:
        para(line, align=WD_ALIGN_PARAGRAPH.RIGHT)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


async def choices(s: Services, member: Member, incident_id: int) -> tuple[Incident, list[str]]:
    """What may be downloaded: each stage on file, and the whole incident file."""
    inc = await load_for(s, s.db.read, member, incident_id, Action.DOWNLOAD_REPORT)
    return inc, [st.value for st in filed_stages(inc) if st in DOC_STAGES] + [ALL]


async def document(s: Services, member: Member, incident_id: int, kind: str) -> tuple[str, Doc]:
    """The file name and content of one report; refused when not allowed or not on file."""
    inc, allowed = await choices(s, member, incident_id)
    if kind not in allowed:
        raise ServiceError("incident.docx.not_filed", number=inc.number,
                           stage=s.texts(f"incident.stage.{kind}") if kind in {x.value for x in DOC_STAGES} else kind)
    label = s.texts(f"incident.stage.{kind}") if kind != ALL else s.texts("incident.docx.file_label")
    name = plain(s.texts("incident.docx.file_name", number=inc.number, stage=label))
    return name, await compose(s, inc, kind)
