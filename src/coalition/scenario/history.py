"""What a reader sees of a stored scenario's revision history (a query function).

A revision's edit note is free text written by the editing nation about what it changed, so
it is derived data of the records it touched and obeys their releasability (the policy of
docs/access-control.md, "Derived data"): the note and the author's name are shown to readers
of the editing nation, and to readers who may see every record the change touched under the
head revision's markings. A change of a pledge or a depot touches that record; a whole
document (first revision, import) touches every pledge and depot; an assumption set touches
no restricted record. Otherwise the entry says only that a revision of that kind was made by
that nation at that time (``withheld: true``). The change itself (the diff) is never listed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from coalition.auth.schemas import Principal
from coalition.auth.scope import restrict
from coalition.scenario import store
from coalition.scenario.rules import ScenarioState


def _touched(kind: str, change: dict[str, Any], state: ScenarioState) -> list[tuple[str, Any]]:
    """(marking kind, record) of every restricted record a change touched (None: unknown)."""
    sc = state.scenario
    pledges = {p.id: p for p in sc.pledges}
    depots = {d.id: d for d in sc.depots.depots} if sc.depots else {}
    if kind == "pledge.transition":
        ids = [("pledge", change.get("pledge"))]
    elif kind == "pledge.edit":
        ids = [("pledge", (change.get("pledge") or {}).get("id"))]
    elif kind == "release":
        ids = [(change.get("object_kind", "pledge"), change.get("object_id"))]
    elif kind == "assumptions.set":
        ids = []
    else:  # a whole document (create, import) or a kind this module does not know
        return [("pledge", p) for p in sc.pledges] + [("depot", d) for d in depots.values()]
    out: list[tuple[str, Any]] = []
    for what, ident in ids:
        record = (pledges if what == "pledge" else depots).get(str(ident))
        if record is None:  # no longer in the scenario: nobody but its nation may read about it
            return [("missing", None)]
        out.append((what, record))
    return out


def _may_read(principal: Principal, state: ScenarioState, touched: list[tuple[str, Any]]) -> bool:
    from coalition.depots.queries import depot_marking

    for what, record in touched:
        if what == "missing":
            return False
        marking = (lambda r: depot_marking(state, r)) if what == "depot" else (lambda r: state.marking("pledge", r))
        if not restrict(principal, f"{what}.view", marking).filter([record]):
            return False
    return True


def visible_revisions(
    session: Session, principal: Principal, *, scenario_id: int, state: ScenarioState
) -> list[dict[str, Any]]:
    """The revisions of a stored scenario as ``principal`` may see them (``state``: the head
    revision's, whose markings decide)."""
    items = []
    for r in store.revisions(session, scenario_id=scenario_id):
        shown = r.nation == principal.nation or _may_read(principal, state, _touched(r.kind, r.change or {}, state))
        items.append(
            {
                "revision": r.revision,
                "kind": r.kind,
                "nation": r.nation,
                "author": r.author if shown else None,
                "note": r.note if shown else None,
                "withheld": not shown,
                "created_at": r.created_at.isoformat() if r.created_at else None,
            }
        )
    return items


__all__ = ["visible_revisions"]
