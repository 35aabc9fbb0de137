"""Planner input tables: the scenario turned into flat numpy arrays (one row per asset).

The model (``planner.model``) is built only from a :class:`PlanningTables`; nothing below this
module looks at pydantic records. Hard caveats and conditions are applied here: only *active*
pledges appear, and only *eligible* pledge x line x hub x corridor combinations ("arcs") are
generated. Everything excluded is recorded with its reason so the explanations can name it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
from numpy.typing import NDArray

from coalition.forcegen.eligibility import Reason, eligibility, eligibility_matrix
from coalition.planner.schemas import PlanOptions
from coalition.scenario.schemas import Capability, Corridor, Hub, Pledge, Priority, Requirement, Scenario

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
    # True when building stopped at its deadline before every arc was made: the tables then
    # have NO arcs (a plan that assigns nothing; see build_tables' ``deadline``)
    out_of_time: bool = False
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
    deadline: float | None = None,
) -> PlanningTables:
    """Turn a scenario, a force option and the activation picture into planner tables.

    ``active_from`` maps each *active* pledge id to the day (relative to C-day, >= 0) from which
    it is active; pledges not in it are inactive (``inactive_reasons`` says why, for the
    explanations). ``spells`` gives each active pledge's active spells ``(start, end)`` (end
    None = open; default: one open spell from ``active_from``): a tour must lie inside one spell
    and inside the pledge's availability window. Caveats are judged by
    :mod:`coalition.forcegen.eligibility`, the same check the gap picture uses.

    ``deadline`` (a ``time.perf_counter()`` value): checked before each line's arcs; past it,
    the tables come back with no arcs at all and ``out_of_time`` set (never a partial set of
    arcs that would look like the full eligible set).
    """
    import time

    def late() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    D = options.period_days
    horizon = options.horizon_days or scenario.horizon_days

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

    win = _active_windows(pledges, active_from, spells)
    line_first, line_last = _line_periods(reqs, horizon, D)
    exclusions = _inactive_exclusions(inactive, reqs, inactive_reasons)

    # Eligibility (caveats, place) from the shared checker, vectorised over (line, hub).
    # Timing is the model's business (Arrival-readiness, Pledge-availability), so the checker's
    # timing codes are dropped here, except the line's maximum notice-to-move which is hard.
    emat = eligibility_matrix(pledges, reqs, scenario)
    col_ix: dict[str, list[tuple[int, str]]] = {}
    for j, (lid, hid) in enumerate(emat.columns):
        col_ix.setdefault(lid, []).append((j, hid))
    hard = np.uint16(~int(Reason.READINESS | Reason.WINDOW | Reason.CAPABILITY) & 0xFFFF)

    arcs = _ArcBuilder(
        scenario=scenario,
        caps=caps,
        pledges=pledges,
        corridors=corridors,
        corr_into=corr_into,
        hub_ix=hub_ix,
        pledge_ready=win.pledge_ready,
        masks=emat.reasons & hard,
        exclusions=exclusions,
    )
    out_of_time = arcs.add_all(reqs, col_ix, line_first, options.candidates_per_line, late)
    nations = sorted({p.nation for p in pledges} | {p.nation for p in scenario.pledges})
    return PlanningTables(
        out_of_time=out_of_time,
        period_days=D,
        n_periods=max(1, math.ceil(horizon / D)),
        horizon_days=horizon,
        rip_days=options.relief_in_place_days,
        **_pledge_fields(pledges, win, D, caps),
        **_line_fields(reqs, options),
        line_first=line_first,
        line_last=line_last,
        **_hub_fields(hubs),
        **_precedence_fields(scenario, options),
        **_corridor_fields(corridors, hub_ix),
        arc_pledge=np.array(arcs.a_p, dtype=np.int64),
        arc_line=np.array(arcs.a_l, dtype=np.int64),
        arc_hub=np.array(arcs.a_h, dtype=np.int64),
        arc_corridor=np.array(arcs.a_c, dtype=np.int64),
        nations=nations,
        exclusions=exclusions,
        win_pledge=win.pledge,
        win_start=np.array(win.start, dtype=np.int64),
        win_end=np.array(win.end, dtype=np.int64),
        win_ready=np.array(win.ready, dtype=np.int64),
        pledge_win_first=win.first,
        pledge_win_count=win.count,
        pledge_spell_text=[(spell_texts or {}).get(p.id, "") for p in pledges],
    )


_BIG = 10**6  # "open": a day, a count of rotations that never binds


def _unit_tonnage(p: Pledge, caps: Mapping[str, Capability]) -> float:
    cap = caps.get(p.capability)
    if cap is None:
        return 0.0
    # scale the catalogue's typical lift by this pledge's unit size
    return float(cap.tonnage) * p.personnel_per_unit / max(cap.personnel, 1)


@dataclass(frozen=True, slots=True)
class _Windows:
    """The active windows of the active pledges (one entry per window) and, per pledge, its
    first window, its count of windows and its earliest departure."""

    pledge: NDArray[np.int64]
    start: list[int]
    end: list[int]
    ready: list[int]
    first: NDArray[np.int64]
    count: NDArray[np.int64]
    pledge_ready: NDArray[np.int64]


def _active_windows(
    pledges: list[Pledge],
    active_from: Mapping[str, int],
    spells: Mapping[str, tuple[tuple[int, int | None], ...]] | None,
) -> _Windows:
    """Each spell cut to the availability window [available_from, available_to]."""
    w_p: list[int] = []
    w_s: list[int] = []
    w_e: list[int] = []
    w_r: list[int] = []
    for pi, p in enumerate(pledges):
        own = (spells or {}).get(p.id) or ((int(active_from[p.id]), None),)
        for a, b in own:
            end = _BIG if b is None else int(b)
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
    first_ready = {pi: r for pi, r in reversed(list(zip(w_p, w_r, strict=True)))}
    pledge_ready = np.array(
        [
            first_ready.get(pi, max(p.available_from_day, int(active_from[p.id]) + p.notice_days, 0))
            for pi, p in enumerate(pledges)
        ],
        dtype=np.int64,
    )
    return _Windows(
        pledge=win_pledge, start=w_s, end=w_e, ready=w_r, first=win_first, count=win_count, pledge_ready=pledge_ready
    )


class _LineFields(TypedDict):
    """PlanningTables' per-requirement-line columns (but the periods)."""

    line_id: list[str]
    line_capability: list[str]
    line_qty: np.ndarray
    line_priority: list[str]
    line_prio_w: np.ndarray
    line_start_day: np.ndarray
    line_end_day: np.ndarray
    line_place: list[str]


