"""Explanations: why a line is short or late, and why each unit was chosen.

Method (documented in ``docs/planner/explanations.md``):

* **No candidate at all.** A line with no admissible ``Assign-count`` column is explained by the
  exclusion records of :mod:`coalition.planner.tables`: no pledge of the capability, pledges
  inactive because of their condition, a caveat, or no corridor to the hub.
* **Candidates exist but none may start in time.** The period is before every candidate's
  earliest arrival (activation + notice-to-move + transit): ``readiness``; or after the pledge's
  availability window: ``Pledge-availability``.
* **Candidates exist and could start.** *Tight-constraint test* in the final plan: for each
  candidate column covering a short period, add one unit (with its ``Pledge-start`` and, if
  needed, its ``Hub-nation-present``) and list every ``<=`` row it would break. Each such row's
  family (``Hub-personnel-capacity``, ``Corridor-personnel-capacity``, ...) binds that
  candidate. A candidate no row blocks means the solver stopped before proving optimality
  (``solver-gap``): shortfall costs more than anything a unit can add.
* **Confirmation by relaxation** (small models): the LP relaxation is re-solved with one family
  removed at a time; a family is *confirmed* binding for a line when removing it lowers that
  line's shortfall.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from coalition.planner import sustainment
from coalition.planner.medical import explain_medical
from coalition.planner.model import FAMILY_WORDS, Model
from coalition.planner.schemas import (
    Alternative,
    AssignmentExplanation,
    BindingReason,
    GapExplanation,
    PlanOptions,
)
from coalition.planner.tables import Exclusion

EPS = 1e-6
BLOCKING_FAMILIES = (
    "Hub-personnel-capacity",
    "Corridor-personnel-capacity",
    "Corridor-tonnage-capacity",
    "Pledge-unit-cycle",
    "Pledge-rotation-budget",
    *sustainment.BLOCKING_FAMILIES,
)
TIGHT_METHOD = "tight-constraint test: one more unit of each eligible candidate would break it"
EXCLUSION_METHOD = "eligibility: caveats, conditions and corridors checked before the model"


class _Probe:
    """Answers 'what stops one more unit of column j?' on a fixed plan."""

    def __init__(self, model: Model, values: np.ndarray) -> None:
        assert model.A is not None and model.hi is not None
        self.m = model
        self.v = values
        self.act = model.A @ values
        self.A = model.A
        tb = model.tables
        self.T = tb.n_periods
        self.nat_ix = {n: i for i, n in enumerate(tb.nations)}
        self.b_index = {(int(h), int(n)): i for i, (h, n) in enumerate(zip(model.b_hub, model.b_nation, strict=True))}
        self._memo: dict[int, list[str]] = {}
        self.row_family = np.empty(model.n_rows, dtype=object)
        for name, b in model.con_blocks.items():
            self.row_family[b.start : b.stop] = name

    def blockers(self, j: int) -> list[str]:
        """Families of the rows that one more unit of column ``j`` would break (memoised: a
        column is a candidate in every period it covers)."""
        hit = self._memo.get(j)
        if hit is None:
            hit = self._memo[j] = self._blockers(j)
        return hit

    def _blockers(self, j: int) -> list[str]:
        m, tb = self.m, self.m.tables
        assert m.chi is not None and m.hi is not None
        xb, yb, bb = m.var("Assign-count"), m.var("Pledge-start"), m.var("Hub-nation-present")
        col = xb.start + j
        out: list[str] = []
        if self.v[col] >= m.chi[col] - EPS:
            out.append("Pledge-unit-cycle")  # every unit of the pledge already starts here
        p = int(tb.arc_pledge[m.x_arc[j]])
        h = int(tb.arc_hub[m.x_arc[j]])
        cols = [col]
        if yb.size:
            cols.append(yb.start + p * self.T + int(m.x_start[j]))
        if bb.size:
            bc = bb.start + self.b_index[(h, self.nat_ix[tb.pledge_nation[p]])]
            if self.v[bc] < 0.5:
                cols.append(bc)
        rows: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for c in cols:
            sl = slice(self.A.indptr[c], self.A.indptr[c + 1])
            rows.append(self.A.indices[sl])
            vals.append(self.A.data[sl])
        r = np.concatenate(rows)
        d = np.concatenate(vals)
        touched, inv = np.unique(r, return_inverse=True)
        dsum = np.bincount(inv.ravel(), weights=d)
        bad = touched[self.act[touched] + dsum > m.hi[touched] + 1e-7]
        for row in bad:
            fam = str(self.row_family[row])
            if fam in BLOCKING_FAMILIES and fam not in out:
                out.append(fam)
        return out


def _exclusion_reasons(model: Model, line: int) -> list[BindingReason]:
    tb = model.tables
    ex = [e for e in tb.exclusions if e.line == line]
    if not ex:
        return [
            BindingReason(
                code="no-eligible-pledge",
                message=f"no pledge of any nation offers capability '{tb.line_capability[line]}'",
                count=0,
                method=EXCLUSION_METHOD,
            )
        ]
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for e in ex:
        grouped[(e.code, e.message)].append(e.pledge_id)
    out = []
    for (code, msg), pids in sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        names = ", ".join(sorted(set(pids))[:4]) + (" ..." if len(set(pids)) > 4 else "")
        constraint = code if code.startswith(("Corridor-", "Hub-", "Pledge-")) else None
        out.append(
            BindingReason(
                code=code,
                constraint=constraint,
                message=f"{msg} [{names}]",
                count=len(set(pids)),
                method=EXCLUSION_METHOD,
            )
        )
    return out


@dataclass(slots=True)
class _Shortfalls:
    """Per line: its short periods, shortfall in unit-periods and unit-days, and days late."""

    periods: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    amount: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    days: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    late_days: dict[int, float] = field(default_factory=lambda: defaultdict(float))

    @classmethod
    def of(cls, model: Model, values: np.ndarray, x_line: np.ndarray) -> _Shortfalls:
        tb = model.tables
        ub, xb = model.var("Line-shortfall"), model.var("Assign-count")
        u = values[ub.start : ub.stop] if ub.size else np.zeros(0)
        x = values[xb.start : xb.stop] if xb.size else np.zeros(0)
        sh = cls()
        for k in np.flatnonzero(u > EPS):
            li, t = int(model.u_line[k]), int(model.u_period[k])
            sh.periods[li].append(t)
            sh.amount[li] += float(u[k])
            sh.days[li] += float(u[k]) * int(model.u_days[k])
        for j in np.flatnonzero((x > 0.5) & (model.x_late > 0)) if xb.size else []:
            sh.late_days[int(x_line[j])] += float(x[j]) * int(model.x_late[j])
        # outside-horizon lines are gaps too
        for li in range(tb.n_lines):
            if tb.line_first[li] < 0:
                sh.periods.setdefault(li, [])
        return sh


def explain_gaps(
    model: Model, values: np.ndarray, options: PlanOptions, *, deadline: float | None = None
) -> list[GapExplanation]:
    """One explanation per line that is short in some period or has late units. After
    ``deadline`` (a ``time.perf_counter()`` value) the tight-constraint test is skipped and the
    reason says so (code ``not-determined``): the plan's time limit comes first."""
    tb = model.tables
    xb = model.var("Assign-count")
    probe = _Probe(model, values)
    x_line = tb.arc_line[model.x_arc] if xb.size else np.zeros(0, np.int64)
    cols_of_line: dict[int, np.ndarray] = {}
    order = np.argsort(x_line, kind="stable")
    bounds = np.searchsorted(x_line[order], np.arange(tb.n_lines + 1))
    for li in range(tb.n_lines):
        cols_of_line[li] = order[bounds[li] : bounds[li + 1]]
    arcs_of_line = Counter(int(li) for li in tb.arc_line)
    sh = _Shortfalls.of(model, values, x_line)

    out: list[GapExplanation] = []
    for li in sorted(set(sh.periods) | set(sh.late_days), key=lambda i: tb.line_id[i]):
        periods = sorted(sh.periods.get(li, []))
        reasons = _short_reasons(
            model, li, periods, cols_of_line[li], probe, has_arcs=arcs_of_line.get(li, 0) > 0, deadline=deadline
        )
        if sh.late_days.get(li):
            reasons.append(
                BindingReason(
                    code="readiness",
                    message=f"{sh.late_days[li]:.0f} unit-day(s) late: units arrive after the required "
                    "day because of notice-to-move, activation and transit",
                    count=1,
                    method="Assign-count days late (arrival - required arrival)",
                )
            )
        first_short = max(int(tb.line_start_day[li]), periods[0] * tb.period_days, 0) if periods else None
        out.append(
            GapExplanation(
                requirement=tb.line_id[li],
                capability=tb.line_capability[li],
                place=tb.line_place[li],
                priority=tb.line_priority[li],
                shortfall_unit_periods=round(sh.amount.get(li, 0.0), 4),
                shortfall_unit_days=round(sh.days.get(li, 0.0), 2),
                late_unit_days=round(sh.late_days.get(li, 0.0), 2),
                first_short_day=first_short,
                periods_short=periods,
                reasons=reasons,
            )
        )
    return out


