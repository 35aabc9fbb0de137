"""Planner input tables: the scenario turned into flat numpy arrays (one row per asset).

The model (``planner.model``) is built only from a :class:`PlanningTables`; nothing below this
module looks at pydantic records. Hard caveats and conditions are applied here: only *active*
pledges appear, and only *eligible* pledge x line x hub x corridor combinations ("arcs") are
generated. Everything excluded is recorded with its reason so the explanations can name it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from coalition.forcegen.eligibility import Reason, eligibility, eligibility_matrix
from coalition.planner.schemas import PlanOptions
from coalition.scenario.schemas import Pledge, Priority, Scenario

PRIORITY_ORDER = {Priority.ESSENTIAL: 0, Priority.IMPORTANT: 1, Priority.DESIRABLE: 2}


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A pledge that cannot fill a line, and why (a stable code and plain words)."""

    line: int
    pledge_id: str
    nation: str
    code: str
    message: str


@dataclass(slots=True)
class PlanningTables:
    """Everything the model needs, as arrays. Index order is deterministic (sorted ids)."""

    period_days: int
    n_periods: int
    horizon_days: int
    rip_days: int
    # pledges (active only)
    pledge_id: list[str]
    pledge_nation: list[str]
    pledge_capability: list[str]
    pledge_units: np.ndarray  # int
    pledge_personnel: np.ndarray  # per unit
    pledge_tonnage: np.ndarray  # per unit
    pledge_ready_day: np.ndarray  # activation day + notice-to-move (earliest departure)
    pledge_avail_to: np.ndarray  # last day a tour may start (large = open)
    pledge_tour: np.ndarray  # whole periods of one tour (floor(tour/D), at least 1), for sizing
    pledge_recovery: np.ndarray  # periods of recovery after a tour (ceil), for sizing
    pledge_tour_days: np.ndarray  # days in theatre allowed per tour
    pledge_recovery_days: np.ndarray  # days of recovery after the return
    pledge_rotations: np.ndarray  # tours per unit over the horizon (large = unbounded)
    pledge_rear: list[str | None]
    # lines (requirements of the option)
    line_id: list[str]
    line_capability: list[str]
    line_qty: np.ndarray
    line_priority: list[str]
    line_prio_w: np.ndarray
    line_start_day: np.ndarray
    line_end_day: np.ndarray
    line_first: np.ndarray  # first period (inclusive), -1 when outside the horizon
    line_last: np.ndarray  # last period (inclusive)
    line_place: list[str]  # hub id or "region:<name>"
    # hubs
    hub_id: list[str]
    hub_capacity: np.ndarray
    hub_lead: list[str | None]
    hub_region: list[str]
    # corridors
    corridor_id: list[str]
    corridor_hub: np.ndarray
    corridor_rear: list[str]
    corridor_personnel: np.ndarray  # per day
    corridor_tonnage: np.ndarray  # per day
    corridor_transit: np.ndarray  # days
    corridor_distance: np.ndarray  # km
    # arcs: eligible (pledge, line, hub, corridor)
    arc_pledge: np.ndarray
    arc_line: np.ndarray
    arc_hub: np.ndarray
    arc_corridor: np.ndarray
    nations: list[str]
    exclusions: list[Exclusion] = field(default_factory=list)
    # active windows (one row per active spell of a pledge, sorted by pledge then start):
    # the pledge may be in use (departure .. tour end) on days win_start .. win_end; it may
    # depart from win_ready (spell start + notice-to-move, available-from) on.
    win_pledge: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    win_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    win_end: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    win_ready: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pledge_win_first: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pledge_win_count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pledge_spell_text: list[str] = field(default_factory=list)
    # enablers first (issue 15): each effective precedence rule resolved to capability codes
    # (coalition.sustain.precedence.rule_groups); empty = no Precedence-* block
    prec_rule: list[str] = field(default_factory=list)
    prec_scope: list[str] = field(default_factory=list)  # "force" | "hub" | "region"
    prec_before: list[frozenset[str]] = field(default_factory=list)
    prec_after: list[frozenset[str]] = field(default_factory=list)
    prec_require: list[bool] = field(default_factory=list)
    sustain: object | None = None  # planner.sustainment.SustainTables (issue 15), set by attach()

    @property
    def n_pledges(self) -> int:
        return len(self.pledge_id)

    @property
    def n_lines(self) -> int:
        return len(self.line_id)

    @property
    def n_arcs(self) -> int:
        return int(self.arc_pledge.size)

    def period_start(self, t: int) -> int:
        return t * self.period_days

    def days_in_period(self, line: int, t: int) -> int:
        """Days of line ``line``'s window inside period ``t`` (and inside the horizon)."""
        lo = max(int(self.line_start_day[line]), t * self.period_days, 0)
        hi = min(int(self.line_end_day[line]), (t + 1) * self.period_days - 1, self.horizon_days - 1)
        return max(0, hi - lo + 1)


