"""The gap picture (pure): requirement lines of a force option against the active pledges.

Allocation is deliberately simple and deterministic; the optimiser is the planner's job.

* Lines are served in order of priority (essential, important, desirable), then start day, then
  id. Each takes units from the active pledges eligible for it (see
  :mod:`coalition.forcegen.eligibility`), quickest first (notice-to-move, then higher readiness
  level, then pledge id), until the line is full or nothing eligible is left. A unit serves one
  line; rotations and sustainability are the planner's business, not this picture's.
* A line with a region is served at the first hub of the region (file order) at which the pledge
  is eligible.

For every line that stays short, the reasons, **most specific first** (``GAP_ORDER``):

1. ``no-pledge``: no nation pledges the capability at all;
2. pledged but not active: ``withdrawn``, ``expired``, ``state:<state>``,
   ``inactive:<condition>`` (the condition is false), ``unknown:<condition>`` (not known);
3. active but the place is excluded: ``caveat:country|region|distance|buffer|role``, or
   ``no-hub`` (a region without hubs);
4. active and allowed there but too slow or not available then: ``readiness``, ``window``;
5. ``quantity``: every eligible active unit was allocated (here or to lines served earlier) and
   it was not enough.

Each pledge of the capability that does not reach the line is counted under its first (most
specific) reason only, so the units of the reasons add up to the units pledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from coalition.conditions.engine import ConditionEngine
from coalition.errors import InputError, Problem, closest
from coalition.forcegen.activation import activation as make_activation
from coalition.forcegen.eligibility import (
    REASON_ORDER,
    EligibilityMatrix,
    eligibility,
    eligibility_matrix,
)
from coalition.forcegen.schemas import (
    GAP_ORDER,
    ActivationPicture,
    ActivationStatus,
    Assignment,
    FillCell,
    ForceGenOptions,
    GapPicture,
    GapReason,
    LineFill,
    PledgeActivation,
)
from coalition.scenario.schemas import Assumption, Pledge, Priority, Requirement, Scenario

_PRIORITY_RANK = {p: i for i, p in enumerate(Priority)}


def phase_label(start_day: int) -> str:
    """A line's phase, named by the day it is first needed: ``D+45``, ``D-5``, ``D+0``."""
    return f"D{'+' if start_day >= 0 else '-'}{abs(start_day)}"


def check_option(scenario: Scenario, option_id: str, *, field: str = "--option") -> None:
    """Raise :class:`InputError` when the force option does not exist (with 'did you mean')."""
    if scenario.option(option_id) is not None:
        return
    valid = [o.id for o in scenario.force_options]
    guess = closest(option_id, valid)
    hint = f"did you mean '{guess}'?" if guess else "valid: " + (", ".join(valid) or "(none)")
    raise InputError([Problem(f"unknown force option {option_id!r}", field=field, hint=hint)])


def _names(items: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(items))