def _short_reasons(
    model: Model,
    li: int,
    periods: list[int],
    cols: np.ndarray,
    probe: _Probe,
    *,
    has_arcs: bool,
    deadline: float | None,
) -> list[BindingReason]:
    """Why line ``li`` is short in ``periods`` (none: the line is only late)."""
    import time

    tb = model.tables
    if tb.line_first[li] < 0:
        return [
            BindingReason(
                code="Line-window",
                message=f"the line's window (days {tb.line_start_day[li]}..{tb.line_end_day[li]}) "
                f"lies outside the planning horizon (0..{tb.horizon_days - 1})",
            )
        ]
    if not periods:
        return []
    if not model.built:
        return [
            BindingReason(
                code="not-determined",
                message="the time limit ran out while the model was being "
                "built, so no unit was assigned to this line (give a longer --time-limit)",
                count=len(periods),
                method="skipped: model not built",
            )
        ]
    if not has_arcs:
        return _exclusion_reasons(model, li)
    if deadline is not None and time.perf_counter() > deadline:
        return [
            BindingReason(
                code="not-determined",
                message="the plan's time limit left no time to test which "
                "constraint binds this line (give a longer --time-limit)",
                count=len(periods),
                method="skipped: time limit",
            )
        ]
    reasons = _tally_reasons(model, li, _Tally.of(model, li, periods, cols, probe))
    # ineligible pledges are part of the picture (secondary reasons)
    reasons.extend(r for r in _exclusion_reasons(model, li) if r.count > 0)
    return reasons


