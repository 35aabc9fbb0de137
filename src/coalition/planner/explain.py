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
        self.b_index = {
            (int(h), int(n)): i for i, (h, n) in enumerate(zip(model.b_hub, model.b_nation))
        }
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


def explain_gaps(
    model: Model, values: np.ndarray, options: PlanOptions, *, deadline: float | None = None
) -> list[GapExplanation]:
    """One explanation per line that is short in some period or has late units. After
    ``deadline`` (a ``time.perf_counter()`` value) the tight-constraint test is skipped and the
    reason says so (code ``not-determined``): the plan's time limit comes first."""
    import time

    tb = model.tables
    ub, xb = model.var("Line-shortfall"), model.var("Assign-count")
    u = values[ub.start : ub.stop] if ub.size else np.zeros(0)
    x = values[xb.start : xb.stop] if xb.size else np.zeros(0)
    probe = _Probe(model, values)
    x_line = tb.arc_line[model.x_arc] if xb.size else np.zeros(0, np.int64)
    cols_of_line: dict[int, np.ndarray] = {}
    order = np.argsort(x_line, kind="stable")
    bounds = np.searchsorted(x_line[order], np.arange(tb.n_lines + 1))
    for li in range(tb.n_lines):
        cols_of_line[li] = order[bounds[li] : bounds[li + 1]]
    arcs_of_line = Counter(int(li) for li in tb.arc_line)

    short_by_line: dict[int, list[int]] = defaultdict(list)
    short_amt: dict[int, float] = defaultdict(float)
    short_days: dict[int, float] = defaultdict(float)
    for k in np.flatnonzero(u > EPS):
        li, t = int(model.u_line[k]), int(model.u_period[k])
        short_by_line[li].append(t)
        short_amt[li] += float(u[k])
        short_days[li] += float(u[k]) * int(model.u_days[k])
    late_days: dict[int, float] = defaultdict(float)
    for j in np.flatnonzero((x > 0.5) & (model.x_late > 0)) if xb.size else []:
        late_days[int(x_line[j])] += float(x[j]) * int(model.x_late[j])
    # outside-horizon lines are gaps too
    for li in range(tb.n_lines):
        if tb.line_first[li] < 0:
            short_by_line.setdefault(li, [])

    out: list[GapExplanation] = []
    for li in sorted(set(short_by_line) | set(late_days), key=lambda i: tb.line_id[i]):
        periods = sorted(short_by_line.get(li, []))
        reasons: list[BindingReason] = []
        if tb.line_first[li] < 0:
            reasons.append(
                BindingReason(
                    code="Line-window",
                    message=f"the line's window (days {tb.line_start_day[li]}..{tb.line_end_day[li]}) "
                    f"lies outside the planning horizon (0..{tb.horizon_days - 1})",
                )
            )
        elif periods and arcs_of_line.get(li, 0) == 0:
            reasons.extend(_exclusion_reasons(model, li))
        elif periods and deadline is not None and time.perf_counter() > deadline:
            reasons.append(BindingReason(
                code="not-determined", message="the plan's time limit left no time to test which "
                "constraint binds this line (give a longer --time-limit)", count=len(periods),
                method="skipped: time limit"))
        elif periods:
            cols = cols_of_line[li]
            fam_count: Counter[str] = Counter()
            not_yet = 0
            unblocked = 0
            unavailable = 0
            too_short = 0
            for t in periods:
                cover = cols[(model.x_start[cols] <= t) & (model.x_last[cols] >= t)]
                if cover.size == 0:
                    # why no column: readiness or availability of every arc of the line
                    arcs = np.flatnonzero(tb.arc_line == li)
                    earliest = (
                        tb.pledge_ready_day[tb.arc_pledge[arcs]]
                        + tb.corridor_transit[tb.arc_corridor[arcs]]
                    )
                    need = tb.days_in_period(li, t)
                    if np.all(earliest > (t + 1) * tb.period_days - 1):
                        not_yet += 1
                    elif np.all(tb.pledge_tour_days[tb.arc_pledge[arcs]] < need):
                        too_short += 1
                    else:
                        unavailable += 1
                    continue
                for j in cover:
                    bl = probe.blockers(int(j))
                    if bl:
                        fam_count.update(bl)
                    else:
                        unblocked += 1
            if too_short:
                arcs = np.flatnonzero(tb.arc_line == li)
                longest = int(np.max(tb.pledge_tour_days[tb.arc_pledge[arcs]]))
                reasons.append(
                    BindingReason(
                        code="tour-length",
                        message=f"in {too_short} short period(s) every eligible tour (at most "
                        f"{longest} d) is shorter than the line's days in the period: a unit "
                        "covers a period only when it stays at the hub to its end, and it may "
                        "not stay longer than its tour (use a shorter --period-days)",
                        count=too_short,
                        method="column filter Tour-covers-period",
                    )
                )
            if not_yet:
                arcs = np.flatnonzero(tb.arc_line == li)
                earliest = int(
                    np.min(tb.pledge_ready_day[tb.arc_pledge[arcs]] + tb.corridor_transit[tb.arc_corridor[arcs]])
                )
                reasons.append(
                    BindingReason(
                        code="readiness",
                        message=f"in {not_yet} short period(s) no eligible unit can have arrived: the "
                        f"earliest arrival (activation + notice-to-move + transit) is day {earliest}",
                        count=not_yet,
                        method="column filter Arrival-readiness",
                    )
                )
            if unavailable:
                reasons.append(
                    BindingReason(
                        code="Pledge-availability",
                        message=f"in {unavailable} short period(s) the eligible pledges are outside "
                        "their availability window",
                        count=unavailable,
                        method="column filter Pledge-availability",
                    )
                )
            for fam, n in sorted(fam_count.items(), key=lambda kv: (-kv[1], kv[0])):
                where = (explain_medical(model, li, 1 if "role1" in fam else 2)
                         if fam.startswith("Medical-") else "")
                reasons.append(
                    BindingReason(
                        code=fam,
                        constraint=fam,
                        message=f"{FAMILY_WORDS[fam]} blocks {n} candidate start(s)"
                        + (f" ({where})" if where else ""),
                        count=n,
                        method=TIGHT_METHOD,
                    )
                )
            if unblocked:
                reasons.append(
                    BindingReason(
                        code="solver-gap",
                        message=f"{unblocked} candidate start(s) break no constraint: the solver "
                        "stopped before proving optimality (best plan so far)",
                        count=unblocked,
                        method=TIGHT_METHOD,
                    )
                )
            # ineligible pledges are part of the picture (secondary reasons)
            reasons.extend(r for r in _exclusion_reasons(model, li) if r.count > 0)
        if late_days.get(li):
            reasons.append(
                BindingReason(
                    code="readiness",
                    message=f"{late_days[li]:.0f} unit-day(s) late: units arrive after the required "
                    "day because of notice-to-move, activation and transit",
                    count=1,
                    method="Assign-count days late (arrival - required arrival)",
                )
            )
        first_short = (
            max(int(tb.line_start_day[li]), periods[0] * tb.period_days, 0) if periods else None
        )
        out.append(
            GapExplanation(
                requirement=tb.line_id[li],
                capability=tb.line_capability[li],
                place=tb.line_place[li],
                priority=tb.line_priority[li],
                shortfall_unit_periods=round(short_amt.get(li, 0.0), 4),
                shortfall_unit_days=round(short_days.get(li, 0.0), 2),
                late_unit_days=round(late_days.get(li, 0.0), 2),
                first_short_day=first_short,
                periods_short=periods,
                reasons=reasons,
            )
        )
    return out


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

    families = sorted(
        {r.constraint for g in gaps for r in g.reasons if r.constraint in BLOCKING_FAMILIES}
    )
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
                            "method": r.method
                            + f"; confirmed: without {r.constraint} the LP shortfall of this line "
                            f"falls from {before:.1f} to {after:.1f} unit-days"
                        }
                    )
                else:
                    r = r.model_copy(
                        update={"method": r.method + f"; relaxing {r.constraint} alone does not lower it"}
                    )
            reasons.append(r)
        out.append(g.model_copy(update={"reasons": reasons}))
    return out


