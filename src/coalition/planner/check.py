"""The independent plan checker (pure): does a plan keep every hard rule, day by day?

:func:`check_plan` takes the scenario and a :class:`~coalition.planner.schemas.Plan` (as read
from the plan JSON) and re-derives every hard rule from the scenario's own records, at day
level, over the days ``0 .. horizon_days - 1`` after C-day. It does **not** use the planner's
tables or model: activation is re-evaluated with the force-generation rule
(:func:`coalition.forcegen.activation.pledge_activation`) at every day on which a fact can
change, caveats with the shared eligibility check, and every capacity by summing the unit lines
day by day. Each violation names its rule (the names are listed in :data:`RULES` and in
``docs/planner/check.md``).

The reported figures are checked too: the shortfall and the objective are recomputed from the
unit lines, and a reported gap must be against a bound no higher than the objective.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

from coalition.conditions.engine import ConditionEngine, parse_assumptions
from coalition.forcegen.activation import pledge_activation
from coalition.forcegen.eligibility import eligibility
from coalition.planner.schemas import Plan, UnitLine
from coalition.scenario.schemas import Corridor, Hub, Pledge, Requirement, Scenario

if TYPE_CHECKING:
    from coalition.sustain.demand import PlanLine

# rule name -> what it means (the contract of `coalition plan check`)
RULES: dict[str, str] = {
    "plan-scenario": "the plan belongs to this scenario and names one of its force options",
    "unit-line-refs": "a unit line's pledge, requirement, hub and corridor exist and agree",
    "rear-node": "a pledge naming a rear node moves through a corridor from it when one reaches the hub",
    "caveat": "the pledge's caveats allow the hub (shared eligibility check)",
    "max-notice": "the pledge's notice-to-move does not exceed the line's maximum",
    "pledge-active": "the pledge is active (lifecycle, expiry, conditions) on every day from departure to tour end",
    "notice-to-move": "departure is no earlier than activation (or C-day) + notice-to-move, nor before available-from",
    "availability": "the tour ends no later than the pledge's available-to day",
    "transit": "arrival = departure + the corridor's transit days; arrival <= tour end",
    "tour-length": "days in theatre (arrival .. tour end) do not exceed the pledge's tour length",
    "Hub-personnel-capacity": "personnel at a hub on each day (arrival .. tour end) within its capacity",
    "Pledge-unit-cycle": "on each day, a pledge's units busy (departure .. tour end + return transit + recovery) "
    "do not exceed its units",
    "unit-label": "a unit label names one of the pledge's units and its busy spells do not overlap",
    "Pledge-rotation-budget": "tours started do not exceed sustainable rotations x units",
    "Corridor-personnel-daily": "personnel entering a corridor per day (deployment and return at tour end) within "
    "its daily capacity",
    "Corridor-tonnage-daily": "tonnage entering a corridor per day (deployment, return at tour end and resupply "
    "flows) within its daily capacity",
    "days-late": "days late = max(0, arrival - required day)",
    "Medical-10-1-2": "where the scenario declares medical roles, no manoeuvre (deterrence) or training unit is "
    "at a hub on a day without Role 1 care within 60 min and Role 2 care within 120 min (road, or a MEDEVAC "
    "helicopter present), re-derived from the unit lines",
    "Resupply-cover": "on every hub-day, resupply flows into the hub plus the reported unmet resupply cover the "
    "tonnage its units need (recomputed from the unit lines and the sustainment factors, after host-nation "
    "share)",
    "resupply-refs": "a resupply flow names a corridor of the scenario and its hub, a day range inside the "
    "horizon and a rate >= 0",
    "precedence": "the plan's broken enablers-first rules are exactly those its unit lines break (first "
    "before-unit arrival later than the first after-unit arrival in a scope, or none where one is required)",
    "kpi-shortfall": "the reported shortfall equals the shortfall recomputed from the unit lines",
    "objective": "the reported objective equals the objective recomputed from the unit lines",
    "solve-bound": "a reported bound is no higher than the objective, the gap agrees with them, and its "
    "provenance is stated",
}

TOL = 1e-6


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    message: str
    where: str = ""  # unit line, hub/day, corridor/day ...

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "where": self.where, "message": self.message}


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The independent plan checker's verdict on one plan: its violations (``ok`` when none)."""

    option: str
    unit_lines: int
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations

    def by_rule(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for v in self.violations:
            out[v.rule] += 1
        return dict(sorted(out.items()))


def unit_tonnage(scenario: Scenario, pledge: Pledge) -> float:
    """Tonnage of one unit: the catalogue's lift scaled by the pledge's unit size."""
    cap = next((c for c in scenario.capabilities if c.code == pledge.capability), None)
    if cap is None:
        return 0.0
    return float(cap.tonnage) * pledge.personnel_per_unit / max(cap.personnel, 1)


class _Activity:
    """Activation of each pledge by day (days after C-day), evaluated with the
    force-generation rule at the days where it can change."""

    def __init__(self, scenario: Scenario, plan: Plan) -> None:
        texts = [a for a in plan.assumptions if "=" in a]
        assumptions = parse_assumptions(texts) if texts else ()
        self.engine = ConditionEngine(scenario, tuple(assumptions))
        self.c_day = plan.c_day
        change = sorted(self.engine.change_dates())
        self.change_days = [] if plan.c_day is None else sorted({(d - plan.c_day).days for d in change})
        self._cache: dict[tuple[str, int], bool] = {}

    def checkpoints(self, pledge: Pledge, lo: int, hi: int) -> list[int]:
        """Days in [lo, hi] at which the activation of ``pledge`` may change, plus ``lo``."""
        pts = {lo} | {d for d in self.change_days if lo < d <= hi}
        if pledge.expiry_date is not None and self.c_day is not None:
            d = (pledge.expiry_date - self.c_day).days + 1
            if lo < d <= hi:
                pts.add(d)
        if pledge.renewal_date is not None and self.c_day is not None:
            d = (pledge.renewal_date - self.c_day).days + 1
            if lo < d <= hi:
                pts.add(d)
        return sorted(pts)

    def active(self, pledge: Pledge, day: int) -> bool:
        key = (pledge.id, day)
        if key not in self._cache:
            assert self.c_day is not None
            self._cache[key] = pledge_activation(pledge, self.c_day + timedelta(days=day), self.engine).active
        return self._cache[key]

    def run_start(self, pledge: Pledge, day: int) -> int | None:
        """First day (>= 0) of the active run containing ``day``; None if not active then."""
        pts = self.checkpoints(pledge, 0, day)
        if not self.active(pledge, pts[-1]):
            return None
        start = pts[-1]
        for d in reversed(pts):  # activation is constant between checkpoints
            if not self.active(pledge, d):
                break
            start = d
        return start


def _max_overlap(intervals: Iterable[tuple[int, int, float]], horizon: int) -> np.ndarray:
    """Per-day sum of weights of closed intervals [a, b], over days 0..horizon-1."""
    diff = np.zeros(horizon + 1)
    for a, b, w in intervals:
        a, b = max(a, 0), min(b, horizon - 1)
        if a > b:
            continue
        diff[a] += w
        diff[b + 1] -= w
    return np.cumsum(diff)[:horizon]


def _days_over(load: np.ndarray, cap: float) -> list[int]:
    return np.flatnonzero(load > cap + TOL).tolist()


@dataclass(frozen=True, slots=True)
class _Records:
    """The scenario's records a plan's unit lines name, by id (requirements of its option)."""

    pledges: dict[str, Pledge]
    reqs: dict[str, Requirement]
    hubs: dict[str, Hub]
    corridors: dict[str, Corridor]

    @classmethod
    def of(cls, scenario: Scenario, option: str) -> _Records:
        return cls(
            pledges={p.id: p for p in scenario.pledges},
            reqs={r.id: r for r in scenario.requirements_of(option)},
            hubs={h.id: h for h in scenario.hubs},
            corridors={c.id: c for c in scenario.corridors},
        )


def check_plan(scenario: Scenario, plan: Plan) -> CheckReport:
    """Every violation of a hard rule (and every misreported figure) in ``plan``."""
    out: list[Violation] = []
    add = out.append
    if plan.scenario != scenario.id:
        add(Violation("plan-scenario", f"plan is for scenario {plan.scenario!r}, not {scenario.id!r}"))
    if scenario.option(plan.option) is None:
        add(Violation("plan-scenario", f"unknown force option {plan.option!r}"))
        return CheckReport(plan.option, len(plan.unit_lines), tuple(out))
    recs = _Records.of(scenario, plan.option)
    act = _Activity(scenario, plan) if plan.c_day is not None else None
    if act is None and plan.unit_lines:
        add(Violation("pledge-active", "the plan has unit lines but no C-day to judge activation"))

    good = [ul for ul in plan.unit_lines if _check_line(scenario, recs, act, ul, out)]
    resupply, unmet_td = _check_resupply(scenario, plan, good, recs.hubs, recs.corridors, out)
    _check_capacities(scenario, plan, good, recs, out, resupply)
    broken = _check_precedence(scenario, plan, good, recs.hubs, out)
    _check_medical(scenario, plan, good, out)
    _check_figures(plan, recs, out, broken, unmet_td)
    return CheckReport(plan.option, len(plan.unit_lines), tuple(out))


def _check_line(scenario: Scenario, recs: _Records, act: _Activity | None, ul: UnitLine, out: list[Violation]) -> bool:
    """The per-line rules of ``ul``; False when its references are broken (the line is then
    left out of the capacity and figure checks)."""
    w = ul.uln
    p, r = recs.pledges.get(ul.pledge), recs.reqs.get(ul.requirement)
    h, c = recs.hubs.get(ul.hub), recs.corridors.get(ul.corridor)
    missing = [n for n, v in (("pledge", p), ("requirement", r), ("hub", h), ("corridor", c)) if v is None]
    if missing:
        out.append(Violation("unit-line-refs", "unknown " + ", ".join(missing), w))
        return False
    assert p is not None and r is not None and h is not None and c is not None
    bad = _ref_mismatches(ul, p, r, h, c)
    if bad:
        out.append(Violation("unit-line-refs", "; ".join(bad), w))
        return False
    _check_placement(scenario, ul, p, r, h, c, out)
    if act is not None:
        _check_activity(act, ul, p, out)
    _check_timing(ul, p, c, out)
    return True


def _ref_mismatches(ul: UnitLine, p: Pledge, r: Requirement, h: Hub, c: Corridor) -> list[str]:
    """Where the unit line disagrees with the records it names."""
    bad = []
    if ul.nation != p.nation:
        bad.append(f"nation {ul.nation} is not the pledge's {p.nation}")
    if p.capability != r.capability or ul.capability != p.capability:
        bad.append(f"capability {p.capability} does not fill a {r.capability} line")
    if r.hub is not None and r.hub != h.id:
        bad.append(f"hub {h.id} is not the line's hub {r.hub}")
    if r.region is not None and h.region != r.region:
        bad.append(f"hub {h.id} is not in the line's region {r.region}")
    if c.hub != h.id or ul.rear_node != c.rear_node:
        bad.append(f"corridor {c.id} runs {c.rear_node} -> {c.hub}, not {ul.rear_node} -> {h.id}")
    if ul.personnel != p.personnel_per_unit:
        bad.append(f"personnel {ul.personnel} is not the pledge's {p.personnel_per_unit} per unit")
    return bad


def _check_placement(
    scenario: Scenario, ul: UnitLine, p: Pledge, r: Requirement, h: Hub, c: Corridor, out: list[Violation]
) -> None:
    """Rear node, caveats and the line's maximum notice-to-move."""
    w = ul.uln
    if (
        p.rear_node is not None
        and c.rear_node != p.rear_node
        and any(k.rear_node == p.rear_node and k.hub == h.id for k in scenario.corridors)
    ):
        out.append(
            Violation(
                "rear-node",
                f"pledge names rear node {p.rear_node}, which has a corridor to "
                f"{h.id}, but the line moves from {c.rear_node}",
                w,
            )
        )
    why = [e for e in eligibility(p, r, scenario, hub=h.id) if e.code not in ("readiness", "window", "capability")]
    if why:
        out.append(Violation("caveat", "; ".join(e.message for e in why), w))
    if p.notice_days > r.max_notice_days:
        out.append(
            Violation(
                "max-notice", f"notice-to-move {p.notice_days} d exceeds the line's maximum {r.max_notice_days} d", w
            )
        )


def _check_activity(act: _Activity, ul: UnitLine, p: Pledge, out: list[Violation]) -> None:
    """The pledge is active while the unit is in use, and departs after its notice-to-move."""
    w = ul.uln
    dep, end = ul.departure_day, ul.tour_end_day
    off = [d for d in act.checkpoints(p, max(dep, 0), end) if not act.active(p, d)]
    if off:
        on = act.c_day + timedelta(days=off[0]) if act.c_day else None
        out.append(
            Violation(
                "pledge-active",
                f"pledge {p.id} is not active on day {off[0]} ({on}) but the unit is in use from day {dep} to {end}",
                w,
            )
        )
    start = act.run_start(p, max(dep, 0))
    if start is not None and dep < start + p.notice_days:
        out.append(
            Violation(
                "notice-to-move",
                f"departs day {dep}, but the pledge is active from day {start} with {p.notice_days} d notice-to-move",
                w,
            )
        )


def _check_timing(ul: UnitLine, p: Pledge, c: Corridor, out: list[Violation]) -> None:
    """Availability window, transit, tour length and days late of one unit line."""
    add, w = out.append, ul.uln
    dep, arr, end = ul.departure_day, ul.arrival_day, ul.tour_end_day
    if dep < p.available_from_day:
        add(Violation("notice-to-move", f"departs day {dep}, before available-from day {p.available_from_day}", w))
    if p.available_to_day is not None and end > p.available_to_day:
        add(Violation("availability", f"tour ends day {end}, after available-to day {p.available_to_day}", w))
    if arr != dep + c.transit_days or arr > end:
        add(
            Violation(
                "transit", f"departs {dep}, arrives {arr}, tour ends {end}; corridor {c.id} takes {c.transit_days} d", w
            )
        )
    if end - arr + 1 > p.tour_days:
        add(
            Violation(
                "tour-length", f"{end - arr + 1} days in theatre (day {arr} to {end}), tour is {p.tour_days} d", w
            )
        )
    if ul.days_late != max(0, arr - ul.required_day):
        add(
            Violation(
                "days-late",
                f"days_late {ul.days_late}, but arrival {arr} and required "
                f"{ul.required_day} give {max(0, arr - ul.required_day)}",
                w,
            )
        )


# per hub, pledge or corridor id: weighted closed day intervals (first day, last day, weight)
_Spans = dict[str, list[tuple[int, int, float]]]


@dataclass(frozen=True, slots=True)
class _Loads:
    """The unit lines as day intervals: at each hub, busy per pledge, per unit label (with its
    unit line), entering each corridor (personnel and tonnage)."""

    at_hub: _Spans
    busy: _Spans
    labels: dict[str, list[tuple[int, int, str]]]
    flows: _Spans
    tflows: _Spans

    @classmethod
    def of(cls, scenario: Scenario, lines: list[UnitLine], recs: _Records, H: int) -> _Loads:
        loads = cls(defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list))
        for ul in lines:
            p = recs.pledges[ul.pledge]
            c = recs.corridors[ul.corridor]
            loads.at_hub[ul.hub].append((ul.arrival_day, ul.tour_end_day, float(p.personnel_per_unit)))
            b_end = ul.tour_end_day + c.transit_days + p.recovery_days
            loads.busy[p.id].append((ul.departure_day, b_end, 1.0))
            loads.labels[ul.unit].append((ul.departure_day, b_end, ul.uln))
            ton = unit_tonnage(scenario, p)
            ret = ul.tour_end_day + 1
            for day in (ul.departure_day, ret):
                if 0 <= day < H:
                    loads.flows[c.id].append((day, day, float(p.personnel_per_unit)))
                    loads.tflows[c.id].append((day, day, ton))
        return loads