@dataclass(slots=True)
class _Tally:
    """Over a line's short periods: the blocking families of its candidate starts, and the
    periods no candidate covers because none can have arrived, none is available or every
    tour is too short."""

    fam_count: Counter[str] = field(default_factory=Counter)
    not_yet: int = 0
    unblocked: int = 0
    unavailable: int = 0
    too_short: int = 0

    @classmethod
    def of(cls, model: Model, li: int, periods: list[int], cols: np.ndarray, probe: _Probe) -> _Tally:
        tb = model.tables
        tally = cls()
        for t in periods:
            cover = cols[(model.x_start[cols] <= t) & (model.x_last[cols] >= t)]
            if cover.size == 0:
                # why no column: readiness or availability of every arc of the line
                arcs = np.flatnonzero(tb.arc_line == li)
                earliest = tb.pledge_ready_day[tb.arc_pledge[arcs]] + tb.corridor_transit[tb.arc_corridor[arcs]]
                need = tb.days_in_period(li, t)
                if np.all(earliest > (t + 1) * tb.period_days - 1):
                    tally.not_yet += 1
                elif np.all(tb.pledge_tour_days[tb.arc_pledge[arcs]] < need):
                    tally.too_short += 1
                else:
                    tally.unavailable += 1
                continue
            for j in cover:
                bl = probe.blockers(int(j))
                if bl:
                    tally.fam_count.update(bl)
                else:
                    tally.unblocked += 1
        return tally


