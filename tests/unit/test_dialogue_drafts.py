"""The stage and supervision dialogues' typed drafts read the rows written before they were typed and
write the same shapes back (a dialogue open across the upgrade carries on), no database needed."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.stages import StageDraft
from handlers.supervision_work import WorkDraft
from storage import drafts
from storage.supervision import Attachment

STAGE_ROWS: list[dict[str, Any]] = [
    {"incident_id": 4, "index": 2, "answers": {"cause": "电线老化", "background": None}},  # 续报, two elements in
    {"incident_id": 4},  # 续报进展 or 结案, nothing typed yet
    {"incident_id": 4, "text": "火势已控制"},  # 续报进展, the development typed
    {"incident_id": 4, "purpose": "written", "corrections": {"place": "建设路 1 号"}},  # the review of the facts
    {"incident_id": 4, "purpose": "wrong", "reason": "实为演练", "corrections": {}},  # 误报, its reason first
]
WORK_ROWS: list[dict[str, Any]] = [
    {"aid": 7, "mode": "done", "text": "已办结", "files": [{"kind": "photo", "file_id": "F1", "file_name": None}]},
    {"aid": 7, "due": "2026-12-10T10:00:00+00:00"},  # an extension's deadline
    {"aid": 7, "reason": "材料不全"},  # a 退回's reason
    {"aid": 7},
]


@pytest.mark.parametrize("row", STAGE_ROWS)
def test_stage_rows_round_trip(row: dict[str, Any]) -> None:
    assert StageDraft.from_dict(row).to_dict() == row


@pytest.mark.parametrize("row", WORK_ROWS)
def test_supervision_rows_round_trip(row: dict[str, Any]) -> None:
    assert WorkDraft.from_dict(row).to_dict() == row


def test_typed_fields() -> None:
    full = StageDraft.from_dict(STAGE_ROWS[0])
    assert (full.incident_id, full.index, full.answers["background"]) == (4, 2, None)
    report = WorkDraft.from_dict(WORK_ROWS[0])
    assert report.files == [Attachment("photo", "F1")] and report.mode == "done"
    assert WorkDraft.from_dict(WORK_ROWS[1]).due is not None
    # A report filed (the same transaction marks its row "done as #id"): 提交 again is recognised.
    assert WorkDraft.from_dict({drafts.DONE: 31}).done_as == 31
    # A row that lost its keys reads as nothing answered, never as a KeyError.
    empty = StageDraft.from_dict({})
    assert (empty.incident_id, empty.index, empty.text, empty.to_dict()) == (None, None, None, {})