def _check_capacities(
    scenario: Scenario,
    plan: Plan,
    lines: list[UnitLine],
    recs: _Records,
    out: list[Violation],
    resupply: _Spans | None = None,
) -> None:
    H = plan.horizon_days
    loads = _Loads.of(scenario, lines, recs, H)
    _check_hub_loads(loads.at_hub, recs.hubs, H, out)
    _check_pledge_loads(loads.busy, recs.pledges, H, out)
    _check_unit_labels(loads.labels, recs.pledges, out)
    for cid, iv in (resupply or {}).items():
        loads.tflows.setdefault(cid, []).extend(iv)
    for name, fl, attr in (
        ("Corridor-personnel-daily", loads.flows, "personnel_per_day"),
        ("Corridor-tonnage-daily", loads.tflows, "tonnage_per_day"),
    ):
        for cid, iv in sorted(fl.items()):
            cap = float(getattr(recs.corridors[cid], attr))
            load = _max_overlap(iv, H)
            days = _days_over(load, cap * (1 + 1e-9))
            if days:
                worst = int(days[int(np.argmax(load[days]))])
                out.append(
                    Violation(
                        name,
                        f"{len(days)} day(s) over {cap:g}/day; worst day {worst}: {load[worst]:.1f}",
                        f"{cid} day {days[0]}",
                    )
                )