def _tally_reasons(model: Model, li: int, tally: _Tally) -> list[BindingReason]:
    tb = model.tables
    reasons: list[BindingReason] = []
    if tally.too_short:
        arcs = np.flatnonzero(tb.arc_line == li)
        longest = int(np.max(tb.pledge_tour_days[tb.arc_pledge[arcs]]))
        reasons.append(
            BindingReason(
                code="tour-length",
                message=f"in {tally.too_short} short period(s) every eligible tour (at most "
                f"{longest} d) is shorter than the line's days in the period: a unit "
                "covers a period only when it stays at the hub to its end, and it may "
                "not stay longer than its tour (use a shorter --period-days)",
                count=tally.too_short,
                method="column filter Tour-covers-period",
            )
        )
    if tally.not_yet:
        arcs = np.flatnonzero(tb.arc_line == li)
        earliest = int(np.min(tb.pledge_ready_day[tb.arc_pledge[arcs]] + tb.corridor_transit[tb.arc_corridor[arcs]]))
        reasons.append(
            BindingReason(
                code="readiness",
                message=f"in {tally.not_yet} short period(s) no eligible unit can have arrived: the "
                f"earliest arrival (activation + notice-to-move + transit) is day {earliest}",
                count=tally.not_yet,
                method="column filter Arrival-readiness",
            )
        )
    if tally.unavailable:
        reasons.append(
            BindingReason(
                code="Pledge-availability",
                message=f"in {tally.unavailable} short period(s) the eligible pledges are outside "
                "their availability window",
                count=tally.unavailable,
                method="column filter Pledge-availability",
            )
        )
    for fam, n in sorted(tally.fam_count.items(), key=lambda kv: (-kv[1], kv[0])):
        where = explain_medical(model, li, 1 if "role1" in fam else 2) if fam.startswith("Medical-") else ""
        reasons.append(
            BindingReason(
                code=fam,
                constraint=fam,
                message=f"{FAMILY_WORDS[fam]} blocks {n} candidate start(s)" + (f" ({where})" if where else ""),
                count=n,
                method=TIGHT_METHOD,
            )
        )
    if tally.unblocked:
        reasons.append(
            BindingReason(
                code="solver-gap",
                message=f"{tally.unblocked} candidate start(s) break no constraint: the solver "
                "stopped before proving optimality (best plan so far)",
                count=tally.unblocked,
                method=TIGHT_METHOD,
            )
        )
    return reasons


def confirm_by_relaxation(
    model: Model,
    values: np.ndarray,
    gaps: list[GapExplanation],
    options: PlanOptions,
    deadline: float | None = None,
) -> list[GapExplanation]:
    """Re-solve the LP relaxation with one blocking family removed at a time; mark a family
    'confirmed' for a line when removing it lowers the line's LP shortfall.

    ``deadline`` (a ``time.perf_counter()`` value): the LPs share the time left until then; a
    probe that does not finish in its share confirms nothing (the reason stays unconfirmed)."""
    import time

    from coalition.planner.solver import solve_highs

    families = sorted({r.constraint for g in gaps for r in g.reasons if r.constraint in BLOCKING_FAMILIES})
    if not families:
        return gaps
    per_lp = min(options.time_limit, 10.0)
    if deadline is not None:
        per_lp = min(per_lp, (deadline - time.perf_counter()) / (len(families) + 1))
        if per_lp < 0.01:
            return gaps
    lp_opts = options.model_copy(update={"time_limit": per_lp})
    assert model.hi is not None
    # The cohesion link's big-M is derived from the unit cycle and the rotation budget; it is not
    # a limit of its own, so it is relaxed in the base and in every probe alike.
    link = model.con("Hub-nation-link")
    saved_link = model.hi[link.start : link.stop].copy()
    model.hi[link.start : link.stop] = np.inf
    try:
        base = solve_highs(model, lp_opts, relax=True)
        if base.values is None:
            return gaps
        lowered = _relaxed_shortfalls(model, families, lp_opts)
    finally:
        model.hi[link.start : link.stop] = saved_link
    ub = model.var("Line-shortfall")
    tb = model.tables

    def per_line(vals: np.ndarray) -> np.ndarray:
        out = np.zeros(tb.n_lines)
        np.add.at(out, model.u_line, vals[ub.start : ub.stop] * model.u_days)
        return out

    base_short = per_line(base.values)
    lowered = {fam: per_line(v) for fam, v in lowered.items()}
    index = {lid: i for i, lid in enumerate(tb.line_id)}
    out = []
    for g in gaps:
        li = index[g.requirement]
        reasons = []
        for r in g.reasons:
            if r.constraint in lowered:
                before, after = base_short[li], lowered[r.constraint][li]
                if after < before - 1e-6:
                    r = r.model_copy(
                        update={
                            "method": r.method + f"; confirmed: without {r.constraint} the LP shortfall of this line "
                            f"falls from {before:.1f} to {after:.1f} unit-days"
                        }
                    )
                else:
                    r = r.model_copy(update={"method": r.method + f"; relaxing {r.constraint} alone does not lower it"})
            reasons.append(r)
        out.append(g.model_copy(update={"reasons": reasons}))
    return out


