"""What happened to one record since a reader's revision: the answer a writer needs when the
store refuses a stale edit (:class:`coalition.scenario.store.RevisionConflict`, HTTP 409).

Only the record the reader is looking at is described (its fields before and now, and the
revisions that changed it); other revisions are counted, never described, so a conflict does
not tell a nation what changed in records it may not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.scenario.models import ScenarioRevision
from coalition.scenario.store import ScenarioCache, scenario_header, state_at


@dataclass(frozen=True)
class RevisionNote:
    revision: int
    kind: str
    author: str
    nation: str
    note: str
    at: str


@dataclass(frozen=True)
class RecordChanges:
    since: int  # the reader's revision
    head: int  # the current one
    fields: tuple[tuple[str, Any, Any], ...]  # (field, then, now) of the record
    revisions: tuple[RevisionNote, ...]  # the revisions that changed this record
    others: int  # revisions in between that changed something else


def _touches(change: dict[str, Any], kind: str, ident: str) -> bool:
    if change.get("kind") == "import":
        return True  # a whole document may change anything; it is named, not described
    if kind == "pledge" and change.get("kind") == "pledge.transition":
        return change.get("pledge") == ident
    if kind == "pledge" and change.get("kind") == "pledge.edit":
        return (change.get("pledge") or {}).get("id") == ident
    if change.get("kind") == "release":
        return change.get("object_kind") == kind and change.get("object_id") == ident
    return False


def pledge_changes(
    session: Session, *, scenario_id: int, pledge_id: str, since: int, cache: ScenarioCache | None = None
) -> RecordChanges:
    """The pledge's fields and marking at ``since`` against the head, and who changed it."""
    _sid, head = scenario_header(session, ref=scenario_id)
    since = max(1, min(since, head))
    then_state = state_at(session, scenario_id=scenario_id, revision=since, cache=cache)
    now_state = state_at(session, scenario_id=scenario_id, revision=head, cache=cache)
    then, now = then_state.pledge(pledge_id), now_state.pledge(pledge_id)
    a = then.model_dump(mode="json") if then else {}
    b = now.model_dump(mode="json") if now else {}
    if then is not None:
        a["releasable_to"] = list(then_state.marking("pledge", then).releasable_to)
    if now is not None:
        b["releasable_to"] = list(now_state.marking("pledge", now).releasable_to)
    fields = tuple((k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
    rows = session.execute(
        select(
            ScenarioRevision.revision,
            ScenarioRevision.kind,
            ScenarioRevision.change,
            ScenarioRevision.author,
            ScenarioRevision.nation,
            ScenarioRevision.note,
            ScenarioRevision.created_at,
        )
        .where(ScenarioRevision.scenario_id == scenario_id, ScenarioRevision.revision > since)
        .order_by(ScenarioRevision.revision)
    ).all()
    mine = tuple(
        RevisionNote(r, k, author, nation, "" if k == "import" else note or "", str(at)[:19])
        for r, k, change, author, nation, note, at in rows
        if _touches(change or {}, "pledge", pledge_id)
    )
    return RecordChanges(since, head, fields, mine, len(rows) - len(mine))


__all__ = ["RecordChanges", "RevisionNote", "pledge_changes"]
