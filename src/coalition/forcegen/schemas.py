"""Typed results of force generation: the activation picture and the gap picture.

Plain frozen dataclasses (not pydantic): they are computed, never parsed from user input, and
they carry :class:`~coalition.conditions.engine.Verdict` trees. Each has ``to_json()`` returning
plain JSON values; the shapes are documented in ``docs/force-generation.md`` and
``docs/gaps.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from coalition.conditions.engine import Verdict
from coalition.scenario.schemas import Assumption, PledgeState, Priority

JSON_VERSION = 1


def _assumption_json(a: Assumption) -> dict[str, object]:
    return {"condition": a.condition, "value": a.value, "on": a.on.isoformat() if a.on else None}


@dataclass(frozen=True, slots=True)
class ForceGenOptions:
    """Knobs of the gap picture.

    ``min_state``: the lowest pledge lifecycle state that counts (default ``offered``: every
    pledge on the table counts; ``committed`` shows only what nations have committed).
    ``request_day``: the day, from C-day, the activation order goes out (default 0).
    """

    min_state: PledgeState = PledgeState.OFFERED
    request_day: int = 0


# ---------------------------------------------------------------------------------------------
# Activation
# ---------------------------------------------------------------------------------------------


class ActivationStatus(StrEnum):
    ACTIVE = "active"  # condition true, lifecycle fine
    INACTIVE = "inactive"  # condition false
    UNKNOWN = "unknown"  # condition unknown (nothing says whether it holds)
    WITHDRAWN = "withdrawn"  # the nation withdrew the pledge
    EXPIRED = "expired"  # past its expiry date
    NOT_YET = "not-yet"  # lifecycle state below ForceGenOptions.min_state


@dataclass(frozen=True, slots=True)
class PledgeActivation:
    """Whether one pledge counts at the date, and why."""

    pledge: str
    nation: str
    capability: str
    units: int
    personnel: int  # units x personnel per unit
    state: PledgeState
    status: ActivationStatus
    reason: str  # one sentence for people
    conditions: tuple[str, ...] = ()  # the conditions/instrument tests deciding it (culprits)
    verdict: Verdict | None = None  # the explanation tree of the pledge's condition
    notes: tuple[str, ...] = ()  # e.g. renewal overdue
    evidence: str = "I"  # the pledge record's evidence label: R, A, U or I (illustrative)

    @property
    def active(self) -> bool:
        return self.status is ActivationStatus.ACTIVE

    @property
    def code(self) -> str:
        """Stable reason code: ``active``, ``inactive:<cond>`` (first culprit), ``unknown:<cond>``,
        ``withdrawn``, ``expired``, ``state:<lifecycle state>``."""
        if self.status in (ActivationStatus.INACTIVE, ActivationStatus.UNKNOWN):
            first = self.conditions[0] if self.conditions else "condition"
            return f"{self.status.value}:{first}"
        if self.status is ActivationStatus.NOT_YET:
            return f"state:{self.state.value}"
        return self.status.value

    def to_json(self, *, explain: bool = True) -> dict[str, object]:
        return {
            "pledge": self.pledge,
            "nation": self.nation,
            "capability": self.capability,
            "units": self.units,
            "personnel": self.personnel,
            "state": self.state.value,
            "status": self.status.value,
            "code": self.code,
            "reason": self.reason,
            "conditions": list(self.conditions),
            "notes": list(self.notes),
            "evidence": self.evidence,
            "explanation": self.verdict.to_json() if (explain and self.verdict) else None,
        }


@dataclass(frozen=True, slots=True)
class NationActivation:
    """Per nation: how many of its pledges, units and personnel are active."""

    nation: str
    pledges: int
    active_pledges: int
    units: int
    active_units: int
    personnel: int
    active_personnel: int
    blocking: tuple[str, ...]  # conditions keeping some of its pledges inactive or unknown

    def to_json(self) -> dict[str, object]:
        return {
            "nation": self.nation,
            "pledges": self.pledges,
            "active_pledges": self.active_pledges,
            "units": self.units,
            "active_units": self.active_units,
            "personnel": self.personnel,
            "active_personnel": self.active_personnel,
            "blocking": list(self.blocking),
        }


@dataclass(frozen=True, slots=True)
class ActivationPicture:
    """Every pledge's activation at one date under one set of assumptions."""

    scenario: str
    illustrative: bool
    at: date
    c_day: date | None
    assumptions: tuple[Assumption, ...]
    pledges: tuple[PledgeActivation, ...]
    options: ForceGenOptions = field(default_factory=ForceGenOptions)

    @property
    def day(self) -> int | None:
        """The date as a day count from C-day (None when C-day is not known)."""
        return None if self.c_day is None else (self.at - self.c_day).days

    def get(self, pledge_id: str) -> PledgeActivation:
        for p in self.pledges:
            if p.pledge == pledge_id:
                return p
        raise KeyError(pledge_id)

    def active_ids(self) -> frozenset[str]:
        return frozenset(p.pledge for p in self.pledges if p.active)

    def by_nation(self) -> tuple[NationActivation, ...]:
        out: dict[str, list[PledgeActivation]] = {}
        for p in self.pledges:
            out.setdefault(p.nation, []).append(p)
        rows = []
        for nation, ps in sorted(out.items()):
            act = [p for p in ps if p.active]
            blocking: dict[str, None] = {}
            for p in ps:
                if p.status in (ActivationStatus.INACTIVE, ActivationStatus.UNKNOWN):
                    for c in p.conditions:
                        blocking.setdefault(c)
            rows.append(
                NationActivation(
                    nation=nation,
                    pledges=len(ps),
                    active_pledges=len(act),
                    units=sum(p.units for p in ps),
                    active_units=sum(p.units for p in act),
                    personnel=sum(p.personnel for p in ps),
                    active_personnel=sum(p.personnel for p in act),
                    blocking=tuple(blocking),
                )
            )
        return tuple(rows)

    def to_json(self, *, explain: bool = True) -> dict[str, object]:
        counts: dict[str, int] = {s.value: 0 for s in ActivationStatus}
        for p in self.pledges:
            counts[p.status.value] += 1
        return {
            "version": JSON_VERSION,
            "scenario": self.scenario,
            "illustrative": self.illustrative,
            "at": self.at.isoformat(),
            "c_day": self.c_day.isoformat() if self.c_day else None,
            "day": self.day,
            "assumptions": [_assumption_json(a) for a in self.assumptions],
            "min_state": self.options.min_state.value,
            "counts": counts,
            "active_personnel": sum(p.personnel for p in self.pledges if p.active),
            "nations": [n.to_json() for n in self.by_nation()],
            "pledges": [p.to_json(explain=explain) for p in self.pledges],
        }


