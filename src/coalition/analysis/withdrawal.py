"""Nation withdrawal: N-1, all N-2 pairs, the worst k nations (with proof), Shapley shares.

Read "attack" as "nation withdraws" (Brown, Carlyle, Salmerón & Wood 2006): the attacker picks
k nations, the defender (the planner) re-plans without them. Damage of a set S is measured in
the planner's own currency, the optimal objective ``f(S)`` of the plan without S (priority-
weighted shortfall >> lateness >> cohesion >> distance); each row also reports the change in
essential coverage and the lines that break.

**Worst-k, exactly.** ``f`` is monotone: withdrawing more can only shrink the feasible set.
And the baseline plan with S's units removed is still a feasible plan for the world without S
(capacities hold with fewer units; uncovered demand goes to ``Line-shortfall``), so its
objective ``g(S)`` is a valid upper bound, ``f(S) <= g(S)``, computed without a solve for every
k-set from the baseline plan (:class:`DropBound`). The search solves k-sets in decreasing ``g``
and stops when the next ``g`` is at most the best proven lower bound ``LB*`` (the MIP bound of
the best set so far): every unsolved set S has ``f(S) <= g(S) <= LB* <= f(S*)``. That is a
proof of optimality (up to the MIP gap of the solved sets, reported); if the solve budget runs
out first, the result is the interval ``[LB*, max g of the unsolved sets]``.

**Shortcut, also exact.** If nation n has no units in the plan without S, that plan is feasible
without S + {n}, and by monotonicity optimal: ``f(S + {n}) = f(S)`` with the same plan.

**Shapley.** ``phi_n`` = average over random orders of n's marginal contribution to essential
coverage, ``v(P + {n}) - v(P)``, where ``v(S)`` is the essential coverage % of the plan with only
the nations of S. Sampled over seeded random permutations; 95 % CI = mean +- 1.96 standard
errors of the marginals.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coalition.analysis.evaluate import DAYS, PlanDetail, PlannerEvaluator, SetHint
from coalition.analysis.sampling import World

SolveSets = Callable[[list[frozenset[str]], list[SetHint]], list[PlanDetail]]
#: Start plans handed to a set's solve: the plans of at most this many of its planned subsets
#: with one nation fewer (those with the highest objective first: the nearest worlds).
HINT_PLANS = 3


@dataclass
class Solved:
    """Every plan computed so far, by withdrawn set, with the exact shortcut applied; every
    solve gets its planned subsets' plans as starts and their best bound (:class:`SetHint`)."""

    solve: SolveSets
    plans: dict[frozenset[str], PlanDetail] = field(default_factory=dict)
    solves: int = 0
    shortcuts: int = 0
    start_proven: int = 0  # solves with nothing to solve (a subset's plan within the gap)
    stall: float | None = None  # each solve stops after this many seconds without a better plan

    def floor(self, s: frozenset[str]) -> float | None:
        """The highest solver bound of a planned proper subset of ``s``: a lower bound of
        ``f(s)`` by monotonicity (``f(s) >= f(t) >= bound(t)`` for ``t`` in ``s``)."""
        bounds = [d.bound for t, d in self.plans.items() if t < s and d.bound is not None]
        return max(bounds) if bounds else None

    def _shortcut(self, s: frozenset[str]) -> PlanDetail | None:
        """The best plan of a planned subset ``t`` of ``s`` that uses no unit of the nations of
        ``s - t``: a plan of the world without ``s`` too, and optimal there up to its gap
        (``f(t) <= f(s) <= its objective``); its bound is raised to :meth:`floor`."""
        fits = [
            (d.objective, sorted(t), d)
            for t, d in self.plans.items()
            if t < s and d.objective is not None and not (d.used & (s - t))
        ]
        if not fits:
            return None
        best = min(fits, key=lambda x: (x[0], x[1]))[2]
        fl = self.floor(s)
        bound = best.bound if fl is None or (best.bound is not None and best.bound >= fl) else fl
        assert best.objective is not None
        return dataclasses.replace(
            best,
            withdrawn=tuple(sorted(s)),
            bound=None if bound is None else min(bound, best.objective),
            how="shortcut",
            solve_seconds=0.0,
            cpu_seconds=0.0,
        )

    def hint(self, s: frozenset[str]) -> SetHint:
        """Starts and a floor for the solve of ``s`` from its planned subsets."""
        near: list[tuple[float, list[str], tuple[np.ndarray, np.ndarray]]] = [
            (d.objective, sorted(t), d.plan)
            for t, d in self.plans.items()
            if t < s and len(t) == len(s) - 1 and d.objective is not None and d.plan is not None
        ]
        near.sort(key=lambda x: (-x[0], x[1]))
        return SetHint(tuple(p for _o, _t, p in near[:HINT_PLANS]), self.floor(s), self.stall)

    def get(self, sets: Sequence[frozenset[str]]) -> list[PlanDetail]:
        todo: list[frozenset[str]] = []
        for s in sets:
            if s in self.plans or s in todo:
                continue
            d = self._shortcut(s)
            if d is not None:  # the same plan, labelled with its own withdrawn set
                self.plans[s] = d
                self.shortcuts += 1
            else:
                todo.append(s)
        if todo:
            for s, d in zip(todo, self.solve(todo, [self.hint(s) for s in todo]), strict=True):
                self.plans[s] = d
                self.start_proven += d.how == "start-proven"
            self.solves += len(todo)
        return [self.plans[s] for s in sets]