def _relaxed_shortfalls(
    model: Model, families: list[str], lp_opts: PlanOptions
) -> dict[str, np.ndarray]:
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
    model: Model, values: np.ndarray, unit_lines: list[tuple[str, int]], options: PlanOptions,
    *, deadline: float | None = None,
) -> list[AssignmentExplanation]:
    """For each unit line (uln, column j): why this unit, and the eligible alternatives (not
    searched after ``deadline``, a ``time.perf_counter()`` value)."""
    import time

    tb = model.tables
    xb = model.var("Assign-count")
    assert model.cost is not None
    cost = model.cost[xb.start : xb.stop]
    probe = _Probe(model, values)
    x = values[xb.start : xb.stop]
    x_line = tb.arc_line[model.x_arc]
    x_pledge = tb.arc_pledge[model.x_arc]
    by_line_start: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j in range(xb.size):
        by_line_start[(int(x_line[j]), int(model.x_start[j]))].append(j)
    exclusions_by_line: dict[int, list] = defaultdict(list)
    for e in tb.exclusions:
        exclusions_by_line[e.line].append(e)
    arcs_by_line: dict[int, set[int]] = defaultdict(set)
    for a in range(tb.n_arcs):
        arcs_by_line[int(tb.arc_line[a])].add(int(tb.arc_pledge[a]))
    K = options.explain_alternatives
    cache: dict[int, list[Alternative]] = {}
    out = []
    for uln, j in unit_lines:
        li, s, p = int(x_line[j]), int(model.x_start[j]), int(x_pledge[j])
        late = int(model.x_late[j])
        w = int(model.x_win[j])
        spell = tb.pledge_spell_text[p] if tb.pledge_spell_text else ""
        why = (
            f"{tb.pledge_id[p]} ({tb.pledge_nation[p]}) is active on the days it relies on, "
            f"day {int(model.x_departure[j])} (departure) to day {int(model.x_tour_end[j])} "
            f"(tour end), inside its usable window to day "
            + ("open" if tb.win_end[w] >= 10**6 else str(int(tb.win_end[w])))
            + (f" ({spell})" if spell else "")
            + f"; its caveats allow {tb.hub_id[tb.arc_hub[model.x_arc[j]]]}; it arrives on day "
            f"{int(model.x_arrival[j])}"
            + (f", {late} day(s) late" if late else ", on time")
            + f"; cost {cost[j]:.2f} (lateness + distance)"
        )
        if j not in cache and deadline is not None and time.perf_counter() > deadline:
            cache[j] = []
        if j not in cache:
            alts: list[Alternative] = []
            same = by_line_start.get((li, s), [])
            seen = {p}
            for jj in sorted(same, key=lambda c: (cost[c], c)):
                q = int(x_pledge[jj])
                if q in seen:
                    continue
                seen.add(q)
                bl = probe.blockers(jj)
                if bl:
                    why_not = "; ".join(FAMILY_WORDS[b] + f" ({b})" for b in bl)
                    code = bl[0]
                elif x[jj] > 0.5:
                    why_not = "also used on this line in this period"
                    code = "used"
                elif cost[jj] > cost[j] + 1e-9:
                    why_not = f"costs more: {cost[jj]:.2f} vs {cost[j]:.2f} (later arrival or longer move)"
                    code = "costlier"
                else:
                    why_not = "equally good; not needed (tie broken by the solver)"
                    code = "not-needed"
                alts.append(Alternative(pledge=tb.pledge_id[q], nation=tb.pledge_nation[q], why_not=why_not, code=code))
                if len(alts) >= K:
                    break
            if len(alts) < K:
                for q in sorted(arcs_by_line[li] - seen):
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
                for e in exclusions_by_line.get(li, [])[: K - len(alts)]:
                    alts.append(Alternative(pledge=e.pledge_id, nation=e.nation, why_not=e.message, code=e.code))
            cache[j] = alts
        out.append(
            AssignmentExplanation(
                uln=uln, pledge=tb.pledge_id[p], requirement=tb.line_id[li], why=why, alternatives=cache[j]
            )
        )
    return out