# ---------------------------------------------------------------------------------------------
# Gaps
# ---------------------------------------------------------------------------------------------

#: gap reason categories, most specific first (the order reasons are listed in)
GAP_ORDER: tuple[str, ...] = (
    "no-pledge",
    "withdrawn",
    "expired",
    "state",
    "inactive",
    "unknown",
    "caveat",
    "no-hub",
    "readiness",
    "window",
    "quantity",
)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Units of one pledge allocated to one requirement line at one hub."""

    line: str
    pledge: str
    nation: str
    hub: str
    units: int
    personnel: int

    def to_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "pledge": self.pledge,
            "nation": self.nation,
            "hub": self.hub,
            "units": self.units,
            "personnel": self.personnel,
        }


@dataclass(frozen=True, slots=True)
class GapReason:
    """One reason a line is short, with who and how many units it keeps out.

    ``code`` is stable: ``no-pledge``, ``withdrawn``, ``expired``, ``state:<state>``,
    ``inactive:<condition>``, ``unknown:<condition>``, ``caveat:country|region|distance|buffer|
    role``, ``no-hub``, ``readiness``, ``window``, ``quantity``.
    """

    code: str
    message: str
    nations: tuple[str, ...] = ()
    pledges: tuple[str, ...] = ()
    units: int = 0  # pledged units of the line's capability this reason keeps out

    @property
    def category(self) -> str:
        return self.code.split(":", 1)[0]

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "category": self.category,
            "message": self.message,
            "nations": list(self.nations),
            "pledges": list(self.pledges),
            "units": self.units,
        }


@dataclass(frozen=True, slots=True)
class LineFill:
    """The fill of one requirement line."""

    line: str
    capability: str
    place: str  # hub id, or region name
    place_kind: str  # "hub" or "region"
    phase: str  # e.g. "D+45"
    start_day: int
    end_day: int
    priority: Priority
    role: str
    required_units: int
    filled_units: int
    required_personnel: int
    filled_personnel: int
    assignments: tuple[Assignment, ...]
    reasons: tuple[GapReason, ...]  # empty when filled
    in_window: bool | None = None  # the picture's day lies in [start_day, end_day]

    @property
    def short_units(self) -> int:
        return self.required_units - self.filled_units

    @property
    def fill_rate(self) -> float:
        return self.filled_units / self.required_units if self.required_units else 1.0

    @property
    def filled(self) -> bool:
        return self.filled_units >= self.required_units

    def to_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "capability": self.capability,
            "place": self.place,
            "place_kind": self.place_kind,
            "phase": self.phase,
            "start_day": self.start_day,
            "end_day": self.end_day,
            "priority": self.priority.value,
            "role": self.role,
            "required_units": self.required_units,
            "filled_units": self.filled_units,
            "short_units": self.short_units,
            "required_personnel": self.required_personnel,
            "filled_personnel": self.filled_personnel,
            "fill_rate": round(self.fill_rate, 4),
            "in_window": self.in_window,
            "assignments": [a.to_json() for a in self.assignments],
            "reasons": [r.to_json() for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class FillCell:
    """Fill rate of one capability x place x phase cell (sum over its lines)."""

    capability: str
    place: str
    phase: str
    required_units: int
    filled_units: int
    required_personnel: int
    filled_personnel: int

    @property
    def fill_rate(self) -> float:
        return self.filled_units / self.required_units if self.required_units else 1.0

    def to_json(self) -> dict[str, object]:
        return {
            "capability": self.capability,
            "place": self.place,
            "phase": self.phase,
            "required_units": self.required_units,
            "filled_units": self.filled_units,
            "required_personnel": self.required_personnel,
            "filled_personnel": self.filled_personnel,
            "fill_rate": round(self.fill_rate, 4),
        }


@dataclass(frozen=True, slots=True)
class GapPicture:
    """Requirement lines of one force option against the pledges active at one date."""

    option: str
    option_name: str
    activation: ActivationPicture
    lines: tuple[LineFill, ...]
    cells: tuple[FillCell, ...]

    @property
    def required_personnel(self) -> int:
        return sum(x.required_personnel for x in self.lines)

    @property
    def filled_personnel(self) -> int:
        return sum(x.filled_personnel for x in self.lines)

    @property
    def required_units(self) -> int:
        return sum(x.required_units for x in self.lines)

    @property
    def filled_units(self) -> int:
        return sum(x.filled_units for x in self.lines)

    @property
    def fill_rate(self) -> float:
        return self.filled_units / self.required_units if self.required_units else 1.0

    def gaps(self) -> tuple[LineFill, ...]:
        return tuple(x for x in self.lines if not x.filled)

    def line(self, line_id: str) -> LineFill:
        for x in self.lines:
            if x.line == line_id:
                return x
        raise KeyError(line_id)

    def by_priority(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for p in Priority:
            ls = [x for x in self.lines if x.priority is p]
            out[p.value] = {
                "lines": len(ls),
                "filled_lines": sum(1 for x in ls if x.filled),
                "required_units": sum(x.required_units for x in ls),
                "filled_units": sum(x.filled_units for x in ls),
            }
        return out

    def to_json(self, *, explain: bool = False) -> dict[str, object]:
        act = self.activation
        return {
            "version": JSON_VERSION,
            "scenario": act.scenario,
            "illustrative": act.illustrative,
            "option": self.option,
            "option_name": self.option_name,
            "at": act.at.isoformat(),
            "c_day": act.c_day.isoformat() if act.c_day else None,
            "day": act.day,
            "assumptions": [_assumption_json(a) for a in act.assumptions],
            "min_state": act.options.min_state.value,
            "request_day": act.options.request_day,
            "totals": {
                "lines": len(self.lines),
                "filled_lines": sum(1 for x in self.lines if x.filled),
                "required_units": self.required_units,
                "filled_units": self.filled_units,
                "required_personnel": self.required_personnel,
                "filled_personnel": self.filled_personnel,
                "fill_rate": round(self.fill_rate, 4),
            },
            "by_priority": self.by_priority(),
            "lines": [x.to_json() for x in self.lines],
            "cells": [c.to_json() for c in self.cells],
            "activation": act.to_json(explain=explain),
        }