def _check_hub_loads(at_hub: _Spans, hubs: dict[str, Hub], H: int, out: list[Violation]) -> None:
    for hid, iv in sorted(at_hub.items()):
        days = _days_over(_max_overlap(iv, H), hubs[hid].personnel_capacity)
        if days:
            load = _max_overlap(iv, H)
            worst = int(days[int(np.argmax(load[days]))])
            out.append(
                Violation(
                    "Hub-personnel-capacity",
                    f"{len(days)} day(s) over capacity "
                    f"{hubs[hid].personnel_capacity}; worst day {worst}: {load[worst]:.0f} personnel",
                    f"{hid} day {days[0]}",
                )
            )


def _check_pledge_loads(busy: _Spans, pledges: dict[str, Pledge], H: int, out: list[Violation]) -> None:
    for pid, iv in sorted(busy.items()):
        p = pledges[pid]
        load = _max_overlap(iv, H)
        days = _days_over(load, p.units)
        if days:
            worst = int(days[int(np.argmax(load[days]))])
            out.append(
                Violation(
                    "Pledge-unit-cycle",
                    f"{int(load[worst])} units busy on day {worst} (tour, "
                    f"return or recovery) against {p.units} pledged; {len(days)} day(s) over",
                    f"{pid} day {days[0]}",
                )
            )
        tours = len(iv)
        if p.sustainable_rotations is not None and tours > p.sustainable_rotations * p.units:
            out.append(
                Violation(
                    "Pledge-rotation-budget",
                    f"{tours} tours against {p.sustainable_rotations} rotations x {p.units} units",
                    pid,
                )
            )