class DropBound:
    """g(S): the objective of the baseline plan with the units of S removed (a feasible plan
    for the world without S, so an upper bound on f(S)). Vectorised over sets."""

    def __init__(self, model: Any, values: np.ndarray, nations: Sequence[str]) -> None:
        tb = model.tables
        xb, ub = model.var("Assign-count"), model.var("Line-shortfall")
        x = values[xb.start : xb.stop]
        self.nations = list(nations)
        ix = {n: i for i, n in enumerate(self.nations)}
        n_u = ub.size
        line_row0 = np.full(tb.n_lines, -1, dtype=np.int64)
        for i, l_ in enumerate(model.u_line):
            if line_row0[l_] < 0:
                line_row0[l_] = i
        self.C = np.zeros((len(self.nations), n_u))
        cost = model.cost
        self.x_cost = np.zeros(len(self.nations))
        other = 0.0
        for j in np.flatnonzero(x > 1e-9):
            arc = model.x_arc[j]
            nation = tb.pledge_nation[int(tb.arc_pledge[arc])]
            line = int(tb.arc_line[arc])
            c = float(cost[xb.start + j]) * x[j]
            if nation not in ix:
                other += c
                continue
            k = ix[nation]
            self.x_cost[k] += c
            for t in range(int(model.x_start[j]), int(model.x_last[j]) + 1):
                self.C[k, line_row0[line] + (t - tb.line_first[line])] += x[j]
        self.u_cost = cost[ub.start : ub.stop]
        self.q = tb.line_qty[model.u_line].astype(float)
        bb = model.var("Hub-nation-present")
        self.b_cost = np.zeros(len(self.nations))
        if bb.size:
            bv = values[bb.start : bb.stop]
            for i, (_h, n) in enumerate(zip(model.b_hub, model.b_nation, strict=True)):
                name = tb.nations[int(n)]
                c = float(cost[bb.start + i]) * bv[i]
                if name in ix:
                    self.b_cost[ix[name]] += c
                else:
                    other += c
        self.other = other  # cost of the plan's parts outside the listed nations
        self.baseline = float(cost @ values)

    def of(self, s: frozenset[str]) -> float:
        keep = np.array([n not in s for n in self.nations])
        cover = (self.C[keep]).sum(axis=0)
        u = np.maximum(0.0, self.q - cover)
        return float(self.other + (self.u_cost * u).sum() + self.x_cost[keep].sum() + self.b_cost[keep].sum())


def _row(base: PlanDetail, d: PlanDetail, lines: Sequence[str]) -> dict[str, Any]:
    """A withdrawal row: {nations, delta_essential_coverage_pct, lines_broken, ...}."""
    broken = []
    for li, lid in enumerate(lines):
        days = [DAYS[j] for j in range(len(DAYS)) if base.fill[li, j] == 1 and d.fill[li, j] == 0]
        if days:
            broken.append({"line": lid, "days": days})
    gone = set(d.withdrawn)
    fill_in = []
    for lid, row in sorted(base.presence.items()):
        lost = sum(u for n, u in row.items() if n in gone)
        if lost <= 0:
            continue
        after = d.presence.get(lid, {})
        for n in sorted(after):
            inc = after[n] - row.get(n, 0.0)
            if n not in gone and inc > 0:
                fill_in.append({"line": lid, "nation": n, "units": inc})
    return {
        "nations": list(d.withdrawn),
        "delta_essential_coverage_pct": round(d.essential_coverage_pct - base.essential_coverage_pct, 3),
        "delta_coverage_pct": round(d.coverage_pct - base.coverage_pct, 3),
        "lines_broken": [b["line"] for b in broken],
        "lines_broken_days": broken,
        "fill_in": fill_in,
        "objective": None if d.objective is None else round(d.objective, 3),
        "bound": None if d.bound is None else round(d.bound, 3),
        "status": d.status,
        "how": d.how,
        "start_objective": None if d.start_objective is None else round(d.start_objective, 3),
        "solve_seconds": round(d.solve_seconds, 2),
        "cpu_seconds": round(d.cpu_seconds, 2),
    }


