"""Daily demand per hub and supply class from a plan's personnel-days (pure).

The plan is read through its unit lines only (``docs/planner/plan-json.md``): a unit is at its
hub from ``arrival_day`` to ``tour_end_day``, both included. A hub's personnel, and so its
demand, is constant between two such change days: the output is one record per hub and day
range. Demand of a class in a range = sum over the units present of personnel x the factor of
their capability (doctrinal classes: one factor for everyone; III(B), V, VIII, IX: the scenario's
per-capability factor). A class whose factor is unknown for any unit present has *unknown*
demand (``None``), never a partial sum read as the whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coalition.errors import InputError, Problem
from coalition.scenario.schemas import Scenario, SupplyClass
from coalition.sustain.factors import FactorRef, FactorTable, resolve

CLASSES: tuple[SupplyClass, ...] = tuple(SupplyClass)
_LINE_FIELDS = ("uln", "capability", "hub", "personnel", "arrival_day", "tour_end_day")


@dataclass(frozen=True, slots=True)
class PlanLine:
    """The part of a plan's unit line that sustainment needs."""

    uln: str
    capability: str
    hub: str
    personnel: int
    arrival_day: int
    tour_end_day: int
    pledge: str = ""
    nation: str = ""
    requirement: str = ""

    def present(self, day: int) -> bool:
        return self.arrival_day <= day <= self.tour_end_day


@dataclass(frozen=True, slots=True)
class PlanView:
    """What sustainment reads from a plan: its identity, horizon and unit lines."""

    scenario: str
    option: str
    horizon_days: int
    lines: tuple[PlanLine, ...]
    c_day: str | None = None


def plan_view(data: Mapping[str, Any], *, file: str = "plan") -> PlanView:
    """Read a plan (a ``Plan`` dumped to JSON, or the ``plans`` item of ``coalition plan --json``).

    Only the documented unit-line fields are read, so a newer plan schema with added fields
    still reads. Missing or malformed fields are named problems.
    """
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        raise InputError([Problem("a plan must be a JSON object", file=file)])
    raw_lines = data.get("unit_lines")
    if not isinstance(raw_lines, list):
        raise InputError([Problem("the plan has no 'unit_lines' list", file=file, field="unit_lines")])
    raw_horizon = data.get("horizon_days")
    horizon = int(raw_horizon) if isinstance(raw_horizon, int) else 0
    if horizon < 1:
        problems.append(Problem("the plan has no valid 'horizon_days'", file=file, field="horizon_days"))
    lines: list[PlanLine] = []
    for i, ul in enumerate(raw_lines, start=1):
        if not isinstance(ul, Mapping):
            problems.append(Problem("a unit line must be an object", file=file, row=i, field="unit_lines"))
            continue
        missing = [f for f in _LINE_FIELDS if f not in ul]
        if missing:
            problems.append(Problem(f"unit line lacks {', '.join(missing)}", file=file, row=i, field="unit_lines"))
            continue
        ints = ("personnel", "arrival_day", "tour_end_day")
        bad = [f for f in ints if isinstance(ul[f], bool) or not isinstance(ul[f], int)]
        if bad or ul["personnel"] < 0:
            problems.append(
                Problem(
                    f"unit line {ul['uln']}: {', '.join(bad) or 'personnel'} must be a whole number (personnel >= 0)",
                    file=file,
                    row=i,
                    field="unit_lines",
                )
            )
            continue
        lines.append(
            PlanLine(
                str(ul["uln"]),
                str(ul["capability"]),
                str(ul["hub"]),
                int(ul["personnel"]),
                int(ul["arrival_day"]),
                int(ul["tour_end_day"]),
                str(ul.get("pledge", "")),
                str(ul.get("nation", "")),
                str(ul.get("requirement", "")),
            )
        )
    if problems:
        raise InputError(problems)
    return PlanView(
        str(data.get("scenario", "")),
        str(data.get("option", "")),
        horizon,
        tuple(lines),
        data.get("c_day"),
    )


@dataclass(frozen=True, slots=True)
class ClassDemand:
    """Demand of one class at one hub over a day range, per day, in the class's base unit."""

    per_day: float | None  # None: unknown (a unit present has no factor for the class)
    flags: tuple[str, ...]  # union of the factor flags, plus "unknown: <capability>" entries
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HubRange:
    """One hub over days ``start_day..end_day`` (inclusive) with constant personnel."""

    hub: str
    start_day: int
    end_day: int
    personnel: int
    units: tuple[str, ...]  # ulns present
    demand: Mapping[SupplyClass, ClassDemand]

    @property
    def days(self) -> int:
        return self.end_day - self.start_day + 1