def _relaxed_shortfalls(model: Model, families: list[str], lp_opts: PlanOptions) -> dict[str, np.ndarray]:
    from coalition.planner.solver import solve_highs

    assert model.hi is not None
    out: dict[str, np.ndarray] = {}
    for fam in families:
        blk = model.con(fam)
        saved = model.hi[blk.start : blk.stop].copy()
        model.hi[blk.start : blk.stop] = np.inf
        try:
            sol = solve_highs(model, lp_opts, relax=True)
        finally:
            model.hi[blk.start : blk.stop] = saved
        if sol.values is not None:
            out[fam] = sol.values
    return out


def explain_assignments(
    model: Model,
    values: np.ndarray,
    unit_lines: list[tuple[str, int]],
    options: PlanOptions,
    *,
    deadline: float | None = None,
) -> list[AssignmentExplanation]:
    """For each unit line (uln, column j): why this unit, and the eligible alternatives (not
    searched after ``deadline``, a ``time.perf_counter()`` value)."""
    import time

    tb = model.tables
    xb = model.var("Assign-count")
    assert model.cost is not None
    alts = _Alternatives.of(model, values, options.explain_alternatives)
    x_line = tb.arc_line[model.x_arc]
    x_pledge = tb.arc_pledge[model.x_arc]
    cost = model.cost[xb.start : xb.stop]
    cache: dict[int, list[Alternative]] = {}
    out = []
    for uln, j in unit_lines:
        li, p = int(x_line[j]), int(x_pledge[j])
        why = _why_this_unit(model, j, float(cost[j]))
        if j not in cache and deadline is not None and time.perf_counter() > deadline:
            cache[j] = []
        if j not in cache:
            cache[j] = alts.of_column(j)
        out.append(
            AssignmentExplanation(
                uln=uln, pledge=tb.pledge_id[p], requirement=tb.line_id[li], why=why, alternatives=cache[j]
            )
        )
    return out


def _why_this_unit(model: Model, j: int, cost: float) -> str:
    """Why Assign-count column ``j``'s pledge serves its line: active, within its window, its
    caveats allow the hub; when it arrives and what it costs."""
    tb = model.tables
    p = int(tb.arc_pledge[model.x_arc[j]])
    late = int(model.x_late[j])
    w = int(model.x_win[j])
    spell = tb.pledge_spell_text[p] if tb.pledge_spell_text else ""
    return (
        f"{tb.pledge_id[p]} ({tb.pledge_nation[p]}) is active on the days it relies on, "
        f"day {int(model.x_departure[j])} (departure) to day {int(model.x_tour_end[j])} "
        f"(tour end), inside its usable window to day "
        + ("open" if tb.win_end[w] >= 10**6 else str(int(tb.win_end[w])))
        + (f" ({spell})" if spell else "")
        + f"; its caveats allow {tb.hub_id[tb.arc_hub[model.x_arc[j]]]}; it arrives on day "
        f"{int(model.x_arrival[j])}"
        + (f", {late} day(s) late" if late else ", on time")
        + f"; cost {cost:.2f} (lateness + distance)"
    )