def _line_fields(reqs: list[Requirement], options: PlanOptions) -> _LineFields:
    return {
        "line_id": [r.id for r in reqs],
        "line_capability": [r.capability for r in reqs],
        "line_qty": np.array([r.quantity for r in reqs], dtype=np.int64),
        "line_priority": [str(r.priority) for r in reqs],
        "line_prio_w": np.array([priority_weight(r.priority, options) for r in reqs]),
        "line_start_day": np.array([r.start_day for r in reqs], dtype=np.int64),
        "line_end_day": np.array([r.end_day for r in reqs], dtype=np.int64),
        "line_place": [r.hub if r.hub is not None else f"region:{r.region}" for r in reqs],
    }


class _HubFields(TypedDict):
    """PlanningTables' per-hub columns."""

    hub_id: list[str]
    hub_capacity: np.ndarray
    hub_lead: list[str | None]
    hub_region: list[str]


def _hub_fields(hubs: list[Hub]) -> _HubFields:
    return {
        "hub_id": [h.id for h in hubs],
        "hub_capacity": np.array([h.personnel_capacity for h in hubs], dtype=np.float64),
        "hub_lead": [h.lead_nation for h in hubs],
        "hub_region": [h.region for h in hubs],
    }


class _CorridorFields(TypedDict):
    """PlanningTables' per-corridor columns."""

    corridor_id: list[str]
    corridor_hub: np.ndarray
    corridor_rear: list[str]
    corridor_personnel: np.ndarray
    corridor_tonnage: np.ndarray
    corridor_transit: np.ndarray
    corridor_distance: np.ndarray


def _corridor_fields(corridors: list[Corridor], hub_ix: Mapping[str, int]) -> _CorridorFields:
    return {
        "corridor_id": [c.id for c in corridors],
        "corridor_hub": np.array([hub_ix[c.hub] for c in corridors], dtype=np.int64),
        "corridor_rear": [c.rear_node for c in corridors],
        "corridor_personnel": np.array([c.personnel_per_day for c in corridors], dtype=np.float64),
        "corridor_tonnage": np.array([c.tonnage_per_day for c in corridors], dtype=np.float64),
        "corridor_transit": np.array([c.transit_days for c in corridors], dtype=np.int64),
        "corridor_distance": np.array([c.distance_km for c in corridors], dtype=np.float64),
    }