def gap_picture(
    scenario: Scenario,
    option_id: str,
    at: date,
    assumptions: Sequence[Assumption] = (),
    *,
    options: ForceGenOptions = ForceGenOptions(),  # noqa: B008 - frozen, safe as default
    engine: ConditionEngine | None = None,
    picture: ActivationPicture | None = None,
) -> GapPicture:
    """Fill every requirement line of ``option_id`` from the pledges active at ``at``.

    Pass ``picture`` (from :func:`coalition.forcegen.activation.activation`) to reuse an
    activation picture already computed for the same date and assumptions.
    """
    check_option(scenario, option_id)
    option = scenario.option(option_id)
    assert option is not None
    act = picture or make_activation(scenario, at, assumptions, options=options, engine=engine)
    lines = scenario.requirements_of(option_id)
    pledges = scenario.pledges
    by_id = {p.id: p for p in pledges}
    acts = {a.pledge: a for a in act.pledges}
    matrix = eligibility_matrix(pledges, lines, scenario, request_day=options.request_day)
    cols_of: dict[str, list[tuple[int, str]]] = {}
    for j, (rid, hid) in enumerate(matrix.columns):
        cols_of.setdefault(rid, []).append((j, hid))
    row = {pid: i for i, pid in enumerate(matrix.pledge_ids)}

    remaining = {p.id: p.units for p in pledges if acts[p.id].active}
    quick = sorted(remaining, key=lambda pid: (by_id[pid].notice_days, -by_id[pid].readiness_level, pid))
    assignments: dict[str, list[Assignment]] = {r.id: [] for r in lines}
    served_order: dict[str, int] = {}

    order = sorted(lines, key=lambda r: (_PRIORITY_RANK[r.priority], r.start_day, r.id))
    for k, req in enumerate(order):
        served_order[req.id] = k
        need = req.quantity
        cols = cols_of.get(req.id, [])
        for pid in quick:
            if need == 0:
                break
            if remaining[pid] == 0:
                continue
            i = row[pid]
            hub = next((hid for j, hid in cols if matrix.ok[i, j]), None)
            if hub is None:
                continue
            take = min(need, remaining[pid])
            remaining[pid] -= take
            need -= take
            p = by_id[pid]
            assignments[req.id].append(Assignment(req.id, pid, p.nation, hub, take, take * p.personnel_per_unit))

    day = act.day
    alloc = _Allocation(scenario, pledges, acts, matrix, row, assignments, served_order, options)
    fills: list[LineFill] = []
    for req in lines:  # report in file order
        assigned = tuple(assignments[req.id])
        filled = sum(a.units for a in assigned)
        cap = scenario.capability(req.capability)
        per_unit = cap.personnel if cap is not None else 0
        reasons: tuple[GapReason, ...] = ()
        if filled < req.quantity:
            reasons = _reasons(req, alloc, cols_of.get(req.id, []))
        fills.append(
            LineFill(
                line=req.id,
                capability=req.capability,
                place=req.hub if req.hub is not None else str(req.region),
                place_kind="hub" if req.hub is not None else "region",
                phase=phase_label(req.start_day),
                start_day=req.start_day,
                end_day=req.end_day,
                priority=req.priority,
                role=req.role,
                required_units=req.quantity,
                filled_units=filled,
                required_personnel=req.quantity * per_unit,
                filled_personnel=sum(a.personnel for a in assigned),
                assignments=assigned,
                reasons=reasons,
                in_window=None if day is None else req.start_day <= day <= req.end_day,
            )
        )
    return GapPicture(
        option=option.id,
        option_name=option.name,
        activation=act,
        lines=tuple(fills),
        cells=_cells(fills),
    )


def _cells(fills: Sequence[LineFill]) -> tuple[FillCell, ...]:
    acc: dict[tuple[str, str, int], list[int]] = {}
    for f in fills:
        key = (f.capability, f.place, f.start_day)
        cell = acc.setdefault(key, [0, 0, 0, 0])
        cell[0] += f.required_units
        cell[1] += f.filled_units
        cell[2] += f.required_personnel
        cell[3] += f.filled_personnel
    return tuple(FillCell(cap, place, phase_label(start), *vals) for (cap, place, start), vals in sorted(acc.items()))


@dataclass(frozen=True)
class _Allocation:
    """What the allocation pass knows when it explains a line's gap."""

    scenario: Scenario
    pledges: Sequence[Pledge]
    acts: dict[str, PledgeActivation]
    matrix: EligibilityMatrix
    row: dict[str, int]  # pledge id -> row of the eligibility matrix
    assignments: dict[str, list[Assignment]]  # line id -> what it was given
    served_order: dict[str, int]  # line id -> position in the serving order
    options: ForceGenOptions


def _reasons(req: Requirement, alloc: _Allocation, cols: list[tuple[int, str]]) -> tuple[GapReason, ...]:
    short = req.quantity - sum(a.units for a in alloc.assignments[req.id])
    same_cap = [p for p in alloc.pledges if p.capability == req.capability]
    cap = alloc.scenario.capability(req.capability)
    cap_name = cap.name if cap is not None else req.capability
    if not same_cap:
        return (
            GapReason(
                "no-pledge",
                f"no nation pledges {cap_name} ({req.capability}); {short} unit(s) short",
            ),
        )
    groups, detail, eligible = _blocked(req, alloc, cols, same_cap)
    out: list[GapReason] = []
    for code, ps in groups.items():
        units = sum(p.units for p in ps)
        nations = tuple(dict.fromkeys(p.nation for p in ps))
        out.append(
            GapReason(
                code,
                f"{units} unit(s) pledged by {_names(nations)}: {_lead(code)}{detail[code]}",
                nations,
                tuple(p.id for p in ps),
                units,
            )
        )
    if eligible:
        out.append(_quantity_reason(req, alloc, eligible, short))
    rank = {c: i for i, c in enumerate(GAP_ORDER)}
    caveat_rank = {r.code: i for i, r in enumerate(REASON_ORDER)}
    out.sort(key=lambda g: (rank.get(g.category, len(rank)), caveat_rank.get(g.code, 0), -g.units, g.code))
    return tuple(out)