@dataclass(frozen=True, slots=True)
class _Alternatives:
    """The eligible alternatives to a unit (at most ``k``): other pledges' columns of the same
    line and start period (and what stops or disfavours each), then pledges of the line that
    cannot start then, then the line's ineligible pledges."""

    model: Model
    probe: _Probe
    x: np.ndarray  # Assign-count values of the plan
    cost: np.ndarray  # Assign-count costs
    k: int
    by_line_start: dict[tuple[int, int], list[int]]
    arcs_by_line: dict[int, set[int]]  # line -> pledges with an arc to it
    exclusions_by_line: dict[int, list[Exclusion]]

    @classmethod
    def of(cls, model: Model, values: np.ndarray, k: int) -> _Alternatives:
        tb = model.tables
        xb = model.var("Assign-count")
        assert model.cost is not None
        x_line = tb.arc_line[model.x_arc]
        by_line_start: dict[tuple[int, int], list[int]] = defaultdict(list)
        for j in range(xb.size):
            by_line_start[(int(x_line[j]), int(model.x_start[j]))].append(j)
        exclusions_by_line: dict[int, list[Exclusion]] = defaultdict(list)
        for e in tb.exclusions:
            exclusions_by_line[e.line].append(e)
        arcs_by_line: dict[int, set[int]] = defaultdict(set)
        for a in range(tb.n_arcs):
            arcs_by_line[int(tb.arc_line[a])].add(int(tb.arc_pledge[a]))
        return cls(
            model=model,
            probe=_Probe(model, values),
            x=values[xb.start : xb.stop],
            cost=model.cost[xb.start : xb.stop],
            k=k,
            by_line_start=by_line_start,
            arcs_by_line=arcs_by_line,
            exclusions_by_line=exclusions_by_line,
        )

    def of_column(self, j: int) -> list[Alternative]:
        model, tb, K = self.model, self.model.tables, self.k
        li = int(tb.arc_line[model.x_arc[j]])
        p = int(tb.arc_pledge[model.x_arc[j]])
        seen = {p}
        alts = self._same_start(j, seen)
        if len(alts) < K:
            for q in sorted(self.arcs_by_line[li] - seen):
                alts.append(
                    Alternative(
                        pledge=tb.pledge_id[q],
                        nation=tb.pledge_nation[q],
                        why_not="cannot have arrived by this period (readiness) or is outside its availability",
                        code="readiness",
                    )
                )
                seen.add(q)
                if len(alts) >= K:
                    break
        if len(alts) < K:
            for e in self.exclusions_by_line.get(li, [])[: K - len(alts)]:
                alts.append(Alternative(pledge=e.pledge_id, nation=e.nation, why_not=e.message, code=e.code))
        return alts

    def _same_start(self, j: int, seen: set[int]) -> list[Alternative]:
        """Other pledges' columns of ``j``'s line and start period, cheapest first (``seen``
        gets their pledges)."""
        model, tb, cost = self.model, self.model.tables, self.cost
        li, s = int(tb.arc_line[model.x_arc[j]]), int(model.x_start[j])
        alts: list[Alternative] = []
        for jj in sorted(self.by_line_start.get((li, s), []), key=lambda c: (cost[c], c)):
            q = int(tb.arc_pledge[model.x_arc[jj]])
            if q in seen:
                continue
            seen.add(q)
            bl = self.probe.blockers(jj)
            if bl:
                why_not = "; ".join(FAMILY_WORDS[b] + f" ({b})" for b in bl)
                code = bl[0]
            elif self.x[jj] > 0.5:
                why_not = "also used on this line in this period"
                code = "used"
            elif cost[jj] > cost[j] + 1e-9:
                why_not = f"costs more: {cost[jj]:.2f} vs {cost[j]:.2f} (later arrival or longer move)"
                code = "costlier"
            else:
                why_not = "equally good; not needed (tie broken by the solver)"
                code = "not-needed"
            alts.append(Alternative(pledge=tb.pledge_id[q], nation=tb.pledge_nation[q], why_not=why_not, code=code))
            if len(alts) >= self.k:
                break
        return alts