def worst_k(
    solved: Solved,
    nations: Sequence[str],
    k: int,
    bound: DropBound,
    *,
    batch: int = 4,
    max_solves: int = 400,
) -> dict[str, Any]:
    """The k nations whose withdrawal costs most, with a proof (or a valid interval)."""
    sets = [frozenset(c) for c in itertools.combinations(sorted(nations), k)]
    if not sets:
        return {"k": k, "nations": [], "proof": "no set of k pledging nations"}
    g = {s: bound.of(s) for s in sets}
    order = sorted(sets, key=lambda s: (-g[s], sorted(s)))
    best: frozenset[str] | None = None
    best_obj = -math.inf  # the objective of best (a solved plan is never replaced)
    best_lb = -math.inf
    start = solved.solves
    i = 0
    for s in order:  # already solved sets (e.g. all pairs) count at once
        plan = solved.plans.get(s)
        if plan is not None and plan.objective is not None:
            lb = plan.bound if plan.bound is not None else -math.inf  # an objective is no lower bound
            if best is None or plan.objective > best_obj:
                best, best_obj = s, plan.objective
            best_lb = max(best_lb, lb)
    while i < len(order):
        if g[order[i]] <= best_lb + 1e-6:
            break
        if solved.solves - start >= max_solves:
            break
        chunk = [s for s in order[i : i + batch] if g[s] > best_lb + 1e-6]
        for s, d in zip(chunk, solved.get(chunk), strict=True):
            if d.objective is None:
                continue
            lb = d.bound if d.bound is not None else -math.inf
            if best is None or d.objective > best_obj:
                best, best_obj = s, d.objective
            best_lb = max(best_lb, lb)
        i += batch
    remaining = [s for s in order[i:] if g[s] > best_lb + 1e-6]
    assert best is not None
    bd = solved.plans[best]
    gaps = [
        p.objective - (p.bound if p.bound is not None else -math.inf)
        for s, p in solved.plans.items()
        if len(s) == k and p.objective is not None
    ]
    # the worst k-set's true damage max_S f(S) lies in [best_lb, this]: a planned set's f is at
    # most its objective, an unplanned one's at most its drop bound g
    upper = max(
        [p.objective for s, p in solved.plans.items() if len(s) == k and p.objective is not None]
        + [g[s] for s in remaining]
    )
    n_solved = sum(1 for s in sets if s in solved.plans)
    if not remaining:
        proof = (
            f"every other set of {k} has damage at most its drop bound g(S) <= "
            f"{best_lb:.1f} <= f(worst); {n_solved} of {len(sets)} sets planned, the rest "
            "excluded by the bound"
        )
        status = "optimal"
    else:
        hi = max(g[s] for s in remaining)
        proof = (
            f"the worst objective lies in [{best_lb:.1f}, {max(hi, best_obj):.1f}]; "
            f"{len(remaining)} set(s) neither planned nor excluded (solve budget)"
        )
        status = "bound"
    return {
        "k": k,
        "status": status,
        "nations": sorted(best),
        "objective": bd.objective,
        "lower_bound": best_lb,
        "proof": proof,
        "sets": len(sets),
        "solved_for_worst_k": solved.solves - start,
        "max_mip_gap_abs": max(gaps) if gaps else 0.0,
        "upper_bound_unsolved": max((g[s] for s in remaining), default=None),
        "upper_bound": upper,
    }