def priority_weight(priority: str, options: PlanOptions) -> float:
    w = options.weights
    return {
        Priority.ESSENTIAL.value: w.priority_essential,
        Priority.IMPORTANT.value: w.priority_important,
        Priority.DESIRABLE.value: w.priority_desirable,
    }[str(priority)]


def build_tables(
    scenario: Scenario,
    option_id: str,
    *,
    active_from: Mapping[str, int],
    options: PlanOptions,
    inactive_reasons: Mapping[str, str] | None = None,
    spells: Mapping[str, tuple[tuple[int, int | None], ...]] | None = None,
    spell_texts: Mapping[str, str] | None = None,
) -> PlanningTables:
    """Turn a scenario, a force option and the activation picture into planner tables.

    ``active_from`` maps each *active* pledge id to the day (relative to C-day, >= 0) from which
    it is active; pledges not in it are inactive (``inactive_reasons`` says why, for the
    explanations). ``spells`` gives each active pledge's active spells ``(start, end)`` (end
    None = open; default: one open spell from ``active_from``): a tour must lie inside one spell
    and inside the pledge's availability window. Caveats are judged by
    :mod:`coalition.forcegen.eligibility`, the same check the gap picture uses.
    """
    D = options.period_days
    horizon = options.horizon_days or scenario.horizon_days
    T = max(1, math.ceil(horizon / D))
    rip = options.relief_in_place_days
    big = 10**6

    reqs = sorted(scenario.requirements_of(option_id), key=lambda r: r.id)
    caps = {c.code: c for c in scenario.capabilities}
    hubs = sorted(scenario.hubs, key=lambda h: h.id)
    hub_ix = {h.id: i for i, h in enumerate(hubs)}
    corridors = sorted((c for c in scenario.corridors if c.hub in hub_ix), key=lambda c: c.id)
    corr_into: dict[str, list[int]] = {}
    for ci, c in enumerate(corridors):
        corr_into.setdefault(c.hub, []).append(ci)

    pledges = sorted((p for p in scenario.pledges if p.id in active_from), key=lambda p: p.id)
    inactive = sorted((p for p in scenario.pledges if p.id not in active_from), key=lambda p: p.id)

    def tonnage(p: Pledge) -> float:
        cap = caps.get(p.capability)
        if cap is None:
            return 0.0
        # scale the catalogue's typical lift by this pledge's unit size
        return float(cap.tonnage) * p.personnel_per_unit / max(cap.personnel, 1)

    # active windows: each spell cut to the availability window [available_from, available_to]
    w_p: list[int] = []
    w_s: list[int] = []
    w_e: list[int] = []
    w_r: list[int] = []
    for pi, p in enumerate(pledges):
        own = (spells or {}).get(p.id) or ((int(active_from[p.id]), None),)
        for a, b in own:
            end = big if b is None else int(b)
            if p.available_to_day is not None:
                end = min(end, int(p.available_to_day))
            ready = max(p.available_from_day, max(int(a), 0) + p.notice_days, 0)
            if ready > end:
                continue
            w_p.append(pi)
            w_s.append(max(int(a), 0))
            w_e.append(end)
            w_r.append(ready)
    win_pledge = np.array(w_p, dtype=np.int64)
    win_count = np.bincount(win_pledge, minlength=len(pledges)).astype(np.int64)
    win_first = (np.cumsum(win_count) - win_count).astype(np.int64)
    first_ready = {pi: r for pi, r in reversed(list(zip(w_p, w_r)))}
    pledge_ready = np.array(
        [first_ready.get(pi, max(p.available_from_day, int(active_from[p.id]) + p.notice_days, 0))
         for pi, p in enumerate(pledges)],
        dtype=np.int64,
    )
    tour = np.array([max(1, p.tour_days // D) for p in pledges], dtype=np.int64)
    recovery = np.array([math.ceil(p.recovery_days / D) for p in pledges], dtype=np.int64)
    rotations = np.array(
        [big if p.sustainable_rotations is None else p.sustainable_rotations for p in pledges],
        dtype=np.int64,
    )

    line_first = np.full(len(reqs), -1, dtype=np.int64)
    line_last = np.full(len(reqs), -2, dtype=np.int64)
    for i, r in enumerate(reqs):
        lo, hi = max(r.start_day, 0), min(r.end_day, horizon - 1)
        if lo <= hi:
            line_first[i], line_last[i] = lo // D, hi // D

    exclusions: list[Exclusion] = []
    for p in inactive:
        for li, r in enumerate(reqs):
            if r.capability == p.capability:
                why = (inactive_reasons or {}).get(p.id, "its condition does not hold")
                exclusions.append(Exclusion(li, p.id, p.nation, "inactive", why))

    # Eligibility (caveats, place) from the shared checker, vectorised over (line, hub).
    # Timing is the model's business (Arrival-readiness, Pledge-availability), so the checker's
    # timing codes are dropped here, except the line's maximum notice-to-move which is hard.
    emat = eligibility_matrix(pledges, reqs, scenario)
    col_ix: dict[str, list[tuple[int, str]]] = {}
    for j, (lid, hid) in enumerate(emat.columns):
        col_ix.setdefault(lid, []).append((j, hid))
    hard = np.uint16(~int(Reason.READINESS | Reason.WINDOW | Reason.CAPABILITY) & 0xFFFF)
    masks = emat.reasons & hard

    a_p: list[int] = []
    a_l: list[int] = []
    a_h: list[int] = []
    a_c: list[int] = []
    for li, r in enumerate(reqs):
        cols = col_ix.get(r.id, [])
        eligible: list[tuple[int, list[str]]] = []
        for pi, p in enumerate(pledges):
            if p.capability != r.capability:
                continue
            if line_first[li] < 0:
                exclusions.append(
                    Exclusion(li, p.id, p.nation, "Line-window", "the line lies outside the horizon")
                )
                continue
            if p.notice_days > r.max_notice_days:
                exclusions.append(
                    Exclusion(
                        li, p.id, p.nation, "readiness",
                        f"notice-to-move {p.notice_days} d exceeds the line's maximum "
                        f"{r.max_notice_days} d",
                    )
                )
                continue
            ok_hubs = [hid for j, hid in cols if masks[pi, j] == 0]
            if not cols:
                exclusions.append(
                    Exclusion(li, p.id, p.nation, "no-hub", f"region '{r.region}' has no hub")
                )
                continue
            if not ok_hubs:
                seen: set[tuple[str, str]] = set()
                for _, hid in cols:
                    for why in eligibility(p, r, scenario, hub=hid):
                        if why.code in ("readiness", "window", "capability"):
                            continue
                        if (why.code, why.message) not in seen:
                            seen.add((why.code, why.message))
                            exclusions.append(Exclusion(li, p.id, p.nation, why.code, why.message))
                continue
            eligible.append((pi, ok_hubs))
        K = options.candidates_per_line
        if K is not None and len(eligible) > K:
            def rank(item: tuple[int, list[str]]) -> tuple[float, ...]:
                pi, hubs_ok = item
                into = [ci for hid in hubs_ok for ci in corr_into.get(hid, [])]
                transit = min((corridors[ci].transit_days for ci in into), default=10**6)
                km = min((corridors[ci].distance_km for ci in into), default=1e9)
                return (float(pledge_ready[pi] + transit), -float(pledges[pi].units), km, pi)

            eligible.sort(key=rank)
            for pi, _ in eligible[K:]:
                p = pledges[pi]
                exclusions.append(
                    Exclusion(li, p.id, p.nation, "candidate-limit",
                              f"eligible, but not among the {K} earliest-arriving candidates "
                              "considered for this line (PlanOptions.candidates_per_line)")
                )
            eligible = sorted(eligible[:K])
        for pi, ok_hubs in eligible:
            p = pledges[pi]
            arcs_here = 0
            too_big: list[str] = []
            for hid in ok_hubs:
                into = corr_into.get(hid, [])
                own = [ci for ci in into if corridors[ci].rear_node == p.rear_node]
                for ci in own or into:
                    k = corridors[ci]
                    if p.personnel_per_unit > k.personnel_per_day or tonnage(p) > k.tonnage_per_day:
                        # all of a unit leaves on one day: a unit larger than the daily
                        # capacity can never use this corridor
                        too_big.append(
                            f"{k.id} carries {k.personnel_per_day} personnel and "
                            f"{k.tonnage_per_day:g} t a day; one unit is {p.personnel_per_unit} "
                            f"personnel and {tonnage(p):.1f} t"
                        )
                        continue
                    a_p.append(pi)
                    a_l.append(li)
                    a_h.append(hub_ix[hid])
                    a_c.append(ci)
                    arcs_here += 1
            if arcs_here == 0 and too_big:
                exclusions.append(
                    Exclusion(li, p.id, p.nation, "Corridor-personnel-capacity",
                              "one unit exceeds the daily capacity of every corridor it could use: "
                              + "; ".join(too_big))
                )
            elif arcs_here == 0:
                exclusions.append(
                    Exclusion(
                        li,
                        p.id,
                        p.nation,
                        "Corridor-personnel-capacity",
                        "no corridor reaches " + ", ".join(ok_hubs) + " (corridor capacity zero)",
                    )
                )

    nations = sorted({p.nation for p in pledges} | {p.nation for p in scenario.pledges})
    return PlanningTables(
        period_days=D,
        n_periods=T,
        horizon_days=horizon,
        rip_days=rip,
        pledge_id=[p.id for p in pledges],
        pledge_nation=[p.nation for p in pledges],
        pledge_capability=[p.capability for p in pledges],
        pledge_units=np.array([p.units for p in pledges], dtype=np.int64),
        pledge_personnel=np.array([p.personnel_per_unit for p in pledges], dtype=np.float64),
        pledge_tonnage=np.array([tonnage(p) for p in pledges], dtype=np.float64),
        pledge_ready_day=pledge_ready,
        pledge_avail_to=np.array(
            [big if p.available_to_day is None else p.available_to_day for p in pledges],
            dtype=np.int64,
        ),
        pledge_tour=tour,
        pledge_recovery=recovery,
        pledge_tour_days=np.array([p.tour_days for p in pledges], dtype=np.int64),
        pledge_recovery_days=np.array([p.recovery_days for p in pledges], dtype=np.int64),
        pledge_rotations=rotations,
        pledge_rear=[p.rear_node for p in pledges],
        line_id=[r.id for r in reqs],
        line_capability=[r.capability for r in reqs],
        line_qty=np.array([r.quantity for r in reqs], dtype=np.int64),
        line_priority=[str(r.priority) for r in reqs],
        line_prio_w=np.array([priority_weight(r.priority, options) for r in reqs]),
        line_start_day=np.array([r.start_day for r in reqs], dtype=np.int64),
        line_end_day=np.array([r.end_day for r in reqs], dtype=np.int64),
        line_first=line_first,
        line_last=line_last,
        line_place=[r.hub if r.hub is not None else f"region:{r.region}" for r in reqs],
        hub_id=[h.id for h in hubs],
        hub_capacity=np.array([h.personnel_capacity for h in hubs], dtype=np.float64),
        hub_lead=[h.lead_nation for h in hubs],
        hub_region=[h.region for h in hubs],
        **_precedence_fields(scenario, options),
        corridor_id=[c.id for c in corridors],
        corridor_hub=np.array([hub_ix[c.hub] for c in corridors], dtype=np.int64),
        corridor_rear=[c.rear_node for c in corridors],
        corridor_personnel=np.array([c.personnel_per_day for c in corridors], dtype=np.float64),
        corridor_tonnage=np.array([c.tonnage_per_day for c in corridors], dtype=np.float64),
        corridor_transit=np.array([c.transit_days for c in corridors], dtype=np.int64),
        corridor_distance=np.array([c.distance_km for c in corridors], dtype=np.float64),
        arc_pledge=np.array(a_p, dtype=np.int64),
        arc_line=np.array(a_l, dtype=np.int64),
        arc_hub=np.array(a_h, dtype=np.int64),
        arc_corridor=np.array(a_c, dtype=np.int64),
        nations=nations,
        exclusions=exclusions,
        win_pledge=win_pledge,
        win_start=np.array(w_s, dtype=np.int64),
        win_end=np.array(w_e, dtype=np.int64),
        win_ready=np.array(w_r, dtype=np.int64),
        pledge_win_first=win_first,
        pledge_win_count=win_count,
        pledge_spell_text=[(spell_texts or {}).get(p.id, "") for p in pledges],
    )


def trim_tables(tb: PlanningTables, per_line: int) -> PlanningTables:
    """The same tables with, per line, only the ``per_line`` eligible pledges that can arrive
    earliest (ties: more units, shorter move, id order) - the rule of
    ``PlanOptions.candidates_per_line`` applied to built tables. The others are recorded as
    ``candidate-limit`` exclusions. A model built on trimmed tables is NOT the full model: its
    bound is no bound of the full model (the solver then reports none)."""
    from dataclasses import replace

    if tb.n_arcs == 0:
        return tb
    key_line, key_pledge = tb.arc_line, tb.arc_pledge
    arrive = tb.pledge_ready_day[key_pledge] + tb.corridor_transit[tb.arc_corridor]
    km = tb.corridor_distance[tb.arc_corridor]
    # best (arrival, km) of each (line, pledge) pair
    pair = key_line * (tb.n_pledges + 1) + key_pledge
    order = np.lexsort((km, arrive, pair))
    first = np.ones(order.size, dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    best = order[first]  # one arc per (line, pledge): its earliest arrival
    rank = np.lexsort((key_pledge[best], km[best], -tb.pledge_units[key_pledge[best]],
                       arrive[best], key_line[best]))
    ranked = best[rank]
    line_of = key_line[ranked]
    start = np.ones(ranked.size, dtype=bool)
    start[1:] = line_of[1:] != line_of[:-1]
    pos = np.arange(ranked.size) - np.maximum.accumulate(np.where(start, np.arange(ranked.size), 0))
    keep_pair = set(pair[ranked[pos < per_line]].tolist())
    keep = np.fromiter((int(x) in keep_pair for x in pair), dtype=bool, count=pair.size)
    dropped = sorted({(int(li), int(p)) for li, p in zip(key_line[~keep], key_pledge[~keep])})
    extra = [
        Exclusion(li, tb.pledge_id[p], tb.pledge_nation[p], "candidate-limit",
                  f"eligible, but not among the {per_line} earliest-arriving candidates kept for "
                  "this line to fit the model in memory and time (PlanOptions.max_columns)")
        for li, p in dropped
    ]
    return replace(
        tb, arc_pledge=tb.arc_pledge[keep], arc_line=tb.arc_line[keep], arc_hub=tb.arc_hub[keep],
        arc_corridor=tb.arc_corridor[keep], exclusions=list(tb.exclusions) + extra,
    )


def _precedence_fields(scenario: Scenario, options: PlanOptions) -> dict[str, list]:  # type: ignore[type-arg]
    """The enablers-first rules as flat lists (none when ``options.precedence`` is off)."""
    if not options.precedence:
        return {}
    from coalition.sustain.precedence import rule_groups

    groups = [g for g in rule_groups(scenario) if g.before or g.require_present]
    return {
        "prec_rule": [g.rule for g in groups],
        "prec_scope": [str(g.scope.value) for g in groups],
        "prec_before": [g.before for g in groups],
        "prec_after": [g.after for g in groups],
        "prec_require": [g.require_present for g in groups],
    }