def _check_unit_labels(
    labels: dict[str, list[tuple[int, int, str]]], pledges: dict[str, Pledge], out: list[Violation]
) -> None:
    for label, spells in sorted(labels.items()):
        pid, _, num = label.rpartition("#")
        p = pledges.get(pid)
        if p is None or not num.isdigit() or not 1 <= int(num) <= p.units:
            out.append(Violation("unit-label", f"{label} is not one of the pledge's units", spells[0][2]))
            continue
        spells.sort()
        # each busy spell against the next (pairs of neighbours: one fewer than the spells)
        for (_a1, b1, u1), (a2, _b2, u2) in zip(spells, spells[1:], strict=False):
            if a2 <= b1:
                out.append(
                    Violation("unit-label", f"{label} starts {u2} on day {a2} while busy until day {b1} with {u1}", u2)
                )


def coverage_shortfall(
    plan: Plan, reqs: Mapping[str, Requirement]
) -> tuple[float, float, dict[tuple[str, int], float]]:
    """Shortfall recomputed from the unit lines, per period (the plan's basis): a unit covers
    period t of its line when it is at the hub on the last day e_t of the line's window in t
    (arrival <= e_t, tour start <= e_t <= tour end). Returns (unit-periods, unit-days, cells)."""
    H, D = plan.horizon_days, plan.period_days
    by_line: dict[str, list[UnitLine]] = defaultdict(list)
    for ul in plan.unit_lines:
        by_line[ul.requirement].append(ul)
    periods = days_total = 0.0
    cells: dict[tuple[str, int], float] = {}
    for rid, r in sorted(reqs.items()):
        lo, hi = max(r.start_day, 0), min(r.end_day, H - 1)
        if lo > hi:
            continue
        for t in range(lo // D, hi // D + 1):
            a, e = max(lo, t * D), min(hi, (t + 1) * D - 1)
            n = sum(
                1 for ul in by_line.get(rid, ()) if ul.arrival_day <= e and ul.tour_start_day <= e <= ul.tour_end_day
            )
            short = max(0, r.quantity - n)
            cells[(rid, t)] = short
            periods += short
            days_total += short * (e - a + 1)
    return periods, days_total, cells


def _check_precedence(
    scenario: Scenario, plan: Plan, lines: list[UnitLine], hubs: dict[str, Hub], out: list[Violation]
) -> int:
    """Re-derive the broken (rule, scope) pairs from the unit lines; return how many (0 when the
    plan did not model the rules)."""
    sec = plan.precedence
    if sec is None:
        return 0
    from coalition.sustain.precedence import effective_rules

    roles = {c.code: set(c.roles) for c in scenario.capabilities}
    rules = [r for r in effective_rules(scenario) if r.id in set(sec.rules)]
    if len(rules) != len(set(sec.rules)):
        out.append(
            Violation(
                "precedence",
                f"the plan names rules {sorted(sec.rules)}; the scenario's "
                f"effective rules are {sorted(r.id for r in effective_rules(scenario))}",
            )
        )
    mine: set[tuple[str, str]] = set()
    for rule in rules:
        first_b: dict[str, int] = {}
        first_a: dict[str, int] = {}
        for ul in lines:
            r = roles.get(ul.capability, set())
            h = hubs.get(ul.hub)
            scope = {"force": "force", "hub": ul.hub}.get(str(rule.scope), h.region if h else ul.hub)
            if "*" not in rule.before_roles and r & set(rule.before_roles):
                first_b[scope] = min(first_b.get(scope, ul.arrival_day), ul.arrival_day)
            elif "*" in rule.after_roles or r & set(rule.after_roles):
                first_a[scope] = min(first_a.get(scope, ul.arrival_day), ul.arrival_day)
        for scope, a in first_a.items():
            b = first_b.get(scope)
            if (b is None and rule.require_present) or (b is not None and b > a):
                mine.add((rule.id, scope))
    theirs = {(g.rule, g.scope) for g in sec.broken}
    for rid, scope in sorted(mine - theirs):
        out.append(Violation("precedence", f"rule {rid} is broken in {scope} but the plan does not say so"))
    for rid, scope in sorted(theirs - mine):
        out.append(
            Violation("precedence", f"the plan reports rule {rid} broken in {scope}, but its unit lines keep it")
        )
    return len(mine)


def _plan_lines(lines: Iterable[UnitLine]) -> tuple[PlanLine, ...]:
    from coalition.sustain.demand import PlanLine

    return tuple(
        PlanLine(
            uln=u.uln,
            capability=u.capability,
            hub=u.hub,
            personnel=u.personnel,
            arrival_day=u.arrival_day,
            tour_end_day=u.tour_end_day,
            pledge=u.pledge,
            nation=u.nation,
            requirement=u.requirement,
        )
        for u in lines
    )


def _check_medical(scenario: Scenario, plan: Plan, lines: list[UnitLine], out: list[Violation]) -> None:
    """10-1-2 re-derived from the unit lines by the sustainment rule (whatever the plan says)."""
    if not scenario.sustainment.medical_roles:
        return
    from coalition.errors import InputError
    from coalition.sustain.demand import PlanView
    from coalition.sustain.medical import medical_picture

    view = PlanView(scenario=scenario.id, option=plan.option, horizon_days=plan.horizon_days, lines=_plan_lines(lines))
    try:
        pic = medical_picture(view, scenario)
    except InputError as e:
        out.append(Violation("Medical-10-1-2", f"medical coverage cannot be judged: {e}"))
        return
    for u in pic.uncovered:
        if u.constrained:
            out.append(
                Violation(
                    "Medical-10-1-2",
                    f"manoeuvre or training units at {u.hub} on days "
                    f"{u.start_day}..{u.end_day} without 10-1-2 care: {u.reason}",
                    f"{u.hub} day {u.start_day}",
                )
            )


def _resupply_need(scenario: Scenario, plan: Plan, lines: list[UnitLine]) -> dict[str, list[tuple[int, int, float]]]:
    """The tonnage per day each hub's unit lines need (after host-nation support that holds), as
    (first day, last day, tonnes per day) spans."""
    from coalition.sustain.factors import load_factors
    from coalition.sustain.flows import tonnage_factor

    table = load_factors()
    holds: dict[str, bool] = {}
    if plan.c_day is not None and scenario.sustainment.host_nation:
        from coalition.sustain.service import condition_holds

        texts = [a for a in plan.assumptions if "=" in a]
        holds = condition_holds(scenario, parse_assumptions(texts) if texts else (), plan.c_day)
    need: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    memo: dict[tuple[str, str], float] = {}
    for ul in lines:
        key = (ul.capability, ul.hub)
        if key not in memo:
            memo[key] = tonnage_factor(scenario, table, ul.capability, ul.hub, holds).tonnes
        if memo[key] * ul.personnel > 0:
            need[ul.hub].append((ul.arrival_day, ul.tour_end_day, memo[key] * ul.personnel))
    return need


def _check_resupply(
    scenario: Scenario,
    plan: Plan,
    lines: list[UnitLine],
    hubs: dict[str, Hub],
    corridors: dict[str, Corridor],
    out: list[Violation],
) -> tuple[_Spans, float]:
    """Resupply flows re-checked day by day against the tonnage the unit lines need; returns the
    flows per corridor (for the corridor tonnage rule) and the reported unmet tonne-days."""
    H = plan.horizon_days
    add = out.append
    need = _resupply_need(scenario, plan, lines)
    sec = plan.resupply or {}
    flows: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    into: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for i, f in enumerate(sec.get("flows", []) if isinstance(sec, dict) else []):
        cid = f.get("corridor") if isinstance(f, dict) else None
        c = corridors.get(cid) if isinstance(cid, str) else None
        try:
            a, b, t = int(f["start_day"]), int(f["end_day"]), float(f["tonnes_per_day"])
        except (KeyError, TypeError, ValueError):
            add(
                Violation(
                    "resupply-refs",
                    "a flow needs corridor, start_day, end_day and tonnes_per_day",
                    f"resupply.flows[{i}]",
                )
            )
            continue
        if c is None or f.get("hub") != c.hub or not 0 <= a <= b < H or not t >= 0:
            add(
                Violation(
                    "resupply-refs",
                    f"flow {f.get('corridor')} -> {f.get('hub')} days {a}..{b} at "
                    f"{t:g} t/day: unknown corridor, wrong hub, days outside 0..{H - 1} or negative rate",
                    f"resupply.flows[{i}]",
                )
            )
            continue
        flows[c.id].append((a, b, t))
        into[c.hub].append((a, b, t))
    unmet_td = 0.0
    for i, u in enumerate(sec.get("unmet", []) if isinstance(sec, dict) else []):
        try:
            a, b, t = int(u["start_day"]), int(u["end_day"]), float(u["tonnes_per_day"])
        except (KeyError, TypeError, ValueError):
            add(
                Violation(
                    "resupply-refs",
                    "an unmet entry needs hub, start_day, end_day and tonnes_per_day",
                    f"resupply.unmet[{i}]",
                )
            )
            continue
        if u.get("hub") not in hubs or not 0 <= a <= b < H or not t >= 0:
            add(
                Violation(
                    "resupply-refs",
                    f"unmet entry for {u.get('hub')} days {a}..{b}: unknown hub, days "
                    "outside the horizon or a negative rate",
                    f"resupply.unmet[{i}]",
                )
            )
            continue
        into[u["hub"]].append((a, b, t))
        unmet_td += t * (b - a + 1)
    for hid, iv in sorted(need.items()):
        demand = _max_overlap(iv, H)
        have = _max_overlap(into.get(hid, []), H)
        short = np.flatnonzero(demand > have + 1e-6 * np.maximum(demand, 1.0))
        if short.size:
            d = int(short[0])
            what = (
                "the plan carries no resupply section"
                if plan.resupply is None
                else f"flows and unmet give {have[d]:,.2f} t"
            )
            add(
                Violation(
                    "Resupply-cover",
                    f"{short.size} day(s) on which the units need more than is carried "
                    f"or reported unmet; day {d}: {demand[d]:,.2f} t/day needed, {what}",
                    f"{hid} day {d}",
                )
            )
    return flows, unmet_td


def _check_figures(plan: Plan, recs: _Records, out: list[Violation], broken: int = 0, unmet_td: float = 0.0) -> None:
    add = out.append
    reqs, hubs, corridors = recs.reqs, recs.hubs, recs.corridors
    periods, days_total, cells = coverage_shortfall(plan, reqs)
    k = plan.kpis
    if abs(k.shortfall_unit_days - days_total) > 0.5 or abs(k.shortfall_unit_periods - periods) > 0.01:
        add(
            Violation(
                "kpi-shortfall",
                f"reported {k.shortfall_unit_periods:g} unit-periods / "
                f"{k.shortfall_unit_days:g} unit-days; the unit lines leave {periods:g} / {days_total:g}",
            )
        )
    w = plan.weights
    prio = {"essential": w.priority_essential, "important": w.priority_important, "desirable": w.priority_desirable}
    H, D = plan.horizon_days, plan.period_days
    obj = 0.0
    for (rid, t), short in cells.items():
        r = reqs[rid]
        lo, hi = max(r.start_day, 0), min(r.end_day, H - 1)
        d = min(hi, (t + 1) * D - 1) - max(lo, t * D) + 1
        obj += w.shortfall * prio[str(r.priority)] * d * short
    pairs: set[tuple[str, str]] = set()
    for ul in plan.unit_lines:
        req = reqs.get(ul.requirement)
        c = corridors.get(ul.corridor)
        if req is None or c is None:
            continue
        obj += w.lateness * prio[str(req.priority)] * ul.days_late + w.distance * c.distance_km
        pairs.add((ul.hub, ul.nation))
    obj += w.cohesion * sum(1 for hid, n in pairs if hid in hubs and hubs[hid].lead_nation != n)
    obj += w.precedence * broken
    obj += w.sustainment * unmet_td
    s = plan.solve
    if s.objective is not None and abs(s.objective - obj) > 1e-6 * max(1.0, abs(obj)) + 0.01:
        add(Violation("objective", f"reported objective {s.objective:,.4f}; the unit lines give {obj:,.4f}"))
    prov = getattr(s, "bound_provenance", None)
    if prov not in ("full-lp", "full-lagrangian", "full-mip-dual", "none"):
        add(
            Violation(
                "solve-bound", f"bound provenance {prov!r} is not full-lp, full-lagrangian, full-mip-dual or none"
            )
        )
    if s.bound is not None:
        if prov == "none":
            add(Violation("solve-bound", "a bound is reported with provenance 'none'"))
        if s.objective is not None and s.bound > s.objective + 1e-6 * max(1.0, abs(s.objective)):
            add(Violation("solve-bound", f"bound {s.bound:,.4f} exceeds the objective {s.objective:,.4f}"))
    if s.gap is not None:
        if s.bound is None or s.objective is None:
            add(Violation("solve-bound", "a gap is reported without a bound and an objective"))
        else:
            g = abs(s.objective - s.bound) / max(abs(s.objective), 1e-9)
            if abs(g - s.gap) > 1e-5:
                add(Violation("solve-bound", f"gap {s.gap:.6f} disagrees with objective and bound ({g:.6f})"))


def check_plans(scenario: Scenario, plans: Iterable[Plan]) -> list[CheckReport]:
    return [check_plan(scenario, p) for p in plans]


__all__ = ["RULES", "CheckReport", "Violation", "check_plan", "check_plans", "coverage_shortfall", "unit_tonnage"]
