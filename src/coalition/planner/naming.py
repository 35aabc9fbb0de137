"""A plan's human name and its pin: who may set them, who may read a name, the change itself.

* Only a principal who may run plans (``plan.run``: a planner or an admin) may rename or pin
  a plan, and only a plan of their own nation unless they are HQ staff (the write rule of
  :func:`coalition.auth.rules.can_change`); a plan they may not see is not found (404), a run
  of another kind is not a plan (404).
* A name is free text: it may carry what its author knows and others may not. It is marked as
  the author's nation's (``name_nation``) and released to HQ only, the same marking as the
  author's audit entries; anyone else reads no name (``None``). A pin is no secret: every
  reader of the plan sees it (and pinned plans list first).
* A name is trimmed; given, it is 1 to 120 characters on one line (no control characters).

:func:`relabel` changes the row in the caller's transaction and appends the audit entry (the
change, with a previous name only when the author may read it); it never commits.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from coalition.auth.rules import ALL, Marking, can_see
from coalition.auth.schemas import HQ, Principal
from coalition.auth.scope import restrict
from coalition.auth.service import AuditChange, now, record_audit
from coalition.errors import InputError, Problem
from coalition.planner import runs

NAME_MAX = 120
WITHHELD = "(withheld)"


def run_marking(run: runs.PlanRun) -> Marking:
    """A plan is a coalition-wide aggregate (restricted detail is redacted per reader)."""
    return Marking(origin=run.nation, releasable_to=(ALL,))


def name_marking(run: runs.PlanRun) -> Marking:
    """A name belongs to its author's nation and is released to HQ only."""
    return Marking(origin=run.name_nation or run.nation, releasable_to=(HQ,))


def name_for(principal: Principal, run: runs.PlanRun) -> str | None:
    """The plan's name as ``principal`` may read it: None when unnamed or not released to them."""
    if run.name is None or not can_see(principal, run_marking(run)):
        return None
    return run.name if can_see(principal, name_marking(run)) else None


def clean_name(raw: str, *, field: str = "name") -> str:
    """The trimmed name, or an :class:`InputError` naming ``field`` and what would be valid."""
    name = raw.strip()
    hint = f"1 to {NAME_MAX} characters on one line"
    if not name:
        raise InputError([Problem("a plan's name cannot be empty", field=field, hint=hint)])
    if len(name) > NAME_MAX:
        raise InputError([Problem(f"the name is {len(name)} characters long", field=field, hint=hint)])
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise InputError([Problem("the name contains a control character", field=field, hint=hint)])
    return name


UNCHANGED: Any = object()
"""A :class:`Relabel` field left as it is."""


@dataclass(frozen=True, slots=True)
class Relabel:
    """What to change: ``name`` a new name (cleaned here), None to remove it, or UNCHANGED;
    ``pinned`` True/False, or None to leave it."""

    name: str | None = UNCHANGED
    pinned: bool | None = None


def editable_run(session: Session, principal: Principal, run_id: int) -> runs.PlanRun:
    """The plan ``principal`` may rename or pin: 403 without ``plan.run`` or for another
    nation's plan (unless HQ), 404 when it does not exist or is out of their sight."""
    scope = restrict(principal, "plan.run", run_marking)
    run: runs.PlanRun = scope.check(runs.run_of_kind(session.get(runs.PlanRun, run_id)), str(run_id))
    return run


def may_relabel(principal: Principal, nation: str) -> bool:
    """Whether ``principal`` may rename or pin a plan of ``nation`` (for showing the forms)."""
    from coalition.auth.rules import can_change, has_permission

    return has_permission(principal, "plan.run") and can_change(principal, Marking(origin=nation, releasable_to=(ALL,)))


def _shown(principal: Principal, run: runs.PlanRun) -> str | None:
    """The stored name as an audit entry of ``principal`` may record it."""
    return run.name if run.name is None or can_see(principal, name_marking(run)) else WITHHELD


def relabel(
    session: Session, principal: Principal, run_id: int, change: Relabel, *, request_id: str = ""
) -> runs.PlanRun:
    """Rename and/or pin a plan: who may is checked first (403, 404), then the name (an
    InputError naming the field; nothing changes). Each change is one audit entry
    (``rename``, ``pin``, ``unpin``); what does not change records nothing."""
    run = editable_run(session, principal, run_id)
    name = change.name if change.name is UNCHANGED or change.name is None else clean_name(change.name)
    entries: list[AuditChange] = []
    ident = str(run.id)
    if name is not UNCHANGED and (name != run.name or (name is not None and run.name_nation != principal.nation)):
        before = _shown(principal, run)
        run.name, run.name_nation = name, (principal.nation if name is not None else None)
        entries.append(AuditChange("rename", "plan", ident, before={"name": before}, after={"name": name}))
    if change.pinned is not None and change.pinned != run.pinned:
        run.pinned = change.pinned
        run.pinned_by, run.pinned_at = (principal.name, now()) if change.pinned else (None, None)
        action = "pin" if change.pinned else "unpin"
        entries.append(
            AuditChange(action, "plan", ident, before={"pinned": not run.pinned}, after={"pinned": run.pinned})
        )
    session.flush()
    for entry in entries:
        record_audit(session, principal=principal, request_id=request_id, change=entry)
    return run


def labelled(principal: Principal, run: runs.PlanRun, position: int | None = None) -> dict[str, Any]:
    """:func:`coalition.planner.runs.summary` with the name as ``principal`` may read it."""
    return runs.summary(run, position, name_for(principal, run))


def list_plans(
    session: Session, principal: Principal, *, offset: int, limit: int, **filters: Any
) -> tuple[list[dict[str, Any]], int]:
    """:func:`coalition.planner.runs.list_runs` of plans (pinned first) with the names the
    reader may see; ``filters``: status, nation, option, pinned."""
    items, total = runs.list_runs(session, offset=offset, limit=limit, **filters)
    for item in items:  # the rows are in the session already (no further query)
        run = session.get(runs.PlanRun, item["id"])
        item["name"] = name_for(principal, run) if run is not None else None
    return items, total


__all__ = [
    "NAME_MAX",
    "UNCHANGED",
    "Relabel",
    "clean_name",
    "editable_run",
    "labelled",
    "list_plans",
    "may_relabel",
    "name_for",
    "name_marking",
    "relabel",
    "run_marking",
]