def shapley(
    solved: Solved,
    players: Sequence[str],
    permutations: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Sampled Shapley shares of essential coverage with 95 % CIs (v(S): only S deploys)."""
    players = sorted(players)
    rng = np.random.default_rng(seed)
    perms = [list(rng.permutation(players)) for _ in range(permutations)]
    allp = frozenset(players)
    need: list[frozenset[str]] = []
    for p in perms:
        for i in range(len(p) + 1):
            s = allp - frozenset(p[:i])  # withdrawn = players not yet in the coalition
            if s not in need:
                need.append(s)
    # solve from the largest coalitions down (fewest withdrawn first) so shortcuts apply
    need.sort(key=lambda s: (len(s), sorted(s)))
    for size in sorted({len(s) for s in need}):
        solved.get([s for s in need if len(s) == size])
    marg: dict[str, list[float]] = {n: [] for n in players}
    for p in perms:
        for i, n in enumerate(p):
            without = solved.plans[allp - frozenset(p[:i])]
            with_n = solved.plans[allp - frozenset(p[: i + 1])]
            marg[n].append(with_n.essential_coverage_pct - without.essential_coverage_pct)
    out = []
    for n in players:
        m = np.array(marg[n])
        mean = float(m.mean())
        se = float(m.std(ddof=1) / math.sqrt(m.size)) if m.size > 1 else float("nan")
        out.append(
            {
                "nation": n,
                "shapley_essential_coverage_pct": round(mean, 3),
                "se": round(se, 3),
                "ci95": [round(mean - 1.96 * se, 3), round(mean + 1.96 * se, 3)],
                "permutations": int(m.size),
            }
        )
    return sorted(out, key=lambda r: -r["shapley_essential_coverage_pct"])


@dataclass(frozen=True)
class SearchBudget:
    """The worst-k search's budget: at most ``max_solves`` plans, solved ``batch`` at a time
    (the N-2 pairs all at once)."""

    max_solves: int = 400
    batch: int = 4
    stall_seconds: float | None = None  # see Solved.stall


DEFAULT_BUDGET = SearchBudget()


def withdrawal_analysis(
    evaluator: PlannerEvaluator,
    world: World,
    solve: SolveSets,
    *,
    k: int = 3,
    pairs: bool = True,
    shapley_permutations: int = 20,
    seed: int = 0,
    budget: SearchBudget = DEFAULT_BUDGET,
) -> dict[str, Any]:
    """N-1, all N-2 pairs, worst-k and Shapley for one world (the baseline)."""
    max_solves, batch = budget.max_solves, budget.batch
    ctx = evaluator.ctx
    inp = ctx.inputs(world)
    rm = evaluator.model_of(inp)
    base, res = evaluator.detail_and_solve(world)
    solved = Solved(solve, stall=budget.stall_seconds)
    solved.plans[frozenset()] = base
    # pledging nations: an active pledge with at least one column for this option
    m = rm.model
    tb = m.tables
    has_cols = {tb.pledge_nation[int(p)] for p in np.unique(tb.arc_pledge[m.x_arc])}
    nations = sorted(
        n for n in has_cols if any(ctx.pledge_nation[pid] == n and inp.units.get(pid, 0) > 0 for pid in inp.active_from)
    )
    singles = [frozenset([n]) for n in nations]
    n1 = solved.get(singles)
    rows1 = sorted(
        (_row(base, d, ctx.lines) for d in n1),
        key=lambda r: (r["delta_essential_coverage_pct"], -(r["objective"] or 0)),
    )
    rows2: list[dict[str, Any]] = []
    if pairs and len(nations) >= 2:
        two = [frozenset(c) for c in itertools.combinations(nations, 2)]
        # all at once (each pair's hint needs only the singles): no barrier between chunks
        solved.get(two)
        rows2 = sorted(
            (_row(base, solved.plans[s], ctx.lines) for s in two),
            key=lambda r: (r["delta_essential_coverage_pct"], -(r["objective"] or 0)),
        )
    assert res.model is not None and res.values is not None
    bound = DropBound(res.model, res.values, nations)
    worst: dict[str, Any] = (
        worst_k(solved, nations, min(k, len(nations)), bound, batch=batch, max_solves=max_solves)
        if nations
        else {"k": k, "nations": []}
    )
    if worst.get("nations"):
        worst["row"] = _row(base, solved.plans[frozenset(worst["nations"])], ctx.lines)
    shap = shapley(solved, nations, shapley_permutations, seed) if (nations and shapley_permutations) else []
    return {
        "baseline": {
            "essential_coverage_pct": round(base.essential_coverage_pct, 3),
            "coverage_pct": round(base.coverage_pct, 3),
            "objective": base.objective,
            "status": base.status,
        },
        "nations": nations,
        "n_1": rows1,
        "n_2": rows2,
        "worst_k": worst,
        "shapley": shap,
        "solves": solved.solves,
        "shortcuts": solved.shortcuts,
        "start_proven": solved.start_proven,
    }