class _PledgeFields(TypedDict):
    """PlanningTables' per-pledge columns."""

    pledge_id: list[str]
    pledge_nation: list[str]
    pledge_capability: list[str]
    pledge_units: NDArray[np.int64]
    pledge_personnel: NDArray[np.float64]
    pledge_tonnage: NDArray[np.float64]
    pledge_ready_day: NDArray[np.int64]
    pledge_avail_to: NDArray[np.int64]
    pledge_tour: NDArray[np.int64]
    pledge_recovery: NDArray[np.int64]
    pledge_tour_days: NDArray[np.int64]
    pledge_recovery_days: NDArray[np.int64]
    pledge_rotations: NDArray[np.int64]
    pledge_rear: list[str | None]


def _pledge_fields(pledges: list[Pledge], win: _Windows, D: int, caps: Mapping[str, Capability]) -> _PledgeFields:
    return {
        "pledge_id": [p.id for p in pledges],
        "pledge_nation": [p.nation for p in pledges],
        "pledge_capability": [p.capability for p in pledges],
        "pledge_units": np.array([p.units for p in pledges], dtype=np.int64),
        "pledge_personnel": np.array([p.personnel_per_unit for p in pledges], dtype=np.float64),
        "pledge_tonnage": np.array([_unit_tonnage(p, caps) for p in pledges], dtype=np.float64),
        "pledge_ready_day": win.pledge_ready,
        "pledge_avail_to": np.array(
            [_BIG if p.available_to_day is None else p.available_to_day for p in pledges],
            dtype=np.int64,
        ),
        "pledge_tour": np.array([max(1, p.tour_days // D) for p in pledges], dtype=np.int64),
        "pledge_recovery": np.array([math.ceil(p.recovery_days / D) for p in pledges], dtype=np.int64),
        "pledge_tour_days": np.array([p.tour_days for p in pledges], dtype=np.int64),
        "pledge_recovery_days": np.array([p.recovery_days for p in pledges], dtype=np.int64),
        "pledge_rotations": np.array(
            [_BIG if p.sustainable_rotations is None else p.sustainable_rotations for p in pledges],
            dtype=np.int64,
        ),
        "pledge_rear": [p.rear_node for p in pledges],
    }


def _line_periods(reqs: list[Requirement], horizon: int, D: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each line's first and last period inside the horizon (-1, -2 when it lies outside)."""
    line_first = np.full(len(reqs), -1, dtype=np.int64)
    line_last = np.full(len(reqs), -2, dtype=np.int64)
    for i, r in enumerate(reqs):
        lo, hi = max(r.start_day, 0), min(r.end_day, horizon - 1)
        if lo <= hi:
            line_first[i], line_last[i] = lo // D, hi // D
    return line_first, line_last


def _inactive_exclusions(
    inactive: list[Pledge], reqs: list[Requirement], inactive_reasons: Mapping[str, str] | None
) -> list[Exclusion]:
    out: list[Exclusion] = []
    for p in inactive:
        for li, r in enumerate(reqs):
            if r.capability == p.capability:
                why = (inactive_reasons or {}).get(p.id, "its condition does not hold")
                out.append(Exclusion(li, p.id, p.nation, "inactive", why))
    return out


_Eligible = list[tuple[int, list[str]]]  # (pledge index, the hubs of the line it may serve)


@dataclass(slots=True)
class _ArcBuilder:
    """The eligible (pledge, line, hub, corridor) arcs of :func:`build_tables`, line by line,
    with the reason of every pledge of the line's capability that gets none."""

    scenario: Scenario
    caps: Mapping[str, Capability]
    pledges: list[Pledge]
    corridors: list[Corridor]
    corr_into: dict[str, list[int]]
    hub_ix: dict[str, int]
    pledge_ready: NDArray[np.int64]
    masks: NDArray[np.uint16]  # pledge x (line, hub) column: the hard ineligibility reasons
    exclusions: list[Exclusion]
    a_p: list[int] = field(default_factory=list)
    a_l: list[int] = field(default_factory=list)
    a_h: list[int] = field(default_factory=list)
    a_c: list[int] = field(default_factory=list)

    def add_all(
        self,
        reqs: list[Requirement],
        col_ix: Mapping[str, list[tuple[int, str]]],
        line_first: np.ndarray,
        candidates: int | None,
        late: Callable[[], bool],
    ) -> bool:
        """The arcs of every line in order (at most ``candidates`` per line); returns whether time
        ran out, and then leaves no arcs at all (never a partial set that would look complete)."""
        out_of_time = late()
        for li, r in enumerate(reqs):
            if out_of_time or late():
                out_of_time = True
                break
            eligible = self.eligible_for(li, r, col_ix.get(r.id, []), in_horizon=bool(line_first[li] >= 0))
            if candidates is not None and len(eligible) > candidates:
                eligible = self.limit(li, eligible, candidates)
            self.add_arcs(li, eligible)
        if out_of_time:
            self.a_p, self.a_l, self.a_h, self.a_c = [], [], [], []
        return out_of_time

    def eligible_for(self, li: int, r: Requirement, cols: list[tuple[int, str]], *, in_horizon: bool) -> _Eligible:
        """The pledges that may fill line ``li`` and the hubs each may serve it at."""
        eligible: _Eligible = []
        for pi, p in enumerate(self.pledges):
            if p.capability != r.capability:
                continue
            if not in_horizon:
                self.exclusions.append(
                    Exclusion(li, p.id, p.nation, "Line-window", "the line lies outside the horizon")
                )
                continue
            if p.notice_days > r.max_notice_days:
                self.exclusions.append(
                    Exclusion(
                        li,
                        p.id,
                        p.nation,
                        "readiness",
                        f"notice-to-move {p.notice_days} d exceeds the line's maximum {r.max_notice_days} d",
                    )
                )
                continue
            ok_hubs = [hid for j, hid in cols if self.masks[pi, j] == 0]
            if not cols:
                self.exclusions.append(Exclusion(li, p.id, p.nation, "no-hub", f"region '{r.region}' has no hub"))
                continue
            if not ok_hubs:
                self._exclude_by_checker(li, p, r, cols)
                continue
            eligible.append((pi, ok_hubs))
        return eligible

    def _exclude_by_checker(self, li: int, p: Pledge, r: Requirement, cols: list[tuple[int, str]]) -> None:
        """The shared checker's reasons (timing aside) why ``p`` fits no hub of line ``li``."""
        seen: set[tuple[str, str]] = set()
        for _, hid in cols:
            for why in eligibility(p, r, self.scenario, hub=hid):
                if why.code in ("readiness", "window", "capability"):
                    continue
                if (why.code, why.message) not in seen:
                    seen.add((why.code, why.message))
                    self.exclusions.append(Exclusion(li, p.id, p.nation, why.code, why.message))

    def limit(self, li: int, eligible: _Eligible, K: int) -> _Eligible:
        """The ``K`` candidates that can arrive earliest (PlanOptions.candidates_per_line)."""

        def rank(item: tuple[int, list[str]]) -> tuple[float, ...]:
            pi, hubs_ok = item
            into = [ci for hid in hubs_ok for ci in self.corr_into.get(hid, [])]
            transit = min((self.corridors[ci].transit_days for ci in into), default=10**6)
            km = min((self.corridors[ci].distance_km for ci in into), default=1e9)
            return (float(self.pledge_ready[pi] + transit), -float(self.pledges[pi].units), km, pi)

        eligible.sort(key=rank)
        for pi, _ in eligible[K:]:
            p = self.pledges[pi]
            self.exclusions.append(
                Exclusion(
                    li,
                    p.id,
                    p.nation,
                    "candidate-limit",
                    f"eligible, but not among the {K} earliest-arriving candidates "
                    "considered for this line (PlanOptions.candidates_per_line)",
                )
            )
        return sorted(eligible[:K])

    def add_arcs(self, li: int, eligible: _Eligible) -> None:
        """The arcs of line ``li``: each eligible pledge into each of its hubs, by each corridor
        from its rear node (any corridor when none is from there) that can carry one unit."""
        for pi, ok_hubs in eligible:
            p = self.pledges[pi]
            arcs_here = 0
            too_big: list[str] = []
            for hid in ok_hubs:
                arcs_here += self._arcs_into(li, pi, hid, too_big)
            if arcs_here == 0 and too_big:
                self.exclusions.append(
                    Exclusion(
                        li,
                        p.id,
                        p.nation,
                        "Corridor-personnel-capacity",
                        "one unit exceeds the daily capacity of every corridor it could use: " + "; ".join(too_big),
                    )
                )
            elif arcs_here == 0:
                self.exclusions.append(
                    Exclusion(
                        li,
                        p.id,
                        p.nation,
                        "Corridor-personnel-capacity",
                        "no corridor reaches " + ", ".join(ok_hubs) + " (corridor capacity zero)",
                    )
                )

    def _arcs_into(self, li: int, pi: int, hid: str, too_big: list[str]) -> int:
        """Add pledge ``pi``'s arcs of line ``li`` into hub ``hid``; how many."""
        p = self.pledges[pi]
        into = self.corr_into.get(hid, [])
        own = [ci for ci in into if self.corridors[ci].rear_node == p.rear_node]
        added = 0
        for ci in own or into:
            k = self.corridors[ci]
            tonnage = _unit_tonnage(p, self.caps)
            if p.personnel_per_unit > k.personnel_per_day or tonnage > k.tonnage_per_day:
                # all of a unit leaves on one day: a unit larger than the daily
                # capacity can never use this corridor
                too_big.append(
                    f"{k.id} carries {k.personnel_per_day} personnel and "
                    f"{k.tonnage_per_day:g} t a day; one unit is {p.personnel_per_unit} "
                    f"personnel and {tonnage:.1f} t"
                )
                continue
            self.a_p.append(pi)
            self.a_l.append(li)
            self.a_h.append(self.hub_ix[hid])
            self.a_c.append(ci)
            added += 1
        return added


def trim_arc_mask(tb: PlanningTables, per_line: int) -> np.ndarray:
    """Arcs of each line's ``per_line`` eligible pledges that can arrive earliest (ties: more
    units, shorter move, id order): the rule of ``PlanOptions.candidates_per_line``."""
    if tb.n_arcs == 0:
        return np.zeros(0, dtype=bool)
    key_line, key_pledge = tb.arc_line, tb.arc_pledge
    arrive = tb.pledge_ready_day[key_pledge] + tb.corridor_transit[tb.arc_corridor]
    km = tb.corridor_distance[tb.arc_corridor]
    pair = key_line * (tb.n_pledges + 1) + key_pledge
    order = np.lexsort((km, arrive, pair))
    first = np.ones(order.size, dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    best = order[first]  # one arc per (line, pledge): its earliest arrival
    rank = np.lexsort((key_pledge[best], km[best], -tb.pledge_units[key_pledge[best]], arrive[best], key_line[best]))
    ranked = best[rank]
    line_of = key_line[ranked]
    start = np.ones(ranked.size, dtype=bool)
    start[1:] = line_of[1:] != line_of[:-1]
    pos = np.arange(ranked.size) - np.maximum.accumulate(np.where(start, np.arange(ranked.size), 0))
    return np.isin(pair, pair[ranked[pos < per_line]])


def trim_tables(tb: PlanningTables, per_line: int) -> PlanningTables:
    """The same tables with, per line, only the ``per_line`` eligible pledges that can arrive
    earliest (ties: more units, shorter move, id order) - the rule of
    ``PlanOptions.candidates_per_line`` applied to built tables. The others are recorded as
    ``candidate-limit`` exclusions. A model built on trimmed tables is NOT the full model: its
    bound is no bound of the full model (the solver then reports none)."""
    from dataclasses import replace

    if tb.n_arcs == 0:
        return tb
    keep = trim_arc_mask(tb, per_line)
    key_line, key_pledge = tb.arc_line, tb.arc_pledge
    dropped = sorted({(int(li), int(p)) for li, p in zip(key_line[~keep], key_pledge[~keep], strict=True)})
    extra = [
        Exclusion(
            li,
            tb.pledge_id[p],
            tb.pledge_nation[p],
            "candidate-limit",
            f"eligible, but not among the {per_line} earliest-arriving candidates kept for "
            "this line to fit the model in memory and time (PlanOptions.max_columns)",
        )
        for li, p in dropped
    ]
    return replace(
        tb,
        arc_pledge=tb.arc_pledge[keep],
        arc_line=tb.arc_line[keep],
        arc_hub=tb.arc_hub[keep],
        arc_corridor=tb.arc_corridor[keep],
        exclusions=list(tb.exclusions) + extra,
    )


class _PrecedenceFields(TypedDict, total=False):
    """PlanningTables' enablers-first columns (absent: the dataclass defaults, no rules)."""

    prec_rule: list[str]
    prec_scope: list[str]
    prec_before: list[frozenset[str]]
    prec_after: list[frozenset[str]]
    prec_require: list[bool]


def _precedence_fields(scenario: Scenario, options: PlanOptions) -> _PrecedenceFields:
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