def _segments(lines: Sequence[PlanLine], horizon: int) -> list[tuple[int, int, tuple[PlanLine, ...]]]:
    """Day ranges (inclusive) inside [0, horizon-1] over which the set of present lines is fixed
    and not empty (a sweep over the arrival and departure days)."""
    starts: dict[int, list[PlanLine]] = defaultdict(list)
    ends: dict[int, list[PlanLine]] = defaultdict(list)
    for ln in lines:
        a, b = max(ln.arrival_day, 0), min(ln.tour_end_day, horizon - 1)
        if a <= b:
            starts[a].append(ln)
            ends[b + 1].append(ln)
    edges = sorted(set(starts) | set(ends) | {horizon})
    active: dict[str, PlanLine] = {}
    out = []
    for a, b in zip(edges, edges[1:], strict=False):
        for ln in ends.get(a, ()):
            active.pop(ln.uln, None)
        for ln in starts.get(a, ()):
            active[ln.uln] = ln
        if active and a < horizon:
            out.append((a, b - 1, tuple(active.values())))
    return out


def hub_ranges(
    view: PlanView, scenario: Scenario, table: FactorTable, *, classes: Iterable[SupplyClass] = CLASSES
) -> list[HubRange]:
    """Per hub and day range: personnel and daily demand per class."""
    classes = tuple(classes)
    by_hub: dict[str, list[PlanLine]] = defaultdict(list)
    for ln in view.lines:
        if ln.personnel > 0 and ln.tour_end_day >= ln.arrival_day:
            by_hub[ln.hub].append(ln)
    refs: dict[str, dict[SupplyClass, FactorRef]] = {}
    for cap in sorted({ln.capability for ln in view.lines}):
        refs[cap] = {cls: resolve(table, scenario, cap, cls) for cls in classes}
    memo: dict[tuple[tuple[str, int], ...], dict[SupplyClass, ClassDemand]] = {}
    meta_memo: dict[tuple[str, ...], dict[SupplyClass, tuple[bool, tuple[str, ...], tuple[str, ...]]]] = {}

    def meta_of(caps: tuple[str, ...]) -> dict[SupplyClass, tuple[bool, tuple[str, ...], tuple[str, ...]]]:
        """Per class: unknown?, flags and sources - they depend on which capabilities are there only."""
        out = {}
        for cls in classes:
            flags: set[str] = set()
            sources: set[str] = set()
            unknown = [c for c in caps if refs[c][cls].value is None]
            for c in caps:
                r = refs[c][cls]
                if r.value is not None:
                    flags.update(r.flags)
                    sources.add(r.label)
            flags.update(f"unknown: no {cls.value} factor for {c}" for c in unknown)
            out[cls] = (bool(unknown), tuple(sorted(flags)), tuple(sorted(sources)))
        return out

    def demand_of(key: tuple[tuple[str, int], ...]) -> dict[SupplyClass, ClassDemand]:
        caps = tuple(c for c, _ in key)
        meta = meta_memo.get(caps)
        if meta is None:
            meta = meta_memo[caps] = meta_of(caps)
        out: dict[SupplyClass, ClassDemand] = {}
        for cls in classes:
            unknown, flags, sources = meta[cls]
            total = None if unknown else sum(p * (refs[c][cls].value or 0.0) for c, p in key)
            out[cls] = ClassDemand(total, flags, sources)
        return out

    out: list[HubRange] = []
    for hub in sorted(by_hub):
        for a, b, here in _segments(by_hub[hub], view.horizon_days):
            pers_by_cap: dict[str, int] = defaultdict(int)
            for ln in here:
                pers_by_cap[ln.capability] += ln.personnel
            key = tuple(sorted(pers_by_cap.items()))
            if key not in memo:
                memo[key] = demand_of(key)
            out.append(HubRange(hub, a, b, sum(pers_by_cap.values()), tuple(ln.uln for ln in here), memo[key]))
    return out


def hub_daily_demand(ranges: Sequence[HubRange], hub: str, cls: SupplyClass, horizon: int) -> list[float | None]:
    """Day-by-day demand of one class at one hub over the horizon (0 where nobody is there)."""
    out: list[float | None] = [0.0] * horizon
    for r in ranges:
        if r.hub != hub:
            continue
        v = r.demand[cls].per_day
        for d in range(r.start_day, r.end_day + 1):
            out[d] = v
    return out