def _blocked(
    req: Requirement,
    alloc: _Allocation,
    cols: list[tuple[int, str]],
    same_cap: list[Pledge],
) -> tuple[dict[str, list[Pledge]], dict[str, str], list[Pledge]]:
    """The pledges of the line's capability grouped by the first reason that keeps them out
    (with one explanation per reason), and those that were eligible."""
    groups: dict[str, list[Pledge]] = {}
    detail: dict[str, str] = {}
    eligible: list[Pledge] = []
    for p in same_cap:
        a = alloc.acts[p.id]
        if a.status is not ActivationStatus.ACTIVE:
            code = a.code
            groups.setdefault(code, []).append(p)
            if a.status in (ActivationStatus.INACTIVE, ActivationStatus.UNKNOWN):
                detail.setdefault(code, _condition_detail(a))
            else:
                detail.setdefault(code, a.reason)
            continue
        if not cols:
            groups.setdefault("no-hub", []).append(p)
            detail.setdefault("no-hub", f"region '{req.region}' has no hub")
            continue
        i = alloc.row[p.id]
        masks = [int(alloc.matrix.reasons[i, j]) for j, _ in cols]
        if any(m == 0 for m in masks):
            eligible.append(p)
            continue
        common = masks[0]
        for m in masks[1:]:
            common &= m
        mask = common or masks[0]
        first = next(r for r in REASON_ORDER if mask & r)
        code = first.code
        groups.setdefault(code, []).append(p)
        if code not in detail:
            hub = cols[0][1] if common == 0 or len(cols) == 1 else None
            excl = eligibility(p, req, alloc.scenario, hub=hub, request_day=alloc.options.request_day)
            msg = next((e.message for e in excl if e.code == code), code)
            if len(cols) > 1 and common:
                msg += f" (at every hub of {req.region})"
            detail[code] = msg
    return groups, detail, eligible


def _quantity_reason(req: Requirement, alloc: _Allocation, eligible: list[Pledge], short: int) -> GapReason:
    """Eligible pledges were not enough: how many units went here and how many to lines served first."""
    total = sum(p.units for p in eligible)
    here = sum(a.units for a in alloc.assignments[req.id])
    elsewhere: dict[str, int] = {}
    ids = {p.id for p in eligible}
    for line_id, assigned in alloc.assignments.items():
        if line_id == req.id:
            continue
        for other in assigned:
            if other.pledge in ids:
                elsewhere[line_id] = elsewhere.get(line_id, 0) + other.units
    taken = sum(elsewhere.values())
    msg = f"eligible active pledges ({_names([p.nation for p in eligible])}) offer {total} unit(s): {here} here"
    if taken:
        firsts = sorted(elsewhere, key=lambda x: alloc.served_order.get(x, 0))
        msg += f", {taken} to lines served first ({', '.join(firsts[:6])}"
        msg += ", ...)" if len(firsts) > 6 else ")"
    msg += f"; {short} unit(s) short"
    return GapReason(
        "quantity",
        msg,
        tuple(dict.fromkeys(p.nation for p in eligible)),
        tuple(p.id for p in eligible),
        total,
    )


def _lead(code: str) -> str:
    if code.startswith("inactive:"):
        return "inactive, "
    if code.startswith("unknown:"):
        return "not known to be active, "
    if code == "caveat:role":
        return "caveat excludes the task, "
    if code.startswith("caveat:"):
        return "caveat excludes the place, "
    if code == "readiness":
        return "too slow for the phase, "
    if code == "window":
        return "not available for the phase, "
    return ""


def _condition_detail(a: PledgeActivation) -> str:
    if not a.conditions:
        return a.reason
    verb = "is false" if a.status is ActivationStatus.INACTIVE else "is unknown"
    if len(a.conditions) > 1:
        verb = verb.replace("is", "are")
    return f"{_names(a.conditions)} {verb}"


__all__ = ["check_option", "gap_picture", "phase_label"]
